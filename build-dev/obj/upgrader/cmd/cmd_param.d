build-dev/obj/upgrader/cmd/cmd_param.o: upgrader/cmd/cmd_param.c \
 upgrader/cmd/commands.h common/error.h common/cli.h \
 upgrader/session/session.h bootctl/bootstate.h common/log.h \
 upgrader/device/devconf.h upgrader/device/folder.h \
 upgrader/device/device.h upgrader/lang/macro.h common/buf.h \
 upgrader/lang/params.h upgrader/lang/paramdefs.h upgrader/lang/profile.h \
 upgrader/lang/rule.h upgrader/net/fetch.h upgrader/net/url.h
upgrader/cmd/commands.h:
common/error.h:
common/cli.h:
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
