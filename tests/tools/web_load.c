/* SPDX-License-Identifier: MIT */
/* web_load URL USER PASSWORD SECONDS CLIENTS: CLIENTS connections asking for URL again and
 * again (keep-alive, HTTP Digest) for SECONDS; prints "requests N ok N per-second X". For
 * make bench (tests/bench/web.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static CURL *client(const char *url, const char *userpwd)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    return c;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: web_load URL USER PASSWORD SECONDS CLIENTS\n");
        return 2;
    }
    char userpwd[256];
    snprintf(userpwd, sizeof userpwd, "%s:%s", argv[2], argv[3]);
    double seconds = atof(argv[4]), start = now_s();
    int n = atoi(argv[5]);
    long requests = 0, good = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    for (int i = 0; i < n; i++)
        curl_multi_add_handle(m, client(argv[1], userpwd));
    while (now_s() - start < seconds) {
        int running = 0, left = 0;
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 100, NULL);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &left))) {
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            requests++;
            good += code == 200;
            CURL *c = msg->easy_handle;
            curl_multi_remove_handle(m, c);
            curl_multi_add_handle(m, c); /* again, on the same connection */
        }
    }
    double took = now_s() - start;
    printf("requests %ld ok %ld per-second %.0f\n", requests, good, (double)good / took);
    curl_multi_cleanup(m);
    return good > 0 ? 0 : 1;
}
