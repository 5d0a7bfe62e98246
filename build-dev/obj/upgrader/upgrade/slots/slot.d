build-dev/obj/upgrader/upgrade/slots/slot.o: \
 upgrader/upgrade/slots/slot.c upgrader/upgrade/slots/slot.h \
 common/error.h
upgrader/upgrade/slots/slot.h:
common/error.h:
