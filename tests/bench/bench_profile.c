/* SPDX-License-Identifier: MIT */
/* make bench: parse and apply a 5,000-parameter XML profile, and expand 100,000 rules,
 * each beside a baseline run on the same input in the same process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>

#include "common/fsutil.h"
#include "lang/params.h"
#include "lang/profile.h"
#include "lang/rule.h"

#define NPARAMS 5000
#define NRULES  100000
#define ROUNDS  5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int elements;

static void XMLCALL count_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    (void)data, (void)name, (void)attrs;
    elements++;
}

static void XMLCALL ignore_text(void *data, const XML_Char *s, int len)
{
    (void)data, (void)s, (void)len;
}

/* The floor for any flat-profile reader: expat alone walking the same document. */
static double expat_only(const struct buf *doc)
{
    double t0 = now();
    XML_Parser p = XML_ParserCreate(NULL);
    XML_SetElementHandler(p, count_start, NULL);
    XML_SetCharacterDataHandler(p, ignore_text);
    if (XML_Parse(p, doc->data, (int)doc->len, XML_TRUE) != XML_STATUS_OK)
        fprintf(stderr, "expat: %s\n", XML_ErrorString(XML_GetErrorCode(p)));
    XML_ParserFree(p);
    return now() - t0;
}

static double best(const double *v, int n)
{
    double b = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < b)
            b = v[i];
    return b;
}

static const char *bench_param(void *opaque, const char *name)
{
    (void)opaque;
    return strcmp(name, "GPP_A") == 0 ? "Provisioned" : strcmp(name, "GPP_SA") == 0 ? "k3y" : "";
}

int main(void)
{
    char root[] = "/tmp/bench_profile.XXXXXX", err[UG_ERRBUF], path[256];
    if (!mkdtemp(root))
        return 1;
    int rc = 1;
    struct buf doc = {0}, schema = {0};
    buf_printf(&schema, "Bench_Param_{1..%d}_ \"\" rw text\n", NPARAMS);
    snprintf(path, sizeof path, "%s/schema.conf", root);
    struct state_folder folder = {0};
    if (fs_write_atomic(path, schema.data, schema.len, 0644, err) != UG_OK ||
        state_folder_open(root, &folder, err) != UG_OK ||
        params_create_defaults(&folder, err) != UG_OK) {
        fprintf(stderr, "setup: %s\n", err);
        goto out;
    }
    buf_append_str(&doc, "<?xml version=\"1.0\"?>\n<flat-profile>\n");
    for (int i = 1; i <= NPARAMS; i++)
        buf_printf(&doc,
                   "  <Bench_Param_%d_ ua=\"%s\">value %d &amp; more text %d</Bench_Param_%d_>\n",
                   i, i % 3 ? "rw" : "ro", i, i * 7, i);
    buf_append_str(&doc, "</flat-profile>\n");

    double t_expat[ROUNDS], t_parse[ROUNDS], t_apply[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        t_expat[r] = expat_only(&doc);
        struct profile p;
        double t0 = now();
        if (profile_parse(doc.data, doc.len, "bench.xml", &p, err) != UG_OK) {
            fprintf(stderr, "parse: %s\n", err);
            goto out;
        }
        t_parse[r] = now() - t0;
        struct param_store s;
        t0 = now();
        /* Open, validate all, one atomic durable write: what `upgrader apply` does. */
        if (params_open(&folder, &s, err) != UG_OK ||
            params_apply(&s, &p, "bench.xml", NULL, err) != UG_OK) {
            fprintf(stderr, "apply: %s\n", err);
            profile_free(&p);
            goto out;
        }
        t_apply[r] = now() - t0;
        params_close(&s);
        profile_free(&p);
    }
    printf("profile of %d parameters (%zu bytes), best of %d:\n", NPARAMS, doc.len, ROUNDS);
    printf("  baseline expat alone        %8.2f ms\n", best(t_expat, ROUNDS) * 1e3);
    printf("  profile_parse               %8.2f ms  (%.1fx expat)\n", best(t_parse, ROUNDS) * 1e3,
           best(t_parse, ROUNDS) / best(t_expat, ROUNDS));
    printf("  open + validate + save      %8.2f ms  (includes fsync of file and folder)\n",
           best(t_apply, ROUNDS) * 1e3);

    static const char rule[] =
        "( $SWVER lt sip88xx.11-0-1MPP-477 and \"$A\" eq \"Provisioned\" )? [--key $SA] "
        "http://prov.example.com/stone/$PSN/$MA.xml | ( $PRVST ge 1 )? (b = \"$MAU\"; GPP_C = \"$(MA:6)\")! "
        "[--key $SA --uid $MA] https://prov.example.com/$PN/$MA.xml | /fallback/$PSN.xml";
    struct device dev = {.mac = "000e08aabbcc",
                         .serial = "SN1",
                         .product = "CP-8841-3PCC",
                         .psn = "8841",
                         .hwver = "1"};
    struct macro_context ctx;
    macro_init(&ctx, &dev, bench_param, NULL);
    if (macro_set(&ctx, "SWVER", "sip88xx.11-0-1MPP-500", err) != UG_OK ||
        macro_set(&ctx, "PRVST", "1", err) != UG_OK)
        goto out;
    double t0 = now();
    size_t sink = 0;
    for (int i = 0; i < NRULES; i++) {
        char url[256];
        /* Baseline: the same final URL built by hand, with no parsing at all. */
        sink += (size_t)snprintf(url, sizeof url, "https://%s:%d/%s/%s.xml", "prov.example.com",
                                 443, dev.product, dev.mac);
    }
    double t_base = now() - t0;
    t0 = now();
    for (int i = 0; i < NRULES; i++) {
        struct rule_result r;
        if (rule_eval(rule, RULE_PROFILE, &ctx, "10.0.0.1", &r, err) != UG_OK ||
            r.alternative != 1) {
            fprintf(stderr, "rule: %s\n", err);
            rule_result_free(&r);
            macro_free(&ctx);
            goto out;
        }
        sink += strlen(r.url.text);
        rule_result_free(&r);
    }
    double t_rules = now() - t0;
    macro_free(&ctx);
    printf("%d rules (3 alternatives, conditions, assignments, options, macros):\n", NRULES);
    printf("  baseline snprintf of the URL %7.2f ms\n", t_base * 1e3);
    printf("  rule_eval                   %8.2f ms  (%.2f us a rule)\n", t_rules * 1e3,
           t_rules * 1e6 / NRULES);
    rc = sink ? 0 : 1;
out:
    buf_free(&doc);
    buf_free(&schema);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
