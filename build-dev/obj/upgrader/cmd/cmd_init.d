build-dev/obj/upgrader/cmd/cmd_init.o: upgrader/cmd/cmd_init.c \
 bootctl/bootstate.h common/error.h upgrader/bundle/sign.h common/buf.h \
 upgrader/cmd/commands.h common/fsutil.h common/units.h \
 upgrader/device/devconf.h upgrader/device/folder.h \
 upgrader/device/device.h upgrader/lang/params.h \
 upgrader/lang/paramdefs.h upgrader/lang/profile.h
bootctl/bootstate.h:
common/error.h:
upgrader/bundle/sign.h:
common/buf.h:
upgrader/cmd/commands.h:
common/fsutil.h:
common/units.h:
upgrader/device/devconf.h:
upgrader/device/folder.h:
upgrader/device/device.h:
upgrader/lang/params.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
