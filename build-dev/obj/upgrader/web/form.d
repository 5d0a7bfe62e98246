build-dev/obj/upgrader/web/form.o: upgrader/web/form.c \
 upgrader/web/form.h common/buf.h
upgrader/web/form.h:
common/buf.h:
