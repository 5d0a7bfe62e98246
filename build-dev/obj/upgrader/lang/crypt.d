build-dev/obj/upgrader/lang/crypt.o: upgrader/lang/crypt.c \
 upgrader/lang/crypt.h common/buf.h common/error.h
upgrader/lang/crypt.h:
common/buf.h:
common/error.h:
