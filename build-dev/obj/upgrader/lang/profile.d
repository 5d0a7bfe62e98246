build-dev/obj/upgrader/lang/profile.o: upgrader/lang/profile.c \
 upgrader/lang/profile.h common/buf.h common/error.h \
 upgrader/lang/crypt.h upgrader/lang/paramdefs.h
upgrader/lang/profile.h:
common/buf.h:
common/error.h:
upgrader/lang/crypt.h:
upgrader/lang/paramdefs.h:
