build-dev/obj/upgrader/cmd/signals.o: upgrader/cmd/signals.c \
 upgrader/cmd/signals.h upgrader/session/session.h bootctl/bootstate.h \
 common/error.h common/log.h upgrader/device/devconf.h \
 upgrader/device/folder.h upgrader/device/device.h upgrader/lang/macro.h \
 common/buf.h upgrader/lang/params.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h upgrader/lang/rule.h upgrader/net/fetch.h \
 upgrader/net/url.h
upgrader/cmd/signals.h:
upgrader/session/session.h:
bootctl/bootstate.h:
common/error.h:
common/log.h:
upgrader/device/devconf.h:
upgrader/device/folder.h:
upgrader/device/device.h:
upgrader/lang/macro.h:
common/buf.h:
upgrader/lang/params.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/lang/rule.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
