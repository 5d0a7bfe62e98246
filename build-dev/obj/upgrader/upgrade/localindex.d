build-dev/obj/upgrader/upgrade/localindex.o: \
 upgrader/upgrade/localindex.c upgrader/upgrade/localindex.h \
 common/error.h upgrader/upgrade/slots/slot.h \
 upgrader/bundle/blockindex.h upgrader/bundle/manifest.h \
 upgrader/bundle/decompress.h common/fsutil.h common/buf.h
upgrader/upgrade/localindex.h:
common/error.h:
upgrader/upgrade/slots/slot.h:
upgrader/bundle/blockindex.h:
upgrader/bundle/manifest.h:
upgrader/bundle/decompress.h:
common/fsutil.h:
common/buf.h:
