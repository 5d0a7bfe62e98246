build-dev/obj/upgrader/web/handler.o: upgrader/web/handler.c \
 upgrader/web/handler.h common/buf.h common/error.h common/log.h \
 upgrader/daemon/jobs.h upgrader/net/fetch.h upgrader/net/url.h \
 upgrader/web/auth.h upgrader/lang/params.h upgrader/device/folder.h \
 upgrader/lang/paramdefs.h upgrader/lang/profile.h common/jsonfile.h \
 upgrader/daemon/devstatus.h upgrader/session/session.h \
 bootctl/bootstate.h upgrader/device/devconf.h upgrader/device/device.h \
 upgrader/lang/macro.h upgrader/lang/rule.h upgrader/web/assets.h \
 upgrader/web/events.h upgrader/web/form.h upgrader/web/pages.h \
 upgrader/web/routes.h
upgrader/web/handler.h:
common/buf.h:
common/error.h:
common/log.h:
upgrader/daemon/jobs.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
upgrader/web/auth.h:
upgrader/lang/params.h:
upgrader/device/folder.h:
upgrader/lang/paramdefs.h:
upgrader/lang/profile.h:
common/jsonfile.h:
upgrader/daemon/devstatus.h:
upgrader/session/session.h:
bootctl/bootstate.h:
upgrader/device/devconf.h:
upgrader/device/device.h:
upgrader/lang/macro.h:
upgrader/lang/rule.h:
upgrader/web/assets.h:
upgrader/web/events.h:
upgrader/web/form.h:
upgrader/web/pages.h:
upgrader/web/routes.h:
