/* SPDX-License-Identifier: MIT */
/* Test server: accepts TCP connections on 127.0.0.1:PORT and never answers, the way a hung
 * provisioning server looks to a client; the transport must give up on its own. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HELD 256

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stall_server PORT\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 16) != 0) {
        fprintf(stderr, "stall_server: cannot listen on 127.0.0.1:%s\n", argv[1]);
        return 1;
    }
    printf("listening 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    /* Connections are held open (never read, never written) until the process is killed. */
    int held[MAX_HELD], n = 0;
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        printf("accepted\n");
        fflush(stdout);
        if (n < MAX_HELD)
            held[n++] = c;
        else
            close(c);
    }
    (void)held;
    return 0;
}
