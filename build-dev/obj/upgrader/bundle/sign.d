build-dev/obj/upgrader/bundle/sign.o: upgrader/bundle/sign.c \
 upgrader/bundle/sign.h common/buf.h common/error.h common/fsutil.h
upgrader/bundle/sign.h:
common/buf.h:
common/error.h:
common/fsutil.h:
