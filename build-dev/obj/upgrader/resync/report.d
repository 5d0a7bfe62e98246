build-dev/obj/upgrader/resync/report.o: upgrader/resync/report.c \
 upgrader/resync/report.h common/error.h upgrader/net/fetch.h \
 common/buf.h upgrader/net/url.h upgrader/session/session.h \
 bootctl/bootstate.h common/log.h upgrader/device/devconf.h \
 upgrader/device/folder.h upgrader/device/device.h upgrader/lang/macro.h \
 upgrader/lang/params.h upgrader/lang/paramdefs.h upgrader/lang/profile.h \
 upgrader/lang/rule.h upgrader/lang/crypt.h
upgrader/resync/report.h:
common/error.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
upgrader/session/session.h:
bootctl/bootstate.h:
common/log.h:
upgrader/device/devconf.h:
upgrader/device/folder.h:
upgrader/device/device.h:
upgrader/lang/macro.h:
upgrader/lang/params.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/lang/rule.h:
upgrader/lang/crypt.h:
