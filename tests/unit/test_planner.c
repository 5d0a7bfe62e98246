/* SPDX-License-Identifier: MIT */
/* Unit tests of the planner (planner.c): stepping stones, tie-breaking by size, withdrawn,
 * hardware, the downgrade limit, cycles, duplicates, and a cross-check against a plain
 * all-pairs search on random catalogs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "upgrade/catalog.h"
#include "upgrade/planner.h"

struct rel {
    const char *version, *min_from, *max_from, *hw;
    unsigned size;
    int withdrawn;
};

/* Builds and parses a catalog from rows; hw is a comma-free single revision or NULL. */
static void make_catalog(const struct rel *rows, size_t n, struct catalog *c)
{
    struct buf b = {0};
    buf_append_str(&b, "{\"product\": \"P\", \"releases\": [");
    for (size_t i = 0; i < n; i++) {
        buf_printf(
            &b,
            "%s{\"version\": \"%s\", \"bundle\": \"r%zu.bundle\", \"size\": %u, \"min_from\": \"%s\", "
            "\"sha256\": \"%064zx\"",
            i ? "," : "", rows[i].version, i, rows[i].size, rows[i].min_from, i);
        if (rows[i].max_from)
            buf_printf(&b, ", \"max_from\": \"%s\"", rows[i].max_from);
        if (rows[i].hw)
            buf_printf(&b, ", \"hardware\": [\"%s\"]", rows[i].hw);
        if (rows[i].withdrawn)
            buf_append_str(&b, ", \"withdrawn\": true");
        buf_append_str(&b, "}");
    }
    buf_append_str(&b, "]}");
    char err[UG_ERRBUF];
    if (catalog_parse(b.data, b.len, "http://s/c.json", c, err) != UG_OK)
        fail_msg("catalog: %s", err);
    buf_free(&b);
}

/* Plans and renders the path as "v1>v2>v3" (bundle names for duplicates: "v(rN)"). */
static ug_err plan_text(const struct catalog *c, const char *from, const char *to, const char *hw,
                        const char *limit, char *out, size_t outsz, char *err)
{
    struct plan_request req = {from, to, hw, limit};
    struct plan p;
    ug_err rc = planner_plan(c, &req, &p, err);
    out[0] = '\0';
    if (rc != UG_OK)
        return rc;
    size_t used = (size_t)snprintf(out, outsz, "%s", from);
    for (size_t i = 0; i < p.nhops && used < outsz; i++)
        used += (size_t)snprintf(out + used, outsz - used, ">%s", p.hops[i].release->version);
    plan_free(&p);
    return UG_OK;
}

struct plan_case {
    const char *name;
    const struct rel *rows;
    size_t nrows;
    const char *from, *to, *hw, *limit;
    ug_err rc;
    const char *expected; /* the path, or a word the error message must hold */
};

#define ROWS(a) a, sizeof a / sizeof a[0]

static const struct rel chain[] = {
    {"1.0", "0.1", NULL, NULL, 100, 0},
    {"1.5", "1.0", NULL, NULL, 100, 0},
    {"2.0", "1.5", NULL, NULL, 100, 0},
    {"3.0", "2.0", NULL, NULL, 100, 0},
};
static const struct rel ties[] = {
    {"1.0", "0.1", NULL, NULL, 1, 0},
    {"1.6", "1.0", NULL, NULL, 500, 0}, /* big stepping stone */
    {"1.7", "1.0", NULL, NULL, 200, 0}, /* small one: chosen */
    {"2.0", "1.6", NULL, NULL, 100, 0},
    {"3.0", "1.0", NULL, NULL, 9000, 0}, /* one hop beats two cheaper ones */
    {"4.0", "3.0", NULL, NULL, 10, 0},
    {"4.0", "2.0", "2.0", NULL, 1,
     0}, /* duplicate 4.0: 1.0>1.7>2.0>4.0 costs less but has 3 hops */
};
static const struct rel filtered[] = {
    {"1.0", "0.1", NULL, NULL, 10, 0},   {"1.5", "1.0", NULL, NULL, 10, 1}, /* withdrawn stone */
    {"1.6", "1.0", NULL, "rev2", 10, 0}, /* wrong hardware for rev1 */
    {"1.7", "1.0", NULL, NULL, 50, 0},   /* the way that remains */
    {"2.0", "1.5", NULL, NULL, 10, 0},   {"2.1", "1.5", NULL, NULL, 10, 1},
    {"2.2", "1.0", NULL, "rev2", 10, 0},
};
static const struct rel downgrade[] = {
    {"1.0", "0.1", NULL, NULL, 10, 0},
    {"2.0", "0.1", NULL, NULL, 10, 0},
    {"3.0", "2.0", NULL, NULL, 10, 0},
    {"4.0", "3.0", NULL, NULL, 10, 0},
    {"2.5", "1.0", NULL, NULL, 10, 0},
    {"2.1", "1.0", NULL, NULL, 1, 0}, /* cheapest stone, but below a limit of 2.2 */
};
static const struct rel hostile[] = {
    {"1.9.0", "1.0.0", NULL, NULL, 30, 0},
    {"1.9.0", "1.0.0", NULL, NULL, 20, 0},
    {"2.0.0", "1.9.0", NULL, NULL, 10, 0},
    {"1.9.0", "2.0.0", "2.0.0", NULL, 10, 0}, /* back down: a cycle */
    {"4.0.0", "4.0.0", NULL, NULL, 10, 0},    /* only over itself */
    {"5.0.0", "5.0.0", "5.0.0", NULL, 10, 0},
};
static const struct rel windows[] = {
    {"1.0", "0.1", NULL, NULL, 10, 0},
    {"2.0", "1.0", "1.0", NULL, 10, 0}, /* only over exactly 1.0 */
    {"2.5", "0.1", "1.9", NULL, 10, 0},
    {"3.0", "2.5", "2.5", NULL, 10, 0},
};
static const struct rel only_over_1[] = {
    {"2.0", "1.0", "1.0", NULL, 10, 0},
};

static const struct plan_case cases[] = {
    {"direct hop", ROWS(chain), "1.5", "2.0", NULL, NULL, UG_OK, "1.5>2.0"},
    {"two stepping stones", ROWS(chain), "1.0", "3.0", NULL, NULL, UG_OK, "1.0>1.5>2.0>3.0"},
    {"latest", ROWS(chain), "1.0", "latest", NULL, NULL, UG_OK, "1.0>1.5>2.0>3.0"},
    {"running version not in the catalog", ROWS(chain), "1.2", "3.0", NULL, NULL, UG_OK,
     "1.2>1.5>2.0>3.0"},
    {"already there", ROWS(chain), "3.0", "3.0.0", NULL, NULL, UG_OK, "3.0"},
    {"nothing installs over it", ROWS(chain), "0.0.1", "3.0", NULL, NULL, UG_ERR_NO_PATH,
     "installs over 0.0.1"},
    {"target unknown", ROWS(chain), "1.0", "2.7", NULL, NULL, UG_ERR_NO_PATH, "not in the catalog"},
    {"to is no version", ROWS(chain), "1.0", "two", NULL, NULL, UG_ERR_USAGE, "not a version"},
    {"from is no version", ROWS(chain), "x", "2.0", NULL, NULL, UG_ERR_USAGE, "not a version"},
    {"ties broken by size", ROWS(ties), "1.0", "2.0", NULL, NULL, UG_OK, "1.0>1.7>2.0"},
    {"fewest hops first", ROWS(ties), "1.0", "4.0", NULL, NULL, UG_OK, "1.0>3.0>4.0"},
    {"direct from a stone", ROWS(ties), "1.7", "2.0", NULL, NULL, UG_OK, "1.7>2.0"},
    {"withdrawn and wrong hardware skipped", ROWS(filtered), "1.0", "2.0", "rev1", NULL, UG_OK,
     "1.0>1.7>2.0"},
    {"withdrawn target", ROWS(filtered), "1.0", "2.1", "rev1", NULL, UG_ERR_NO_PATH, "withdrawn"},
    {"wrong hardware target", ROWS(filtered), "1.0", "2.2", "rev1", NULL, UG_ERR_NO_PATH,
     "hardware rev1"},
    {"hardware fits", ROWS(filtered), "1.0", "2.2", "rev2", NULL, UG_OK, "1.0>2.2"},
    {"latest for rev1", ROWS(filtered), "1.0", "latest", "rev1", NULL, UG_OK, "1.0>1.7>2.0"},
    {"downgrade without a limit", ROWS(downgrade), "4.0", "2.0", NULL, NULL, UG_OK, "4.0>2.0"},
    {"downgrade below the limit", ROWS(downgrade), "4.0", "1.0", NULL, "2.0", UG_ERR_VERIFY,
     "Downgrade_Rev_Limit"},
    {"downgrade at the limit", ROWS(downgrade), "4.0", "2.0", NULL, "2.0", UG_OK, "4.0>2.0"},
    {"cheapest stone without a limit", ROWS(downgrade), "1.0", "3.0", NULL, NULL, UG_OK,
     "1.0>2.1>3.0"},
    {"stone below the limit avoided", ROWS(downgrade), "1.0", "3.0", NULL, "2.2", UG_OK,
     "1.0>2.5>3.0"},
    {"stone below the limit, no other way", ROWS(downgrade), "1.0", "3.0", NULL, "2.6",
     UG_ERR_NO_PATH, "no "},
    {"latest below the limit", ROWS(downgrade), "1.0", "latest", NULL, "5.0", UG_ERR_VERIFY,
     "refused"},
    {"cycles and duplicates", ROWS(hostile), "1.0.0", "2.0.0", NULL, NULL, UG_OK,
     "1.0.0>1.9.0>2.0.0"},
    {"self-pointing target", ROWS(hostile), "1.0.0", "4.0.0", NULL, NULL, UG_ERR_NO_PATH,
     "furthest reachable is 2.0.0"},
    {"back through a cycle", ROWS(hostile), "2.0.0", "1.9.0", NULL, NULL, UG_OK, "2.0.0>1.9.0"},
    {"max_from windows", ROWS(windows), "1.0", "3.0", NULL, NULL, UG_OK, "1.0>2.5>3.0"},
    {"max_from detour", ROWS(windows), "1.0.1", "2.0", NULL, NULL, UG_OK, "1.0.1>1.0>2.0"},
    {"max_from excludes", ROWS(only_over_1), "1.5", "2.0", NULL, NULL, UG_ERR_NO_PATH,
     "installs over 1.5"},
    {"max_from includes", ROWS(only_over_1), "1.0.0", "2.0", NULL, NULL, UG_OK, "1.0.0>2.0"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct plan_case *k = &cases[i];
        struct catalog c;
        char err[UG_ERRBUF] = "", path[512];
        make_catalog(k->rows, k->nrows, &c);
        ug_err rc = plan_text(&c, k->from, k->to, k->hw, k->limit, path, sizeof path, err);
        if (rc != k->rc)
            fail_msg("%s: rc %d (%s), expected %d", k->name, rc, err, k->rc);
        if (rc == UG_OK && strcmp(path, k->expected) != 0)
            fail_msg("%s: path %s, expected %s", k->name, path, k->expected);
        if (rc != UG_OK && !strstr(err, k->expected))
            fail_msg("%s: message '%s' lacks '%s'", k->name, err, k->expected);
        catalog_free(&c);
    }
}

/* Ties on hops are broken by total size, and the path names the cheaper duplicate. */
static void test_tie_details(void **state)
{
    (void)state;
    static const struct rel rows[] = {
        {"1.0", "0.1", NULL, NULL, 1, 0},    {"1.6", "1.0", NULL, NULL, 500, 0},
        {"1.7", "1.0", NULL, NULL, 200, 0},  {"2.0", "1.6", NULL, NULL, 100, 0},
        {"2.0", "1.0", "1.0", NULL, 900, 0}, /* direct but expensive: fewest hops still wins */
        {"3.0", "2.0", NULL, NULL, 7, 0},    {"2.9", "1.6", NULL, NULL, 1, 0},
        {"2.9", "1.7", NULL, NULL, 1, 0},    {"3.5", "2.9", NULL, NULL, 1, 0},
    };
    struct catalog c;
    struct plan p;
    char err[UG_ERRBUF];
    make_catalog(rows, sizeof rows / sizeof rows[0], &c);
    struct plan_request req = {"1.0", "2.0", NULL, NULL};
    assert_int_equal(planner_plan(&c, &req, &p, err), UG_OK);
    assert_int_equal(p.nhops, 1);
    assert_int_equal(p.total_size, 900);
    plan_free(&p);
    req.to = "3.5"; /* 1.0>1.6>2.9>3.5 = 502 or 1.0>1.7>2.9>3.5 = 202 */
    assert_int_equal(planner_plan(&c, &req, &p, err), UG_OK);
    assert_int_equal(p.nhops, 3);
    assert_int_equal(p.total_size, 202);
    assert_string_equal(p.hops[0].release->version, "1.7");
    assert_string_equal(p.hops[1].from, "1.7");
    assert_string_equal(p.hops[1].release->version, "2.9");
    plan_free(&p);
    catalog_free(&c);
}

/* Sizes near 2^63 do not wrap round: 16 EiB over three hops never beats 30 bytes. */
static void test_huge_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *version, *from, *size;
    } rows[] = {
        {"2.0", "1.0", "9223372036854775807"},
        {"2.5", "2.0", "9223372036854775807"},
        {"3.0", "2.5", "2"},
        {"2.1", "1.0", "10"},
        {"2.6", "2.1", "10"},
        {"3.0", "2.6", "10"},
    };
    struct buf b = {0};
    buf_append_str(&b, "{\"product\": \"P\", \"releases\": [");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        buf_printf(&b,
                   "%s{\"version\": \"%s\", \"bundle\": \"r%zu\", \"size\": %s, \"min_from\": "
                   "\"%s\", \"max_from\": \"%s\", \"sha256\": \"%064zx\"}",
                   i ? "," : "", rows[i].version, i, rows[i].size, rows[i].from, rows[i].from, i);
    buf_append_str(&b, "]}");
    char err[UG_ERRBUF];
    struct catalog c;
    struct plan p;
    assert_int_equal(catalog_parse(b.data, b.len, "http://s/c.json", &c, err), UG_OK);
    struct plan_request req = {"1.0", "3.0", NULL, NULL};
    assert_int_equal(planner_plan(&c, &req, &p, err), UG_OK);
    assert_int_equal(p.nhops, 3);
    assert_string_equal(p.hops[0].release->version, "2.1");
    assert_true(p.total_size == 30);
    plan_free(&p);
    catalog_free(&c);
    buf_free(&b);
}

static void test_demo_catalog(void **state)
{
    (void)state;
    const char *top = getenv("TOP") ? getenv("TOP") : ".";
    char path[1024];
    snprintf(path, sizeof path, "%s/manifests/demo-catalog.json", top);
    struct buf b = {0};
    struct catalog c;
    char err[UG_ERRBUF], text[256];
    assert_int_equal(fs_read_file(path, 1 << 20, &b, err), UG_OK);
    assert_int_equal(catalog_parse(b.data, b.len, path, &c, err), UG_OK);
    assert_true(c.nreleases >= 5);
    assert_int_equal(plan_text(&c, "1.0.0", "latest", "1.0", NULL, text, sizeof text, err), UG_OK);
    assert_string_equal(text, "1.0.0>1.5.0>2.0.0>3.0.0");
    catalog_free(&c);
    buf_free(&b);
}

/* ---- a plain reference: Dijkstra over all pairs, compared on random catalogs */

static int vcmp(const char *a, const char *b)
{
    int c;
    char err[UG_ERRBUF];
    if (version_compare(a, b, &c, err) != UG_OK)
        fail_msg("%s", err);
    return c;
}

static int accepts(const struct rel *r, const char *v)
{
    return vcmp(r->min_from, v) <= 0 && (!r->max_from || vcmp(v, r->max_from) <= 0);
}

static void reference(const struct rel *rows, size_t n, const char *from, const char *to,
                      int *found, size_t *hops, uint64_t *bytes)
{
    /* States: "from" and each row's version; distances per state index (0 = from). */
    size_t m = n + 1, best_h[64];
    uint64_t best_b[64];
    int done[64] = {0}, seen[64] = {0};
    const char *ver[64];
    ver[0] = from;
    for (size_t i = 0; i < n; i++)
        ver[i + 1] = rows[i].version;
    seen[0] = 1, best_h[0] = 0, best_b[0] = 0;
    *found = 0;
    for (;;) {
        size_t u = SIZE_MAX;
        for (size_t i = 0; i < m; i++)
            if (seen[i] && !done[i] &&
                (u == SIZE_MAX || best_h[i] < best_h[u] ||
                 (best_h[i] == best_h[u] && best_b[i] < best_b[u])))
                u = i;
        if (u == SIZE_MAX)
            break;
        /* every state with the same version is the same state */
        for (size_t i = 0; i < m; i++)
            if (vcmp(ver[i], ver[u]) == 0)
                done[i] = 1;
        if (vcmp(ver[u], to) == 0) {
            *found = 1, *hops = best_h[u], *bytes = best_b[u];
            return;
        }
        for (size_t r = 0; r < n; r++) {
            if (rows[r].withdrawn || !accepts(&rows[r], ver[u]))
                continue;
            for (size_t t = 1; t < m; t++) {
                if (done[t] || vcmp(ver[t], rows[r].version) != 0)
                    continue;
                size_t h = best_h[u] + 1;
                uint64_t b = best_b[u] + rows[r].size;
                if (!seen[t] || h < best_h[t] || (h == best_h[t] && b < best_b[t]))
                    seen[t] = 1, best_h[t] = h, best_b[t] = b;
            }
        }
    }
}

static void test_random_against_reference(void **state)
{
    (void)state;
    static char names[40][16];
    for (int i = 0; i < 40; i++)
        snprintf(names[i], sizeof names[i], "%d.%d", i / 10 + 1, i % 10);
    srand(12345);
    for (int round = 0; round < 300; round++) {
        struct rel rows[40] = {{0}};
        size_t n = 2 + (size_t)(rand() % 38);
        for (size_t i = 0; i < n; i++) {
            int v = rand() % 40, lo = rand() % 40, hi = lo + rand() % 12;
            rows[i] = (struct rel){names[v],
                                   names[lo],
                                   (rand() % 3 == 0 && hi < 40) ? names[hi] : NULL,
                                   NULL,
                                   (unsigned)(1 + rand() % 50),
                                   rand() % 9 == 0};
        }
        struct catalog c;
        make_catalog(rows, n, &c);
        const char *from = names[rand() % 40], *to = rows[rand() % n].version;
        int found;
        size_t hops = 0;
        uint64_t bytes = 0;
        reference(rows, n, from, to, &found, &hops, &bytes);
        int target_live = 0;
        for (size_t i = 0; i < n; i++)
            target_live |= vcmp(rows[i].version, to) == 0 && !rows[i].withdrawn;
        struct plan_request req = {from, to, NULL, NULL};
        struct plan p;
        char err[UG_ERRBUF];
        ug_err rc = planner_plan(&c, &req, &p, err);
        if (!target_live) {
            assert_int_equal(rc, UG_ERR_NO_PATH);
        } else if (!found) {
            if (rc != UG_ERR_NO_PATH)
                fail_msg("round %d: %s -> %s planned, reference finds no path", round, from, to);
        } else {
            if (rc != UG_OK)
                fail_msg("round %d: %s -> %s: %s; reference: %zu hops", round, from, to, err, hops);
            assert_int_equal(p.nhops, hops);
            assert_int_equal(p.total_size, bytes);
            /* Each hop must really be allowed. */
            const char *at = from;
            for (size_t i = 0; i < p.nhops; i++) {
                const struct catalog_release *r = p.hops[i].release;
                assert_string_equal(p.hops[i].from, at);
                assert_false(r->withdrawn);
                assert_true(vcmp(r->min_from, at) <= 0);
                assert_true(!r->max_from || vcmp(at, r->max_from) <= 0);
                at = r->version;
            }
            assert_int_equal(vcmp(at, to), 0);
            plan_free(&p);
        }
        catalog_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_tie_details),
        cmocka_unit_test(test_huge_sizes),
        cmocka_unit_test(test_demo_catalog),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
