build-dev/obj/bootctl/backends/grubenv.o: bootctl/backends/grubenv.c \
 bootctl/backends/grubenv.h
bootctl/backends/grubenv.h:
