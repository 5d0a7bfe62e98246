build-dev/obj/upgrader/session/state_macros.o: \
 upgrader/session/state_macros.c upgrader/session/state_macros.h \
 common/error.h upgrader/lang/macro.h common/buf.h \
 upgrader/device/device.h upgrader/device/folder.h \
 upgrader/session/session.h bootctl/bootstate.h common/log.h \
 upgrader/device/devconf.h upgrader/lang/params.h \
 upgrader/lang/paramdefs.h upgrader/lang/profile.h upgrader/lang/rule.h \
 upgrader/net/fetch.h upgrader/net/url.h common/jsonfile.h
upgrader/session/state_macros.h:
common/error.h:
upgrader/lang/macro.h:
common/buf.h:
upgrader/device/device.h:
upgrader/device/folder.h:
upgrader/session/session.h:
bootctl/bootstate.h:
common/log.h:
upgrader/device/devconf.h:
upgrader/lang/params.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/lang/rule.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
common/jsonfile.h:
