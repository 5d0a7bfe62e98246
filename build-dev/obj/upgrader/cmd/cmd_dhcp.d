build-dev/obj/upgrader/cmd/cmd_dhcp.o: upgrader/cmd/cmd_dhcp.c \
 upgrader/cmd/commands.h common/error.h upgrader/resync/dhcp.h \
 upgrader/device/folder.h upgrader/lang/rule.h common/buf.h \
 upgrader/lang/macro.h upgrader/device/device.h \
 upgrader/session/session.h bootctl/bootstate.h common/log.h \
 upgrader/device/devconf.h upgrader/lang/params.h \
 upgrader/lang/paramdefs.h upgrader/lang/profile.h upgrader/net/fetch.h \
 upgrader/net/url.h
upgrader/cmd/commands.h:
common/error.h:
upgrader/resync/dhcp.h:
upgrader/device/folder.h:
upgrader/lang/rule.h:
common/buf.h:
upgrader/lang/macro.h:
upgrader/device/device.h:
upgrader/session/session.h:
bootctl/bootstate.h:
common/log.h:
upgrader/device/devconf.h:
upgrader/lang/params.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
