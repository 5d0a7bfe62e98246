build-dev/obj/upgrader/cmd/cmd_daemon.o: upgrader/cmd/cmd_daemon.c \
 upgrader/cmd/commands.h common/error.h upgrader/daemon/daemon.h \
 common/log.h
upgrader/cmd/commands.h:
common/error.h:
upgrader/daemon/daemon.h:
common/log.h:
