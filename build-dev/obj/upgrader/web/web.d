build-dev/obj/upgrader/web/web.o: upgrader/web/web.c upgrader/web/web.h \
 common/error.h common/log.h upgrader/daemon/loop.h upgrader/net/fetch.h \
 common/buf.h upgrader/net/url.h upgrader/web/handler.h \
 upgrader/daemon/jobs.h upgrader/web/auth.h upgrader/lang/params.h \
 upgrader/device/folder.h upgrader/lang/paramdefs.h \
 upgrader/lang/profile.h common/fsutil.h upgrader/web/events.h
upgrader/web/web.h:
common/error.h:
common/log.h:
upgrader/daemon/loop.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
upgrader/web/handler.h:
upgrader/daemon/jobs.h:
upgrader/web/auth.h:
upgrader/lang/params.h:
upgrader/device/folder.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
common/fsutil.h:
upgrader/web/events.h:
