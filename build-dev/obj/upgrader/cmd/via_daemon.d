build-dev/obj/upgrader/cmd/via_daemon.o: upgrader/cmd/via_daemon.c \
 upgrader/cmd/via_daemon.h common/error.h common/jsonfile.h \
 upgrader/daemon/control.h upgrader/daemon/loop.h upgrader/net/fetch.h \
 common/buf.h upgrader/net/url.h upgrader/device/folder.h
upgrader/cmd/via_daemon.h:
common/error.h:
common/jsonfile.h:
upgrader/daemon/control.h:
upgrader/daemon/loop.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
upgrader/device/folder.h:
