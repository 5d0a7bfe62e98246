build-dev/obj/upgrader/daemon/sip.o: upgrader/daemon/sip.c \
 upgrader/daemon/sip.h common/error.h common/log.h upgrader/daemon/loop.h \
 upgrader/net/fetch.h common/buf.h upgrader/net/url.h common/jsonfile.h
upgrader/daemon/sip.h:
common/error.h:
common/log.h:
upgrader/daemon/loop.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
common/jsonfile.h:
