build-dev/obj/upgrader/upgrade/slots/slot_block.o: \
 upgrader/upgrade/slots/slot_block.c upgrader/upgrade/slots/slot.h \
 common/error.h common/blockdev.h upgrader/upgrade/slots/slot_fd.h
upgrader/upgrade/slots/slot.h:
common/error.h:
common/blockdev.h:
upgrader/upgrade/slots/slot_fd.h:
