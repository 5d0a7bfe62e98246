build-dev/obj/common/blockdev.o: common/blockdev.c common/blockdev.h \
 common/error.h
common/blockdev.h:
common/error.h:
