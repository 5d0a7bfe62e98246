build-dev/obj/upgrader/resync/resync.o: upgrader/resync/resync.c \
 upgrader/resync/resync.h common/buf.h common/error.h \
 upgrader/net/fetch.h upgrader/net/url.h upgrader/resync/provstate.h \
 upgrader/resync/resync_state.h upgrader/lang/params.h \
 upgrader/device/folder.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h upgrader/session/session.h bootctl/bootstate.h \
 common/log.h upgrader/device/devconf.h upgrader/device/device.h \
 upgrader/lang/macro.h upgrader/lang/rule.h common/fsutil.h common/lock.h \
 upgrader/net/syslog_udp.h upgrader/resync/dhcp.h
upgrader/resync/resync.h:
common/buf.h:
common/error.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
upgrader/resync/provstate.h:
upgrader/resync/resync_state.h:
upgrader/lang/params.h:
upgrader/device/folder.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/session/session.h:
bootctl/bootstate.h:
common/log.h:
upgrader/device/devconf.h:
upgrader/device/device.h:
upgrader/lang/macro.h:
upgrader/lang/rule.h:
common/fsutil.h:
common/lock.h:
upgrader/net/syslog_udp.h:
upgrader/resync/dhcp.h:
