build-dev/obj/upgrader/device/devconf.o: upgrader/device/devconf.c \
 upgrader/device/devconf.h bootctl/bootstate.h common/error.h \
 upgrader/device/folder.h common/blockdev.h common/buf.h common/fsutil.h
upgrader/device/devconf.h:
bootctl/bootstate.h:
common/error.h:
upgrader/device/folder.h:
common/blockdev.h:
common/buf.h:
common/fsutil.h:
