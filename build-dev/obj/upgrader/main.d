build-dev/obj/upgrader/main.o: upgrader/main.c upgrader/cmd/commands.h \
 common/error.h common/cli.h upgrader/device/device.h \
 upgrader/device/folder.h
upgrader/cmd/commands.h:
common/error.h:
common/cli.h:
upgrader/device/device.h:
upgrader/device/folder.h:
