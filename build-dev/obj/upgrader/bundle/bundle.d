build-dev/obj/upgrader/bundle/bundle.o: upgrader/bundle/bundle.c \
 upgrader/bundle/bundle.h upgrader/bundle/manifest.h \
 upgrader/bundle/decompress.h common/error.h upgrader/bundle/payload.h \
 upgrader/bundle/sign.h common/buf.h common/version.h
upgrader/bundle/bundle.h:
upgrader/bundle/manifest.h:
upgrader/bundle/decompress.h:
common/error.h:
upgrader/bundle/payload.h:
upgrader/bundle/sign.h:
common/buf.h:
common/version.h:
