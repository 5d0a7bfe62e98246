build-dev/obj/upgrader/net/fetch.o: upgrader/net/fetch.c \
 upgrader/net/fetch.h common/buf.h common/error.h upgrader/net/url.h \
 upgrader/net/fetch_int.h upgrader/net/fetch_loop.h
upgrader/net/fetch.h:
common/buf.h:
common/error.h:
upgrader/net/url.h:
upgrader/net/fetch_int.h:
upgrader/net/fetch_loop.h:
