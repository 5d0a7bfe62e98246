/* SPDX-License-Identifier: MIT */
/* Shortest path over "can be installed over" with (hops, bytes) as the distance. Each
 * release accepts a contiguous range of the version-sorted catalog, so instead of testing
 * every pair, a max-segment-tree finds (and retires) the releases whose range covers the
 * version just reached: O(n log n) for the whole search, cycles and self-loops included. */
#include "upgrade/planner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct heap_entry {
    size_t hops;
    uint64_t bytes;
    size_t state;
};

struct search {
    const struct catalog *c;
    size_t n;      /* releases; state n is the running version when not in the catalog */
    size_t *canon; /* release index -> first index of its version: the state it leads to */
    unsigned char *eligible;
    /* Segment tree over eligible releases ordered by first_over, holding last_over + 1
     * (0 = retired), so that "max >= x + 1" finds ranges reaching up to x. */
    size_t *order, norder, *tree, tsize;
    size_t *pos; /* release -> position in order (SIZE_MAX: not in the tree) */
    /* Dijkstra state. */
    size_t *hops, *via, *pred;
    uint64_t *bytes;
    unsigned char *settled;
    struct heap_entry *heap;
    size_t nheap;
    void *arena; /* owns all of the arrays above */
};

static int entry_less(const struct heap_entry *a, const struct heap_entry *b)
{
    if (a->hops != b->hops)
        return a->hops < b->hops;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes;
    return a->state < b->state; /* deterministic ties */
}

static void heap_push(struct search *s, struct heap_entry e)
{
    size_t i = s->nheap++;
    while (i > 0 && entry_less(&e, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = e;
}

static struct heap_entry heap_pop(struct search *s)
{
    struct heap_entry top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= s->nheap)
            break;
        if (child + 1 < s->nheap && entry_less(&s->heap[child + 1], &s->heap[child]))
            child++;
        if (!entry_less(&s->heap[child], &last))
            break;
        s->heap[i] = s->heap[child];
        i = child;
    }
    if (s->nheap)
        s->heap[i] = last;
    return top;
}

static void tree_set(struct search *s, size_t p, size_t value)
{
    size_t i = p + s->tsize;
    s->tree[i] = value;
    for (i /= 2; i >= 1; i /= 2)
        s->tree[i] = s->tree[2 * i] > s->tree[2 * i + 1] ? s->tree[2 * i] : s->tree[2 * i + 1];
}

static void relax(struct search *s, size_t from_state, size_t r)
{
    size_t t = s->canon[r];
    s->pred[r] = from_state;
    if (s->settled[t])
        return;
    size_t h = s->hops[from_state] + 1;
    /* Saturating: sizes near 2^63 (a catalog may say anything) must not wrap round into a
     * small sum that wins. */
    uint64_t size = s->c->releases[r].size;
    uint64_t b =
        s->bytes[from_state] > UINT64_MAX - size ? UINT64_MAX : s->bytes[from_state] + size;
    if (s->via[t] == SIZE_MAX || h < s->hops[t] || (h == s->hops[t] && b < s->bytes[t])) {
        s->hops[t] = h;
        s->bytes[t] = b;
        s->via[t] = r;
        heap_push(s, (struct heap_entry){h, b, t});
    }
}

/* Retires and relaxes every release in order[lo..hi) (tree node `node`) whose range
 * reaches x; only subtrees whose max reaches x are entered. */
static void collect(struct search *s, size_t node, size_t lo, size_t hi, size_t limit, size_t x,
                    size_t from_state)
{
    if (lo >= limit || s->tree[node] < x + 1)
        return;
    if (hi - lo == 1) {
        size_t r = s->order[lo];
        tree_set(s, lo, 0);
        relax(s, from_state, r);
        return;
    }
    size_t mid = lo + (hi - lo) / 2;
    collect(s, 2 * node, lo, mid, limit, x, from_state);
    collect(s, 2 * node + 1, mid, hi, limit, x, from_state);
}

/* Releases that install over state x (a catalog index), all with first_over <= x. */
static void expand_index(struct search *s, size_t x)
{
    size_t lo = 0, hi = s->norder; /* limit: how many have first_over <= x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->c->releases[s->order[mid]].first_over <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    collect(s, 1, 0, s->tsize, lo, x, x);
}

/* The running version is not in the catalog: test each release once, directly. */
static size_t expand_virtual(struct search *s, const struct version_key *from)
{
    size_t found = 0;
    for (size_t r = 0; r < s->n; r++) {
        const struct catalog_release *rel = &s->c->releases[r];
        if (!s->eligible[r] || version_key_compare(&rel->min_key, from) > 0 ||
            (rel->max_from && version_key_compare(from, &rel->max_key) > 0))
            continue;
        if (s->pos[r] != SIZE_MAX)
            tree_set(s, s->pos[r], 0);
        relax(s, s->n, r);
        found++;
    }
    return found;
}

static void search_free(struct search *s)
{
    free(s->arena);
}

static int search_init(struct search *s, const struct catalog *c)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    s->n = c->nreleases;
    size_t m = s->n + 1;
    s->tsize = 1;
    while (s->tsize < s->n)
        s->tsize *= 2;
    /* One allocation for every array: a search is short-lived and should not churn the heap. */
    size_t words = 7 * m + 2 * s->tsize, bytes = words * sizeof(size_t) + m * sizeof(uint64_t) +
                                                 m * sizeof(struct heap_entry) + 2 * m;
    s->arena = calloc(1, bytes);
    if (!s->arena)
        return -1;
    size_t *w = s->arena;
    s->canon = w, w += m;
    s->order = w, w += m;
    s->pos = w, w += m;
    s->hops = w, w += m;
    s->via = w, w += m;
    s->pred = w, w += m;
    w += m; /* keeps the following arrays 8-byte aligned whatever m is */
    s->tree = w, w += 2 * s->tsize;
    s->bytes = (uint64_t *)w;
    s->heap = (struct heap_entry *)(s->bytes + m);
    s->eligible = (unsigned char *)(s->heap + m);
    s->settled = s->eligible + m;
    for (size_t i = 0; i < m; i++)
        s->via[i] = s->pos[i] = SIZE_MAX;
    for (size_t i = 0; i < s->n; i++)
        s->canon[i] =
            i > 0 && version_key_compare(&c->releases[i].key, &c->releases[i - 1].key) == 0
                ? s->canon[i - 1]
                : i;
    return 0;
}

static void build_tree(struct search *s)
{
    /* Counting sort by first_over (an index below n), borrowing hops[] for the counts. */
    size_t *count = s->hops;
    for (size_t r = 0; r < s->n; r++)
        if (s->eligible[r] && s->c->releases[r].first_over <= s->c->releases[r].last_over)
            count[s->c->releases[r].first_over + 1]++, s->norder++;
    for (size_t i = 1; i < s->n + 1; i++)
        count[i] += count[i - 1];
    for (size_t r = 0; r < s->n; r++)
        if (s->eligible[r] && s->c->releases[r].first_over <= s->c->releases[r].last_over)
            s->order[count[s->c->releases[r].first_over]++] = r;
    memset(s->hops, 0, (s->n + 1) * sizeof *s->hops);
    for (size_t p = 0; p < s->norder; p++) {
        s->pos[s->order[p]] = p;
        s->tree[s->tsize + p] = s->c->releases[s->order[p]].last_over + 1;
    }
    for (size_t i = s->tsize - 1; i >= 1; i--)
        s->tree[i] = s->tree[2 * i] > s->tree[2 * i + 1] ? s->tree[2 * i] : s->tree[2 * i + 1];
}

/* First index of the releases whose version equals key; *count of them. */
static size_t find_version(const struct catalog *c, const struct version_key *key, size_t *count)
{
    size_t lo = 0, hi = c->nreleases;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (version_key_compare(&c->releases[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < c->nreleases && version_key_compare(&c->releases[end].key, key) == 0)
        end++;
    *count = end - lo;
    return lo;
}

/* Picks the target state and explains when the target itself is the obstacle. */
static ug_err resolve_target(const struct catalog *c, const struct plan_request *req,
                             const struct version_key *limit, size_t *target, char *err)
{
    const char *hw = req->hardware;
    if (strcmp(req->to, "latest") == 0) {
        size_t i = c->nreleases;
        while (i > 0 &&
               (c->releases[i - 1].withdrawn || !catalog_release_fits(&c->releases[i - 1], hw)))
            i--;
        if (i == 0)
            return ug_fail(err, UG_ERR_NO_PATH,
                           "no release of %s that is not withdrawn fits hardware %s", c->product,
                           hw ? hw : "(any)");
        *target = i - 1;
    } else {
        struct version_key key;
        if (version_key_make(req->to, &key) != 0)
            return ug_fail(err, UG_ERR_USAGE, "target '%s' is not a version", req->to);
        size_t count, first = find_version(c, &key, &count);
        free(key.bytes);
        if (count == 0)
            return ug_fail(err, UG_ERR_NO_PATH, "target %s is not in the catalog of %s", req->to,
                           c->product);
        size_t live = 0, fits = 0;
        for (size_t i = first; i < first + count; i++) {
            live += !c->releases[i].withdrawn;
            fits += !c->releases[i].withdrawn && catalog_release_fits(&c->releases[i], hw);
        }
        if (live == 0)
            return ug_fail(err, UG_ERR_NO_PATH, "target %s is withdrawn", req->to);
        if (fits == 0)
            return ug_fail(err, UG_ERR_NO_PATH, "target %s does not fit hardware %s", req->to, hw);
        *target = first;
    }
    const struct catalog_release *t = &c->releases[*target];
    if (limit && version_key_compare(&t->key, limit) < 0)
        return ug_fail(err, UG_ERR_VERIFY, "downgrade to %s refused: Downgrade_Rev_Limit is %s",
                       t->version, req->downgrade_limit);
    return UG_OK;
}

static ug_err build_plan(struct search *s, const struct plan_request *req, size_t start,
                         size_t target, struct plan *out, char *err)
{
    size_t n = s->hops[target];
    out->hops = calloc(n ? n : 1, sizeof *out->hops);
    if (!out->hops)
        return ug_oom(err);
    out->nhops = n;
    out->total_size = s->bytes[target];
    size_t state = target;
    for (size_t k = n; k-- > 0;) {
        size_t r = s->via[state];
        size_t from = s->pred[r];
        out->hops[k].release = &s->c->releases[r];
        out->hops[k].from = from == s->n ? req->from : s->c->releases[from].version;
        state = from;
    }
    (void)start;
    return UG_OK;
}

ug_err planner_plan(const struct catalog *c, const struct plan_request *req, struct plan *out,
                    char *err)
{
    struct version_key from = {0}, limit = {0};
    struct search s;
    int have_limit = req->downgrade_limit && req->downgrade_limit[0];
    ug_err rc = UG_OK;
    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);

    if (!req->from || version_key_make(req->from, &from) != 0)
        return ug_fail(err, UG_ERR_USAGE, "running version '%s' is not a version",
                       req->from ? req->from : "");
    if (!req->to) {
        rc = ug_fail(err, UG_ERR_USAGE, "no target version");
        goto out;
    }
    if (have_limit && version_key_make(req->downgrade_limit, &limit) != 0) {
        rc = ug_fail(err, UG_ERR_USAGE, "Downgrade_Rev_Limit '%s' is not a version",
                     req->downgrade_limit);
        goto out;
    }
    size_t target = 0;
    rc = resolve_target(c, req, have_limit ? &limit : NULL, &target, err);
    if (rc != UG_OK)
        goto out;
    out->target = c->releases[target].version;
    if (version_key_compare(&from, &c->releases[target].key) == 0)
        goto out; /* already there: an empty plan */

    if (search_init(&s, c) != 0) {
        rc = ug_oom(err);
        goto out;
    }
    for (size_t r = 0; r < s.n; r++) {
        const struct catalog_release *rel = &c->releases[r];
        s.eligible[r] = !rel->withdrawn && catalog_release_fits(rel, req->hardware) &&
                        (!have_limit || version_key_compare(&rel->key, &limit) >= 0);
    }
    build_tree(&s);
    target = s.canon[target];

    size_t count, start = find_version(c, &from, &count);
    if (count == 0)
        start = s.n;
    s.via[start] = SIZE_MAX;
    heap_push(&s, (struct heap_entry){0, 0, start});
    size_t first_hops = 0, highest = SIZE_MAX;
    while (s.nheap > 0) {
        struct heap_entry e = heap_pop(&s);
        if (s.settled[e.state])
            continue;
        s.settled[e.state] = 1;
        if (e.state != start && (highest == SIZE_MAX || e.state > highest))
            highest = e.state;
        if (e.state == target)
            break;
        if (e.state == s.n)
            first_hops = expand_virtual(&s, &from);
        else
            expand_index(&s, e.state);
        if (e.state == start && start != s.n)
            first_hops = s.nheap;
    }
    if (!s.settled[target]) {
        if (first_hops == 0)
            rc = ug_fail(err, UG_ERR_NO_PATH,
                         "no path from %s to %s: no usable release installs over %s "
                         "(min_from/max_from, hardware, withdrawn)",
                         req->from, out->target, req->from);
        else
            rc = ug_fail(err, UG_ERR_NO_PATH,
                         "no path from %s to %s: no chain of min_from/max_from "
                         "reaches it (the furthest reachable is %s)",
                         req->from, out->target, c->releases[highest].version);
        goto out;
    }
    rc = build_plan(&s, req, start, target, out, err);
out:
    if (rc != UG_OK)
        plan_free(out);
    search_free(&s);
    free(from.bytes);
    free(limit.bytes);
    return rc;
}

void plan_free(struct plan *p)
{
    free(p->hops);
    memset(p, 0, sizeof *p);
}
