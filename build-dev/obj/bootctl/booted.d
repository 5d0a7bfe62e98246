build-dev/obj/bootctl/booted.o: bootctl/booted.c bootctl/booted.h \
 common/blockdev.h common/error.h
bootctl/booted.h:
common/blockdev.h:
common/error.h:
