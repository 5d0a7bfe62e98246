build-dev/obj/upgrader/bundle/payload.o: upgrader/bundle/payload.c \
 upgrader/bundle/payload.h upgrader/bundle/manifest.h \
 upgrader/bundle/decompress.h common/error.h
upgrader/bundle/payload.h:
upgrader/bundle/manifest.h:
upgrader/bundle/decompress.h:
common/error.h:
