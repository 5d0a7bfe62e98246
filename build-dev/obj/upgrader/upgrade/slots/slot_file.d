build-dev/obj/upgrader/upgrade/slots/slot_file.o: \
 upgrader/upgrade/slots/slot_file.c upgrader/upgrade/slots/slot.h \
 common/error.h upgrader/upgrade/slots/slot_fd.h
upgrader/upgrade/slots/slot.h:
common/error.h:
upgrader/upgrade/slots/slot_fd.h:
