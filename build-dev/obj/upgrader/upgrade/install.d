build-dev/obj/upgrader/upgrade/install.o: upgrader/upgrade/install.c \
 upgrader/upgrade/install.h common/error.h upgrader/net/fetch.h \
 common/buf.h upgrader/net/url.h upgrader/bundle/bundle.h \
 upgrader/bundle/manifest.h upgrader/bundle/decompress.h \
 upgrader/bundle/payload.h common/fsutil.h common/hex.h common/jsonfile.h \
 common/version.h upgrader/net/cpusplit.h upgrader/upgrade/install_int.h \
 upgrader/upgrade/slots/slot.h upgrader/upgrade/slots/readback.h
upgrader/upgrade/install.h:
common/error.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
upgrader/bundle/bundle.h:
upgrader/bundle/manifest.h:
upgrader/bundle/decompress.h:
upgrader/bundle/payload.h:
common/fsutil.h:
common/hex.h:
common/jsonfile.h:
common/version.h:
upgrader/net/cpusplit.h:
upgrader/upgrade/install_int.h:
upgrader/upgrade/slots/slot.h:
upgrader/upgrade/slots/readback.h:
