build-dev/obj/upgrader/session/session.o: upgrader/session/session.c \
 upgrader/session/session.h bootctl/bootstate.h common/error.h \
 common/log.h upgrader/device/devconf.h upgrader/device/folder.h \
 upgrader/device/device.h upgrader/lang/macro.h common/buf.h \
 upgrader/lang/params.h upgrader/lang/paramdefs.h upgrader/lang/profile.h \
 upgrader/lang/rule.h upgrader/net/fetch.h upgrader/net/url.h \
 common/fsutil.h upgrader/device/call.h upgrader/net/syslog_udp.h \
 upgrader/session/state_macros.h
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
common/fsutil.h:
upgrader/device/call.h:
upgrader/net/syslog_udp.h:
upgrader/session/state_macros.h:
