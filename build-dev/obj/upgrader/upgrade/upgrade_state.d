build-dev/obj/upgrader/upgrade/upgrade_state.o: \
 upgrader/upgrade/upgrade_state.c upgrader/upgrade/upgrade_state.h \
 bootctl/bootstate.h common/error.h upgrader/lang/delay.h \
 upgrader/net/fetch.h common/buf.h upgrader/net/url.h common/fsutil.h \
 common/jsonfile.h upgrader/lang/rule.h upgrader/lang/macro.h \
 upgrader/device/device.h upgrader/device/folder.h
upgrader/upgrade/upgrade_state.h:
bootctl/bootstate.h:
common/error.h:
upgrader/lang/delay.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
common/fsutil.h:
common/jsonfile.h:
upgrader/lang/rule.h:
upgrader/lang/macro.h:
upgrader/device/device.h:
upgrader/device/folder.h:
