build-dev/obj/common/lock.o: common/lock.c common/lock.h common/error.h
common/lock.h:
common/error.h:
