build-dev/obj/upgrader/daemon/jobs.o: upgrader/daemon/jobs.c \
 upgrader/daemon/jobs.h common/error.h common/fsutil.h common/buf.h \
 common/jsonfile.h
upgrader/daemon/jobs.h:
common/error.h:
common/fsutil.h:
common/buf.h:
common/jsonfile.h:
