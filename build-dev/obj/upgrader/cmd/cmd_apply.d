build-dev/obj/upgrader/cmd/cmd_apply.o: upgrader/cmd/cmd_apply.c \
 upgrader/cmd/commands.h common/error.h common/fsutil.h common/buf.h \
 upgrader/lang/profile.h upgrader/session/session.h bootctl/bootstate.h \
 common/log.h upgrader/device/devconf.h upgrader/device/folder.h \
 upgrader/device/device.h upgrader/lang/macro.h upgrader/lang/params.h \
 upgrader/lang/paramdefs.h upgrader/lang/rule.h upgrader/net/fetch.h \
 upgrader/net/url.h
upgrader/cmd/commands.h:
common/error.h:
common/fsutil.h:
common/buf.h:
upgrader/lang/profile.h:
upgrader/session/session.h:
bootctl/bootstate.h:
common/log.h:
upgrader/device/devconf.h:
upgrader/device/folder.h:
upgrader/device/device.h:
upgrader/lang/macro.h:
upgrader/lang/params.h:
upgrader/lang/paramdefs.h:
upgrader/lang/rule.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
