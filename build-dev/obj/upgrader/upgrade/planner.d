build-dev/obj/upgrader/upgrade/planner.o: upgrader/upgrade/planner.c \
 upgrader/upgrade/planner.h common/error.h upgrader/upgrade/catalog.h \
 common/version.h upgrader/net/fetch.h common/buf.h upgrader/net/url.h
upgrader/upgrade/planner.h:
common/error.h:
upgrader/upgrade/catalog.h:
common/version.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
