build-dev/obj/upgrader/daemon/worker.o: upgrader/daemon/worker.c \
 upgrader/daemon/worker.h common/buf.h common/error.h common/log.h \
 upgrader/daemon/jobs.h upgrader/daemon/loop.h upgrader/net/fetch.h \
 upgrader/net/url.h upgrader/session/session.h bootctl/bootstate.h \
 upgrader/device/devconf.h upgrader/device/folder.h \
 upgrader/device/device.h upgrader/lang/macro.h upgrader/lang/params.h \
 upgrader/lang/paramdefs.h upgrader/lang/profile.h upgrader/lang/rule.h \
 upgrader/upgrade/upgrade_state.h upgrader/lang/delay.h \
 upgrader/resync/factory_reset.h upgrader/resync/report.h \
 upgrader/resync/resync.h upgrader/resync/provstate.h \
 upgrader/resync/resync_state.h upgrader/upgrade/upgrade.h
upgrader/daemon/worker.h:
common/buf.h:
common/error.h:
common/log.h:
upgrader/daemon/jobs.h:
upgrader/daemon/loop.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
upgrader/session/session.h:
bootctl/bootstate.h:
upgrader/device/devconf.h:
upgrader/device/folder.h:
upgrader/device/device.h:
upgrader/lang/macro.h:
upgrader/lang/params.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/lang/rule.h:
upgrader/upgrade/upgrade_state.h:
upgrader/lang/delay.h:
upgrader/resync/factory_reset.h:
upgrader/resync/report.h:
upgrader/resync/resync.h:
upgrader/resync/provstate.h:
upgrader/resync/resync_state.h:
upgrader/upgrade/upgrade.h:
