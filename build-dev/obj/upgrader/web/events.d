build-dev/obj/upgrader/web/events.o: upgrader/web/events.c \
 upgrader/web/events.h common/error.h common/jsonfile.h
upgrader/web/events.h:
common/error.h:
common/jsonfile.h:
