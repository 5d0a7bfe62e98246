/* SPDX-License-Identifier: MIT */
/* Test server: receives syslog datagrams on UDP 127.0.0.1:PORT and prints each one as a
 * line on stdout (flushed), so a test can read what the agent sent. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: syslog_sink PORT\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "syslog_sink: cannot bind 127.0.0.1:%s\n", argv[1]);
        return 1;
    }
    signal(SIGTERM, SIG_DFL);
    char buf[65536];
    for (;;) {
        ssize_t n = recv(s, buf, sizeof buf - 1, 0);
        if (n < 0)
            continue;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\n' || buf[i] == '\0')
                buf[i] = ' ';
        buf[n] = '\0';
        printf("%s\n", buf);
        fflush(stdout);
    }
}
