build-dev/obj/upgrader/lang/rule.o: upgrader/lang/rule.c \
 upgrader/lang/rule.h common/buf.h common/error.h upgrader/lang/macro.h \
 upgrader/device/device.h upgrader/device/folder.h upgrader/lang/cond.h \
 upgrader/net/url.h
upgrader/lang/rule.h:
common/buf.h:
common/error.h:
upgrader/lang/macro.h:
upgrader/device/device.h:
upgrader/device/folder.h:
upgrader/lang/cond.h:
upgrader/net/url.h:
