build-dev/obj/upgrader/web/assets.o: upgrader/web/assets.c \
 upgrader/web/assets.h
upgrader/web/assets.h:
