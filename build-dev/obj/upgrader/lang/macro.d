build-dev/obj/upgrader/lang/macro.o: upgrader/lang/macro.c \
 upgrader/lang/macro.h common/buf.h common/error.h \
 upgrader/device/device.h upgrader/device/folder.h
upgrader/lang/macro.h:
common/buf.h:
common/error.h:
upgrader/device/device.h:
upgrader/device/folder.h:
