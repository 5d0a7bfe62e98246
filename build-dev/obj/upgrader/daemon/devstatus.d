build-dev/obj/upgrader/daemon/devstatus.o: upgrader/daemon/devstatus.c \
 upgrader/daemon/devstatus.h common/error.h upgrader/session/session.h \
 bootctl/bootstate.h common/log.h upgrader/device/devconf.h \
 upgrader/device/folder.h upgrader/device/device.h upgrader/lang/macro.h \
 common/buf.h upgrader/lang/params.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h upgrader/lang/rule.h upgrader/net/fetch.h \
 upgrader/net/url.h common/jsonfile.h upgrader/device/call.h \
 upgrader/resync/dhcp.h upgrader/resync/provstate.h \
 upgrader/resync/resync_state.h
upgrader/daemon/devstatus.h:
common/error.h:
upgrader/session/session.h:
bootctl/bootstate.h:
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
common/jsonfile.h:
upgrader/device/call.h:
upgrader/resync/dhcp.h:
upgrader/resync/provstate.h:
upgrader/resync/resync_state.h:
