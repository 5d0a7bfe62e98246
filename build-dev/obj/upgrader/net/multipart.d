build-dev/obj/upgrader/net/multipart.o: upgrader/net/multipart.c \
 upgrader/net/multipart.h common/error.h
upgrader/net/multipart.h:
common/error.h:
