build-dev/obj/common/fsutil.o: common/fsutil.c common/fsutil.h \
 common/buf.h common/error.h
common/fsutil.h:
common/buf.h:
common/error.h:
