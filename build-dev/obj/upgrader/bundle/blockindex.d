build-dev/obj/upgrader/bundle/blockindex.o: upgrader/bundle/blockindex.c \
 upgrader/bundle/blockindex.h upgrader/bundle/manifest.h \
 upgrader/bundle/decompress.h common/error.h
upgrader/bundle/blockindex.h:
upgrader/bundle/manifest.h:
upgrader/bundle/decompress.h:
common/error.h:
