build-dev/obj/common/jsonfile.o: common/jsonfile.c common/jsonfile.h \
 common/error.h common/buf.h common/fsutil.h
common/jsonfile.h:
common/error.h:
common/buf.h:
common/fsutil.h:
