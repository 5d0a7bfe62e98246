build-dev/obj/upgrader/resync/provstate.o: upgrader/resync/provstate.c \
 upgrader/resync/provstate.h common/error.h
upgrader/resync/provstate.h:
common/error.h:
