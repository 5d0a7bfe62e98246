build-dev/obj/upgrader/resync/factory_reset.o: \
 upgrader/resync/factory_reset.c upgrader/resync/factory_reset.h \
 common/error.h upgrader/session/session.h bootctl/bootstate.h \
 common/log.h upgrader/device/devconf.h upgrader/device/folder.h \
 upgrader/device/device.h upgrader/lang/macro.h common/buf.h \
 upgrader/lang/params.h upgrader/lang/paramdefs.h upgrader/lang/profile.h \
 upgrader/lang/rule.h upgrader/net/fetch.h upgrader/net/url.h \
 common/fsutil.h common/lock.h upgrader/resync/resync_state.h \
 upgrader/resync/provstate.h
upgrader/resync/factory_reset.h:
common/error.h:
upgrader/session/session.h:
bootctl/bootstate.h:
common/log.h:
upgrader/device/devconf.h:
upgrader/device/folder.h:
upgrader/device/device.h:
upgrader/lang/macro.h:
common/buf.h:
upgrader/lang/params.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/lang/rule.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
common/fsutil.h:
common/lock.h:
upgrader/resync/resync_state.h:
upgrader/resync/provstate.h:
