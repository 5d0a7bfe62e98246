build-dev/obj/upgrader/upgrade/catalog.o: upgrader/upgrade/catalog.c \
 upgrader/upgrade/catalog.h common/error.h common/version.h \
 upgrader/net/fetch.h common/buf.h upgrader/net/url.h bootctl/bootstate.h \
 upgrader/bundle/sign.h common/fsutil.h
upgrader/upgrade/catalog.h:
common/error.h:
common/version.h:
upgrader/net/fetch.h:
common/buf.h:
upgrader/net/url.h:
bootctl/bootstate.h:
upgrader/bundle/sign.h:
common/fsutil.h:
