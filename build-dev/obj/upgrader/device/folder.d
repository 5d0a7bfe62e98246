build-dev/obj/upgrader/device/folder.o: upgrader/device/folder.c \
 upgrader/device/folder.h common/error.h
upgrader/device/folder.h:
common/error.h:
