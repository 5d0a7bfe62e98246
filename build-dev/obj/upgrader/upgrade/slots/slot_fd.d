build-dev/obj/upgrader/upgrade/slots/slot_fd.o: \
 upgrader/upgrade/slots/slot_fd.c upgrader/upgrade/slots/slot_fd.h \
 common/error.h
upgrader/upgrade/slots/slot_fd.h:
common/error.h:
