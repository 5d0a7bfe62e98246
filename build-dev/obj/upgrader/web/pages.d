build-dev/obj/upgrader/web/pages.o: upgrader/web/pages.c \
 upgrader/web/pages.h common/buf.h common/error.h upgrader/lang/params.h \
 upgrader/device/folder.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h upgrader/web/form.h common/jsonfile.h
upgrader/web/pages.h:
common/buf.h:
common/error.h:
upgrader/lang/params.h:
upgrader/device/folder.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/web/form.h:
common/jsonfile.h:
