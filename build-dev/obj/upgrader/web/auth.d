build-dev/obj/upgrader/web/auth.o: upgrader/web/auth.c \
 upgrader/web/auth.h upgrader/lang/params.h common/buf.h common/error.h \
 upgrader/device/folder.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h common/hex.h
upgrader/web/auth.h:
upgrader/lang/params.h:
common/buf.h:
common/error.h:
upgrader/device/folder.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
common/hex.h:
