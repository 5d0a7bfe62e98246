build-dev/obj/upgrader/upgrade/pass.o: upgrader/upgrade/pass.c \
 upgrader/upgrade/pass.h upgrader/session/session.h bootctl/bootstate.h \
 common/error.h common/log.h upgrader/device/devconf.h \
 upgrader/device/folder.h upgrader/device/device.h upgrader/lang/macro.h \
 common/buf.h upgrader/lang/params.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h upgrader/lang/rule.h upgrader/net/fetch.h \
 upgrader/net/url.h upgrader/upgrade/install.h upgrader/upgrade/upgrade.h \
 upgrader/upgrade/upgrade_state.h upgrader/lang/delay.h common/lock.h \
 upgrader/net/syslog_udp.h
upgrader/upgrade/pass.h:
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
upgrader/upgrade/install.h:
upgrader/upgrade/upgrade.h:
upgrader/upgrade/upgrade_state.h:
upgrader/lang/delay.h:
common/lock.h:
upgrader/net/syslog_udp.h:
