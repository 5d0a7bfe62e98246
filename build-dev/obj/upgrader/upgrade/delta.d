build-dev/obj/upgrader/upgrade/delta.o: upgrader/upgrade/delta.c \
 upgrader/bundle/blockindex.h upgrader/bundle/manifest.h \
 upgrader/bundle/decompress.h common/error.h upgrader/bundle/bundle.h \
 common/hex.h common/jsonfile.h upgrader/net/multipart.h \
 upgrader/net/url.h upgrader/upgrade/install_int.h \
 upgrader/net/cpusplit.h upgrader/upgrade/install.h upgrader/net/fetch.h \
 common/buf.h upgrader/upgrade/slots/slot.h upgrader/upgrade/localindex.h \
 upgrader/upgrade/slots/readback.h
upgrader/bundle/blockindex.h:
upgrader/bundle/manifest.h:
upgrader/bundle/decompress.h:
common/error.h:
upgrader/bundle/bundle.h:
common/hex.h:
common/jsonfile.h:
upgrader/net/multipart.h:
upgrader/net/url.h:
upgrader/upgrade/install_int.h:
upgrader/net/cpusplit.h:
upgrader/upgrade/install.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/upgrade/slots/slot.h:
upgrader/upgrade/localindex.h:
upgrader/upgrade/slots/readback.h:
