build-dev/obj/upgrader/resync/resync_state.o: \
 upgrader/resync/resync_state.c upgrader/resync/resync_state.h \
 common/error.h upgrader/lang/params.h common/buf.h \
 upgrader/device/folder.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h upgrader/resync/provstate.h common/jsonfile.h
upgrader/resync/resync_state.h:
common/error.h:
upgrader/lang/params.h:
common/buf.h:
upgrader/device/folder.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
upgrader/resync/provstate.h:
common/jsonfile.h:
