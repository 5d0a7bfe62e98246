build-dev/obj/common/cli.o: common/cli.c common/cli.h common/error.h
common/cli.h:
common/error.h:
