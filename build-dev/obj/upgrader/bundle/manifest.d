build-dev/obj/upgrader/bundle/manifest.o: upgrader/bundle/manifest.c \
 upgrader/bundle/manifest.h upgrader/bundle/decompress.h common/error.h \
 bootctl/bootstate.h upgrader/bundle/blockindex.h common/hex.h \
 common/version.h
upgrader/bundle/manifest.h:
upgrader/bundle/decompress.h:
common/error.h:
bootctl/bootstate.h:
upgrader/bundle/blockindex.h:
common/hex.h:
common/version.h:
