build-dev/obj/upgrader/bundle/decompress.o: upgrader/bundle/decompress.c \
 upgrader/bundle/decompress.h common/error.h
upgrader/bundle/decompress.h:
common/error.h:
