build-dev/obj/bootctl/backends/bootstate_file.o: \
 bootctl/backends/bootstate_file.c bootctl/backends/bootstate_file.h \
 bootctl/bootstate.h common/error.h common/fsutil.h common/buf.h
bootctl/backends/bootstate_file.h:
bootctl/bootstate.h:
common/error.h:
common/fsutil.h:
common/buf.h:
