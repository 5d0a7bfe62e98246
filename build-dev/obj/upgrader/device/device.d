build-dev/obj/upgrader/device/device.o: upgrader/device/device.c \
 upgrader/device/device.h common/error.h upgrader/device/folder.h \
 common/buf.h common/fsutil.h
upgrader/device/device.h:
common/error.h:
upgrader/device/folder.h:
common/buf.h:
common/fsutil.h:
