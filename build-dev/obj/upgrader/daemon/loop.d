build-dev/obj/upgrader/daemon/loop.o: upgrader/daemon/loop.c \
 upgrader/daemon/loop.h common/error.h upgrader/net/fetch.h common/buf.h \
 upgrader/net/url.h upgrader/net/fetch_loop.h
upgrader/daemon/loop.h:
common/error.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
upgrader/net/fetch_loop.h:
