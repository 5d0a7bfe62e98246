build-dev/obj/upgrader/lang/params.o: upgrader/lang/params.c \
 upgrader/lang/params.h common/buf.h common/error.h \
 upgrader/device/folder.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h common/fsutil.h common/lock.h \
 upgrader/lang/rule.h upgrader/lang/macro.h upgrader/device/device.h
upgrader/lang/params.h:
common/buf.h:
common/error.h:
upgrader/device/folder.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
common/fsutil.h:
common/lock.h:
upgrader/lang/rule.h:
upgrader/lang/macro.h:
upgrader/device/device.h:
