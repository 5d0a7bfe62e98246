build-dev/obj/common/version.o: common/version.c common/version.h \
 common/error.h
common/version.h:
common/error.h:
