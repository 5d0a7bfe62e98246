build-dev/obj/upgrader/lang/paramdefs.o: upgrader/lang/paramdefs.c \
 upgrader/lang/paramdefs.h common/buf.h common/error.h common/fsutil.h \
 common/version.h upgrader/lang/cond.h upgrader/lang/macro.h \
 upgrader/device/device.h upgrader/device/folder.h upgrader/lang/delay.h \
 upgrader/lang/rule.h
upgrader/lang/paramdefs.h:
common/buf.h:
common/error.h:
common/fsutil.h:
common/version.h:
upgrader/lang/cond.h:
upgrader/lang/macro.h:
upgrader/device/device.h:
upgrader/device/folder.h:
upgrader/lang/delay.h:
upgrader/lang/rule.h:
