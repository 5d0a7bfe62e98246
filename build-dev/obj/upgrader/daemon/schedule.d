build-dev/obj/upgrader/daemon/schedule.o: upgrader/daemon/schedule.c \
 upgrader/daemon/schedule.h upgrader/lang/delay.h common/error.h \
 upgrader/lang/paramdefs.h common/buf.h
upgrader/daemon/schedule.h:
upgrader/lang/delay.h:
common/error.h:
upgrader/lang/paramdefs.h:
common/buf.h:
