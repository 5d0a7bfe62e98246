build-dev/obj/upgrader/net/url.o: upgrader/net/url.c upgrader/net/url.h \
 common/error.h
upgrader/net/url.h:
common/error.h:
