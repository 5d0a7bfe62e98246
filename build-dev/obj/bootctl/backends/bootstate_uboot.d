build-dev/obj/bootctl/backends/bootstate_uboot.o: \
 bootctl/backends/bootstate_uboot.c bootctl/backends/bootstate_uboot.h \
 bootctl/bootstate.h common/error.h
bootctl/backends/bootstate_uboot.h:
bootctl/bootstate.h:
common/error.h:
