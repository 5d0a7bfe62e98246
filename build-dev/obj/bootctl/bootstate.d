build-dev/obj/bootctl/bootstate.o: bootctl/bootstate.c \
 bootctl/bootstate.h common/error.h bootctl/backends/bootstate_file.h \
 bootctl/backends/bootstate_grub.h bootctl/backends/grubenv.h \
 bootctl/backends/bootstate_uboot.h bootctl/booted.h common/lock.h
bootctl/bootstate.h:
common/error.h:
bootctl/backends/bootstate_file.h:
bootctl/backends/bootstate_grub.h:
bootctl/backends/grubenv.h:
bootctl/backends/bootstate_uboot.h:
bootctl/booted.h:
common/lock.h:
