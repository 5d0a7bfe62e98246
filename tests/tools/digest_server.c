/* SPDX-License-Identifier: MIT */
/* Test server: serves the files of a folder over HTTP on 127.0.0.1 behind Digest
 * authentication only (nginx has no Digest module), logging each request to stdout. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REALM "upgrader-test"

struct config {
    const char *dir, *user, *password;
    enum MHD_DigestAuthAlgorithm algo;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    const struct config *cfg = cls;
    (void)version;
    (void)upload;
    /* The first call only announces the request; answer on the second, once headers are in. */
    if (!*state) {
        *state = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* bodies are accepted and dropped */
        return MHD_YES;
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    int ok = MHD_digest_auth_check2(c, REALM, cfg->user, cfg->password, 300, cfg->algo);
    printf("%s %s auth=%s result=%s\n", method, url,
           auth ? (strncmp(auth, "Digest ", 7) == 0 ? "digest" : "other") : "none",
           ok == MHD_YES ? "ok" : "denied");
    fflush(stdout);
    if (ok != MHD_YES) {
        struct MHD_Response *r = MHD_create_response_from_buffer(
            strlen("denied\n"), (void *)"denied\n", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        enum MHD_Result q = MHD_queue_auth_fail_response2(
            c, REALM, "opaque-test", r, ok == MHD_INVALID_NONCE ? MHD_YES : MHD_NO, cfg->algo);
        MHD_destroy_response(r);
        return q;
    }
    if (strstr(url, "..") || url[0] != '/')
        return reply_text(c, MHD_HTTP_BAD_REQUEST, "bad path\n");
    char path[4096];
    snprintf(path, sizeof path, "%s%s", cfg->dir, url);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return q;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: digest_server PORT DIR USER PASSWORD [md5|sha256]\n");
        return 2;
    }
    struct config cfg = {argv[2], argv[3], argv[4], MHD_DIGEST_ALG_MD5};
    if (argc == 6 && strcmp(argv[5], "sha256") == 0)
        cfg.algo = MHD_DIGEST_ALG_SHA256;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
                                            NULL, NULL, on_request, &cfg, MHD_OPTION_SOCK_ADDR,
                                            (struct sockaddr *)&addr, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "digest_server: cannot listen on 127.0.0.1:%s\n", argv[1]);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("listening 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
