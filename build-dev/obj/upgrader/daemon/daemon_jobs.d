build-dev/obj/upgrader/daemon/daemon_jobs.o: \
 upgrader/daemon/daemon_jobs.c upgrader/daemon/daemon_int.h \
 common/error.h common/log.h upgrader/daemon/control.h \
 upgrader/daemon/loop.h upgrader/net/fetch.h common/buf.h \
 upgrader/net/url.h upgrader/daemon/daemon.h upgrader/daemon/jobs.h \
 upgrader/daemon/schedule.h upgrader/lang/delay.h upgrader/daemon/sip.h \
 upgrader/daemon/worker.h upgrader/session/session.h bootctl/bootstate.h \
 upgrader/device/devconf.h upgrader/device/folder.h \
 upgrader/device/device.h upgrader/lang/macro.h upgrader/lang/params.h \
 upgrader/lang/paramdefs.h upgrader/lang/profile.h upgrader/lang/rule.h \
 upgrader/upgrade/upgrade_state.h common/jsonfile.h upgrader/web/web.h \
 upgrader/web/handler.h upgrader/web/auth.h
upgrader/daemon/daemon_int.h:
common/error.h:
common/log.h:
upgrader/daemon/control.h:
upgrader/daemon/loop.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
upgrader/daemon/daemon.h:
upgrader/daemon/jobs.h:
upgrader/daemon/schedule.h:
upgrader/lang/delay.h:
upgrader/daemon/sip.h:
upgrader/daemon/worker.h:
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
common/jsonfile.h:
upgrader/web/web.h:
upgrader/web/handler.h:
upgrader/web/auth.h:
