build-dev/obj/upgrader/net/syslog_udp.o: upgrader/net/syslog_udp.c \
 upgrader/net/syslog_udp.h common/error.h
upgrader/net/syslog_udp.h:
common/error.h:
