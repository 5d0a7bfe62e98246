build-dev/obj/upgrader/cmd/cmd_upgrade.o: upgrader/cmd/cmd_upgrade.c \
 upgrader/cmd/commands.h common/error.h upgrader/cmd/signals.h \
 upgrader/session/session.h bootctl/bootstate.h common/log.h \
 upgrader/device/devconf.h upgrader/device/folder.h \
 upgrader/device/device.h upgrader/lang/macro.h common/buf.h \
 upgrader/lang/params.h upgrader/lang/paramdefs.h upgrader/lang/profile.h \
 upgrader/lang/rule.h upgrader/net/fetch.h upgrader/net/url.h \
 upgrader/cmd/via_daemon.h common/jsonfile.h upgrader/upgrade/upgrade.h \
 upgrader/upgrade/upgrade_state.h upgrader/lang/delay.h
upgrader/cmd/commands.h:
common/error.h:
upgrader/cmd/signals.h:
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
upgrader/cmd/via_daemon.h:
common/jsonfile.h:
upgrader/upgrade/upgrade.h:
upgrader/upgrade/upgrade_state.h:
upgrader/lang/delay.h:
