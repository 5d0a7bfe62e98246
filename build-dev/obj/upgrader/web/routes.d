build-dev/obj/upgrader/web/routes.o: upgrader/web/routes.c \
 upgrader/web/routes.h common/error.h upgrader/daemon/jobs.h \
 upgrader/lang/paramdefs.h common/buf.h upgrader/lang/rule.h \
 upgrader/lang/macro.h upgrader/device/device.h upgrader/device/folder.h \
 upgrader/web/form.h
upgrader/web/routes.h:
common/error.h:
upgrader/daemon/jobs.h:
upgrader/lang/paramdefs.h:
common/buf.h:
upgrader/lang/rule.h:
upgrader/lang/macro.h:
upgrader/device/device.h:
upgrader/device/folder.h:
upgrader/web/form.h:
