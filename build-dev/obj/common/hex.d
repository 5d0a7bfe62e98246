build-dev/obj/common/hex.o: common/hex.c common/hex.h
common/hex.h:
