/* SPDX-License-Identifier: MIT */
/* Unit tests of the boot state (bootstate.c): the selection logic as table-driven stories,
 * the backends chosen by name and the dispatch to them, the path conveniences and the lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bootctl/bootstate.h"

#define A BOOTSTATE_SLOT_A
#define B BOOTSTATE_SLOT_B

/* ---- selection logic: each story is a list of steps from a starting state ---- */

enum op {
    END,
    SET_ACTIVE,
    BOOT,
    MARK_GOOD,
    MARK_BAD
};

struct step {
    enum op op;
    int slot;       /* SET_ACTIVE, MARK_BAD: the slot; BOOT: the slot expected (-1: none) */
    unsigned tries; /* SET_ACTIVE */
    ug_err rc;      /* expected result */
    bool fallback;  /* BOOT: expected fallback flag */
};

struct slot_expect {
    unsigned priority, tries;
    bool successful;
};

struct story {
    const char *name;
    bool explicit_start;         /* false: the factory state */
    struct slot_expect start[2]; /* used when explicit_start */
    int start_booted;
    struct step steps[12];
    struct slot_expect end[2];
    int end_booted;
};

/* Step constructors, so the stories read as what happens. */
#define ACTIVE(s, n, rc)            \
    {                               \
        SET_ACTIVE, s, n, rc, false \
    }
#define BOOTS(s, fb)          \
    {                         \
        BOOT, s, 0, UG_OK, fb \
    }
#define NO_BOOT                          \
    {                                    \
        BOOT, -1, 0, UG_ERR_OTHER, false \
    }
#define GOOD(rc)                   \
    {                              \
        MARK_GOOD, 0, 0, rc, false \
    }
#define BAD(s, rc)                \
    {                             \
        MARK_BAD, s, 0, rc, false \
    }
#define DONE                    \
    {                           \
        END, 0, 0, UG_OK, false \
    }

static const struct story stories[] = {
    {"first boot: the factory slot A boots, nothing to use up",
     false,
     {{0}},
     0,
     {BOOTS(A, false), BOOTS(A, false), DONE},
     {{15, 0, true}, {0, 0, false}},
     A},
    {"successful upgrade: B boots on a try, is marked good, stays",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), GOOD(UG_OK), BOOTS(B, false), BOOTS(B, false), DONE},
     {{14, 0, true}, {15, 0, true}},
     B},
    {"new slot fails twice, the third boot falls back to A",
     false,
     {{0}},
     0,
     {ACTIVE(B, 2, UG_OK), BOOTS(B, false), BOOTS(B, false), BOOTS(A, true), BOOTS(A, true), DONE},
     {{14, 0, true}, {15, 0, false}},
     A},
    {"the agent gives up on B after the rollback: no longer a fallback",
     false,
     {{0}},
     0,
     {ACTIVE(B, 1, UG_OK), BOOTS(B, false), BOOTS(A, true), BAD(B, UG_OK), BOOTS(A, false), DONE},
     {{14, 0, true}, {0, 0, false}},
     A},
    {"mark-bad of a slot on trial: the next boot takes A at once",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), BAD(B, UG_OK), BOOTS(A, false), DONE},
     {{14, 0, true}, {0, 0, false}},
     A},
    {"mark-good after mark-bad is refused",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), BAD(B, UG_OK), GOOD(UG_ERR_OTHER), DONE},
     {{14, 0, true}, {0, 0, false}},
     B},
    {"mark-bad of the old slot after an upgrade: B alone",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), GOOD(UG_OK), BAD(A, UG_OK), BOOTS(B, false), DONE},
     {{0, 0, false}, {15, 0, true}},
     B},
    {"upgrade back to A after B became good",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), GOOD(UG_OK), ACTIVE(A, 2, UG_OK), BOOTS(A, false),
      BOOTS(A, false), BOOTS(B, true), DONE},
     {{15, 0, false}, {14, 0, true}},
     B},
    {"equal priorities, both successful: A",
     true,
     {{5, 0, true}, {5, 0, true}},
     B,
     {BOOTS(A, false), DONE},
     {{5, 0, true}, {5, 0, true}},
     A},
    {"equal priorities, both on trial: A, and A's try is used",
     true,
     {{5, 2, false}, {5, 2, false}},
     B,
     {BOOTS(A, false), BOOTS(A, false), BOOTS(B, true), DONE},
     {{5, 0, false}, {5, 1, false}},
     B},
    {"equal priorities, A out of tries: B, as a fallback",
     true,
     {{5, 0, false}, {5, 0, true}},
     A,
     {BOOTS(B, true), DONE},
     {{5, 0, false}, {5, 0, true}},
     B},
    {"higher priority wins over A",
     true,
     {{3, 0, true}, {4, 0, true}},
     A,
     {BOOTS(B, false), DONE},
     {{3, 0, true}, {4, 0, true}},
     B},
    {"both unbootable: no slot, state unchanged",
     false,
     {{0}},
     0,
     {ACTIVE(B, 1, UG_OK), BAD(A, UG_OK), BOOTS(B, false), NO_BOOT, NO_BOOT, DONE},
     {{0, 0, false}, {15, 0, false}},
     B},
    {"both marked bad: no slot",
     false,
     {{0}},
     0,
     {BAD(A, UG_OK), BAD(B, UG_OK), NO_BOOT, DONE},
     {{0, 0, false}, {0, 0, false}},
     A},
    {"priority 0 with tries left is not bootable",
     true,
     {{0, 3, false}, {0, 0, true}},
     A,
     {NO_BOOT, DONE},
     {{0, 3, false}, {0, 0, true}},
     A},
    {"bad tries and slots are refused, state unchanged",
     false,
     {{0}},
     0,
     {ACTIVE(B, 0, UG_ERR_USAGE), ACTIVE(B, 8, UG_ERR_USAGE), ACTIVE(2, 3, UG_ERR_USAGE),
      BAD(-1, UG_ERR_USAGE), DONE},
     {{15, 0, true}, {0, 0, false}},
     A},
};

static void start_state(const struct story *s, struct bootstate *st)
{
    char err[UG_ERRBUF];
    assert_int_equal(bootstate_init_fresh(st, "1.0.0", err), UG_OK);
    if (!s->explicit_start)
        return;
    for (int i = 0; i < 2; i++) {
        st->slot[i].priority = s->start[i].priority;
        st->slot[i].tries = s->start[i].tries;
        st->slot[i].successful = s->start[i].successful;
    }
    st->booted = s->start_booted;
}

static void test_selection_stories(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < sizeof stories / sizeof stories[0]; i++) {
        const struct story *s = &stories[i];
        struct bootstate st;
        start_state(s, &st);
        for (int k = 0; s->steps[k].op != END; k++) {
            const struct step *p = &s->steps[k];
            char err[UG_ERRBUF] = "";
            struct bootstate before = st;
            ug_err rc = UG_OK;
            int slot = -1;
            switch (p->op) {
            case SET_ACTIVE:
                rc = bootstate_set_active(&st, p->slot, p->tries, err);
                break;
            case BOOT:
                rc = bootstate_select_boot(&st, &slot, err);
                break;
            case MARK_GOOD:
                rc = bootstate_mark_good(&st, err);
                break;
            case MARK_BAD:
                rc = bootstate_mark_bad(&st, p->slot, err);
                break;
            case END:
                break;
            }
            if (rc != p->rc)
                fail_msg("%s, step %d: result %d, expected %d (%s)", s->name, k, rc, p->rc, err);
            if (rc != UG_OK) {
                if (!err[0])
                    fail_msg("%s, step %d: failed without a message", s->name, k);
                if (!bootstate_equal(&before, &st))
                    fail_msg("%s, step %d: a refused step changed the state", s->name, k);
                continue;
            }
            if (p->op == BOOT &&
                (slot != p->slot || st.booted != p->slot || st.fallback != p->fallback))
                fail_msg("%s, step %d: booted %c fallback %d, expected %c fallback %d", s->name, k,
                         bootstate_slot_letter(slot), st.fallback, bootstate_slot_letter(p->slot),
                         p->fallback);
        }
        for (int n = 0; n < 2; n++) {
            const struct slot_expect *e = &s->end[n];
            const struct bootstate_slot *got = &st.slot[n];
            if (got->priority != e->priority || got->tries != e->tries ||
                got->successful != e->successful)
                fail_msg(
                    "%s: slot %c ends with priority %u tries %u successful %d, expected %u %u %d",
                    s->name, bootstate_slot_letter(n), got->priority, got->tries, got->successful,
                    e->priority, e->tries, e->successful);
        }
        if (st.booted != s->end_booted)
            fail_msg("%s: booted %c, expected %c", s->name, bootstate_slot_letter(st.booted),
                     bootstate_slot_letter(s->end_booted));
    }
}

/* For every allowed N: exactly N boots of the new slot, then the old one as a fallback. */
static void test_tries_are_counted(void **unused)
{
    (void)unused;
    char err[UG_ERRBUF];
    for (unsigned n = 1; n <= BOOTSTATE_TRIES_MAX; n++) {
        struct bootstate st;
        assert_int_equal(bootstate_init_fresh(&st, "1.0.0", err), UG_OK);
        assert_int_equal(bootstate_set_active(&st, B, n, err), UG_OK);
        int slot;
        for (unsigned k = 0; k < n; k++) {
            assert_int_equal(bootstate_select_boot(&st, &slot, err), UG_OK);
            assert_int_equal(slot, B);
            assert_int_equal(st.slot[B].tries, n - k - 1);
        }
        assert_int_equal(bootstate_select_boot(&st, &slot, err), UG_OK);
        assert_int_equal(slot, A);
        assert_true(st.fallback);
    }
}

static void test_slot_letters_and_versions(void **unused)
{
    (void)unused;
    assert_int_equal(bootstate_slot_from_letter("A"), A);
    assert_int_equal(bootstate_slot_from_letter("b"), B);
    assert_int_equal(bootstate_slot_from_letter("C"), -1);
    assert_int_equal(bootstate_slot_from_letter("AB"), -1);
    assert_int_equal(bootstate_slot_from_letter(""), -1);
    assert_int_equal(bootstate_slot_letter(B), 'B');

    struct bootstate st;
    char err[UG_ERRBUF];
    char longest[BOOTSTATE_VERSION_MAX];
    memset(longest, '7', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    assert_int_equal(bootstate_init_fresh(&st, longest, err), UG_OK);
    assert_string_equal(st.slot[A].version, longest);
    char too_long[BOOTSTATE_VERSION_MAX + 1];
    memset(too_long, '7', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    assert_int_equal(bootstate_set_version(&st, B, too_long, err), UG_ERR_USAGE);
    assert_int_equal(bootstate_set_version(&st, B, "1.0\n", err), UG_ERR_USAGE);
    assert_int_equal(bootstate_set_version(&st, B, "2.0.0", err), UG_OK);
    assert_string_equal(st.slot[B].version, "2.0.0");
    assert_string_equal(st.slot[A].version, longest);
}

/* ---- the backends and the dispatch ---- */

static void test_backends_by_name(void **unused)
{
    (void)unused;
    char names[256], err[UG_ERRBUF];
    const struct bootstate_backend *file = bootstate_backend_find("file");
    assert_non_null(file);
    assert_string_equal(file->name, "file");
    assert_string_equal(file->default_location, BOOTSTATE_DEFAULT_ENV);
    assert_int_equal(file->copies, 2);
    assert_null(bootstate_backend_find("barebox"));
    assert_null(bootstate_backend_find("File"));
    assert_null(bootstate_backend_find(""));
    assert_null(bootstate_backend_find(NULL));
    bootstate_backend_names(names, sizeof names);
    assert_string_equal(names, "file, grub, uboot");

    struct bootstate_store store;
    assert_int_equal(bootstate_store_init(&store, "file", "/var/x/bootenv", err), UG_OK);
    assert_ptr_equal(store.backend, file);
    assert_string_equal(store.location, "/var/x/bootenv");
    assert_string_equal(store.lock_path, "/var/x/bootenv" BOOTSTATE_LOCK_SUFFIX);
    assert_int_equal(bootstate_store_init(&store, "barebox", "/dev/state", err), UG_ERR_USAGE);
    assert_string_equal(err, "unknown boot-state backend 'barebox' (known: file, grub, uboot)");
    assert_int_equal(bootstate_store_init(&store, NULL, "/x", err), UG_ERR_USAGE);
    assert_int_equal(bootstate_store_init(&store, "file", "", err), UG_ERR_USAGE);
    assert_non_null(strstr(err, "needs a location"));
    char *long_path = malloc(BOOTSTATE_LOCATION_MAX + 1);
    assert_non_null(long_path);
    memset(long_path, 'a', BOOTSTATE_LOCATION_MAX);
    long_path[BOOTSTATE_LOCATION_MAX] = '\0';
    assert_int_equal(bootstate_store_init(&store, "file", long_path, err), UG_ERR_USAGE);
    assert_non_null(strstr(err, "too long"));
    free(long_path);
}

/* A backend that records what the dispatch hands it. */
static struct {
    int loads, saves, creates;
    char location[64];
    struct bootstate health_seen; /* st as load received it */
    struct bootstate created;
    ug_err save_rc;
} fake;

static ug_err fake_load(const char *location, struct bootstate *st, char *err)
{
    (void)err;
    fake.loads++;
    snprintf(fake.location, sizeof fake.location, "%s", location);
    fake.health_seen = *st;
    st->slot[A].priority = 9;
    st->health.copy[0] = BOOTSTATE_COPY_VALID;
    st->health.serving = 0;
    return UG_OK;
}

static ug_err fake_save(const char *location, struct bootstate *st, char *err)
{
    (void)location;
    fake.saves++;
    st->health.serving = 0;
    return fake.save_rc == UG_OK ? UG_OK : ug_fail(err, fake.save_rc, "medium gone");
}

static ug_err fake_create(const char *location, const struct bootstate *fresh, char *err)
{
    (void)location, (void)err;
    fake.creates++;
    fake.created = *fresh;
    return UG_OK;
}

static const struct bootstate_backend fake_backend = {
    "fake", "/nowhere", 1, fake_load, fake_save, fake_create, 0, NULL,
};

static void test_dispatch_to_the_backend(void **unused)
{
    (void)unused;
    char err[UG_ERRBUF];
    struct bootstate_store store = {.backend = &fake_backend, .location = "fake0"};
    struct bootstate st;
    memset(&st, 0x7f, sizeof st); /* load starts from a clean state, whatever was there */
    assert_int_equal(bootstate_store_load(&store, &st, err), UG_OK);
    assert_int_equal(fake.loads, 1);
    assert_string_equal(fake.location, "fake0");
    /* The health the backend starts from: its copy count, nothing valid, none serving. */
    assert_int_equal(fake.health_seen.health.copies, 1);
    assert_int_equal(fake.health_seen.health.copy[0], BOOTSTATE_COPY_MISSING);
    assert_int_equal(fake.health_seen.health.serving, -1);
    assert_int_equal(fake.health_seen.slot[B].priority, 0);
    assert_int_equal(st.slot[A].priority, 9);

    /* A state no backend may store is refused before the backend sees it. */
    assert_int_equal(bootstate_init_fresh(&st, "1.0", err), UG_OK);
    st.slot[B].tries = BOOTSTATE_TRIES_MAX + 1;
    assert_int_equal(bootstate_store_save(&store, &st, err), UG_ERR_USAGE);
    assert_non_null(strstr(err, "boot state not saved: slot B"));
    st.slot[B].tries = 0;
    st.booted = 2;
    assert_int_equal(bootstate_store_save(&store, &st, err), UG_ERR_USAGE);
    assert_int_equal(fake.saves, 0);
    st.booted = B;
    assert_int_equal(bootstate_store_save(&store, &st, err), UG_OK);
    assert_int_equal(fake.saves, 1);
    fake.save_rc = UG_ERR_OTHER;
    assert_int_equal(bootstate_store_save(&store, &st, err), UG_ERR_OTHER);
    assert_string_equal(err, "boot state not saved: medium gone");
    fake.save_rc = UG_OK;

    /* create hands the backend the factory state. */
    assert_int_equal(bootstate_store_create(&store, "4.5.6", err), UG_OK);
    assert_int_equal(fake.creates, 1);
    assert_string_equal(fake.created.slot[A].version, "4.5.6");
    assert_true(fake.created.slot[A].successful);
    assert_int_equal(fake.created.slot[B].priority, 0);
    assert_int_equal(bootstate_store_create(&store, "1.0\n", err), UG_ERR_USAGE);
    assert_int_equal(fake.creates, 1);
}

/* ---- the path conveniences: the file backend at that path ---- */

struct tmp {
    char dir[64];
    char path[128];
};

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/test_bootstate.XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/bootenv", t->dir);
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    char lock[160];
    snprintf(lock, sizeof lock, "%s%s", t->path, BOOTSTATE_LOCK_SUFFIX);
    unlink(lock);
    unlink(t->path);
    rmdir(t->dir);
    free(t);
    return 0;
}

static void test_path_conveniences_are_the_file_backend(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct bootstate st, back;
    assert_int_equal(bootstate_load(t->path, &st, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(st.health.copies, 2);
    assert_int_equal(bootstate_create(t->path, "1.2.3", err), UG_OK);
    struct bootstate_store store;
    assert_int_equal(bootstate_store_init(&store, "file", t->path, err), UG_OK);
    assert_int_equal(bootstate_store_load(&store, &back, err), UG_OK);
    assert_string_equal(back.slot[A].version, "1.2.3");
    assert_int_equal(bootstate_load(t->path, &st, err), UG_OK);
    assert_int_equal(bootstate_set_active(&st, B, 3, err), UG_OK);
    assert_int_equal(bootstate_save(t->path, &st, err), UG_OK);
    assert_int_equal(bootstate_store_load(&store, &back, err), UG_OK);
    assert_true(bootstate_equal(&st, &back));
    assert_int_equal(bootstate_load("", &st, err), UG_ERR_USAGE);
    assert_int_equal(st.health.serving, -1);

    /* The path's lock and the store's are one lock. */
    int fd = -1, other = -1;
    assert_int_equal(bootstate_lock(t->path, 0, &fd, err), UG_OK);
    assert_int_equal(bootstate_store_lock(&store, 0, &other, err), UG_ERR_OTHER);
    assert_int_equal(other, -1);
    bootstate_unlock(&fd);
    assert_int_equal(bootstate_store_lock(&store, 0, &other, err), UG_OK);
    bootstate_unlock(&other);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Another process holds the lock: a short wait gives up with a clear error, a long one gets
 * the lock once the holder is done; the holder's death releases it too. */
static void test_lock_serialises_processes(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    int fd = -1;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t holder = fork();
    assert_true(holder >= 0);
    if (holder == 0) {
        int mine = -1;
        char e[UG_ERRBUF];
        if (bootstate_lock(t->path, 0, &mine, e) != UG_OK)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        usleep(400000);
        _exit(0); /* exiting releases the lock: no unlock needed after a crash either */
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    double t0 = seconds_now();
    assert_int_equal(bootstate_lock(t->path, 50, &fd, err), UG_ERR_OTHER);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(err, "another process holds the boot state too long"));
    assert_non_null(strstr(err, BOOTSTATE_LOCK_SUFFIX));
    assert_int_equal(bootstate_lock(t->path, 5000, &fd, err), UG_OK);
    assert_true(fd >= 0);
    assert_true(seconds_now() - t0 >= 0.3); /* it waited for the holder */
    int status = 0;
    assert_int_equal(waitpid(holder, &status, 0), holder);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Held here, so not free for a second descriptor of this process either. */
    int second = -1;
    assert_int_equal(bootstate_lock(t->path, 0, &second, err), UG_ERR_OTHER);
    bootstate_unlock(&fd);
    assert_int_equal(fd, -1);
    bootstate_unlock(&fd); /* twice is harmless */
    assert_int_equal(bootstate_lock(t->path, 0, &second, err), UG_OK);
    bootstate_unlock(&second);
    close(ready[0]);
    close(ready[1]);
}

static void test_lock_refusals(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF], path[256];
    int fd = 7;
    snprintf(path, sizeof path, "%s/no-such-folder/bootenv", t->dir);
    assert_int_equal(bootstate_lock(path, 0, &fd, err), UG_ERR_OTHER);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(err, "cannot open"));
    char *long_path = malloc(5000);
    assert_non_null(long_path);
    memset(long_path, 'a', 4999);
    long_path[4999] = '\0';
    assert_int_equal(bootstate_lock(long_path, 0, &fd, err), UG_ERR_USAGE);
    free(long_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection_stories),
        cmocka_unit_test(test_tries_are_counted),
        cmocka_unit_test(test_slot_letters_and_versions),
        cmocka_unit_test(test_backends_by_name),
        cmocka_unit_test(test_dispatch_to_the_backend),
        cmocka_unit_test_setup_teardown(test_path_conveniences_are_the_file_backend, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_lock_serialises_processes, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_lock_refusals, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests_name("bootstate", tests, NULL, NULL);
}
