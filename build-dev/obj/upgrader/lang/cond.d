build-dev/obj/upgrader/lang/cond.o: upgrader/lang/cond.c \
 upgrader/lang/cond.h common/error.h upgrader/lang/macro.h common/buf.h \
 upgrader/device/device.h upgrader/device/folder.h common/version.h
upgrader/lang/cond.h:
common/error.h:
upgrader/lang/macro.h:
common/buf.h:
upgrader/device/device.h:
upgrader/device/folder.h:
common/version.h:
