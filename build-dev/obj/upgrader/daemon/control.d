build-dev/obj/upgrader/daemon/control.o: upgrader/daemon/control.c \
 upgrader/daemon/control.h common/error.h upgrader/daemon/loop.h \
 upgrader/net/fetch.h common/buf.h upgrader/net/url.h
upgrader/daemon/control.h:
common/error.h:
upgrader/daemon/loop.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
