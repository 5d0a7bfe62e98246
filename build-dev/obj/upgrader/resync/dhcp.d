build-dev/obj/upgrader/resync/dhcp.o: upgrader/resync/dhcp.c \
 upgrader/resync/dhcp.h common/error.h upgrader/device/folder.h \
 upgrader/lang/rule.h common/buf.h upgrader/lang/macro.h \
 upgrader/device/device.h common/fsutil.h common/jsonfile.h
upgrader/resync/dhcp.h:
common/error.h:
upgrader/device/folder.h:
upgrader/lang/rule.h:
common/buf.h:
upgrader/lang/macro.h:
upgrader/device/device.h:
common/fsutil.h:
common/jsonfile.h:
