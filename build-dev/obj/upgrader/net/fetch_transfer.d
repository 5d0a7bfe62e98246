build-dev/obj/upgrader/net/fetch_transfer.o: \
 upgrader/net/fetch_transfer.c common/fsutil.h common/buf.h \
 common/error.h upgrader/net/fetch_int.h upgrader/net/fetch.h \
 upgrader/net/url.h upgrader/net/fetch_loop.h
common/fsutil.h:
common/buf.h:
common/error.h:
upgrader/net/fetch_int.h:
upgrader/net/fetch.h:
upgrader/net/url.h:
upgrader/net/fetch_loop.h:
