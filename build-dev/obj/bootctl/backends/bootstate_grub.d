build-dev/obj/bootctl/backends/bootstate_grub.o: \
 bootctl/backends/bootstate_grub.c bootctl/backends/bootstate_grub.h \
 bootctl/backends/grubenv.h bootctl/bootstate.h common/error.h \
 common/fsutil.h common/buf.h
bootctl/backends/bootstate_grub.h:
bootctl/backends/grubenv.h:
bootctl/bootstate.h:
common/error.h:
common/fsutil.h:
common/buf.h:
