build-dev/obj/upgrader/lang/delay.o: upgrader/lang/delay.c \
 upgrader/lang/delay.h common/error.h
upgrader/lang/delay.h:
common/error.h:
