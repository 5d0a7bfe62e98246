build-dev/obj/upgrader/device/call.o: upgrader/device/call.c \
 upgrader/device/call.h common/error.h upgrader/device/folder.h \
 common/buf.h common/fsutil.h common/lock.h
upgrader/device/call.h:
common/error.h:
upgrader/device/folder.h:
common/buf.h:
common/fsutil.h:
common/lock.h:
