build-dev/obj/upgrader/upgrade/slots/readback.o: \
 upgrader/upgrade/slots/readback.c upgrader/upgrade/slots/readback.h \
 upgrader/bundle/manifest.h upgrader/bundle/decompress.h common/error.h \
 upgrader/upgrade/slots/slot.h
upgrader/upgrade/slots/readback.h:
upgrader/bundle/manifest.h:
upgrader/bundle/decompress.h:
common/error.h:
upgrader/upgrade/slots/slot.h:
