build-dev/obj/upgrader/bundle/pack.o: upgrader/bundle/pack.c \
 upgrader/bundle/pack.h upgrader/bundle/decompress.h common/error.h \
 upgrader/bundle/blockindex.h upgrader/bundle/manifest.h \
 upgrader/bundle/bundle.h upgrader/bundle/sign.h common/buf.h \
 common/fsutil.h common/hex.h common/version.h
upgrader/bundle/pack.h:
upgrader/bundle/decompress.h:
common/error.h:
upgrader/bundle/blockindex.h:
upgrader/bundle/manifest.h:
upgrader/bundle/bundle.h:
upgrader/bundle/sign.h:
common/buf.h:
common/fsutil.h:
common/hex.h:
common/version.h:
