build-dev/obj/upgrader/net/cpusplit.o: upgrader/net/cpusplit.c \
 upgrader/net/cpusplit.h
upgrader/net/cpusplit.h:
