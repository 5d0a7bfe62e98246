/* SPDX-License-Identifier: MIT */
/* Unit tests of the parameter store (params.c): defaults, access levels, secrets, the
 * all-or-nothing apply, export/re-apply round trip, the schema and damaged files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fsutil.h"
#include "lang/params.h"

struct fixture {
    char root[64];
    char path[128];
    struct state_folder folder;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/test_params.XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/params", f->root);
    char err[UG_ERRBUF];
    if (state_folder_open(f->root, &f->folder, err) != UG_OK ||
        params_create_defaults(&f->folder, err) != UG_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    int rc = system(cmd);
    state_folder_close(&f->folder);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void read_file(const char *path, struct buf *out)
{
    char err[UG_ERRBUF];
    buf_reset(out);
    assert_int_equal(fs_read_file(path, 1 << 24, out, err), UG_OK);
}

static void apply_text(struct param_store *s, const char *text, ug_err want, const char *message)
{
    struct profile p;
    char err[UG_ERRBUF] = "";
    assert_int_equal(profile_parse(text, strlen(text), "p.xml", &p, err), UG_OK);
    ug_err rc = params_apply(s, &p, "p.xml", NULL, err);
    if (rc != want)
        fail_msg("apply: rc %d (%s), expected %d", rc, err, want);
    if (message && strcmp(err, message) != 0)
        fail_msg("message '%s', expected '%s'", err, message);
    profile_free(&p);
}

static void test_defaults_and_access(void **state)
{
    struct fixture *f = *state;
    struct param_store s;
    char err[UG_ERRBUF];
    const char *v;
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    assert_string_equal(params_value(&s, "Profile_Rule"), "/$PSN.xml");
    assert_string_equal(params_value(&s, "Resync_At"), ""); /* alias */
    assert_null(params_value(&s, "Nope"));
    /* admin reads everything but secrets without the flag */
    assert_int_equal(params_get(&s, "Provision_Enable", PARAM_ROLE_ADMIN, 0, &v, err), UG_OK);
    assert_string_equal(v, "Yes");
    assert_int_equal(params_get(&s, "GPP_SA", PARAM_ROLE_ADMIN, 0, &v, err), UG_ERR_OTHER);
    assert_string_equal(err, "GPP_SA is secret; add --show-secrets to print it");
    assert_int_equal(params_get(&s, "GPP_SA", PARAM_ROLE_ADMIN, 1, &v, err), UG_OK);
    assert_int_equal(params_get(&s, "Nope", PARAM_ROLE_ADMIN, 0, &v, err), UG_ERR_USAGE);
    assert_string_equal(err, "Nope: no such parameter");
    /* the user: na hidden, ro readable, rw writable */
    assert_int_equal(params_get(&s, "Provision_Enable", PARAM_ROLE_USER, 0, &v, err), UG_ERR_OTHER);
    assert_string_equal(err, "Provision_Enable: the user has no access to this parameter");
    assert_int_equal(params_get(&s, "Enable_Web_Server", PARAM_ROLE_USER, 0, &v, err), UG_OK);
    assert_int_equal(params_set(&s, "Enable_Web_Server", "No", PARAM_ROLE_USER, err), UG_ERR_OTHER);
    assert_string_equal(err, "Enable_Web_Server: the user may not change it (access ro)");
    assert_int_equal(params_set(&s, "Provision_Enable", "No", PARAM_ROLE_USER, err), UG_ERR_OTHER);
    assert_string_equal(err, "Provision_Enable: the user may not change it (access na)");
    assert_int_equal(params_set(&s, "User_Password", "hunter22", PARAM_ROLE_USER, err), UG_OK);
    assert_int_equal(params_get(&s, "User_Password", PARAM_ROLE_USER, 0, &v, err), UG_ERR_OTHER);
    assert_int_equal(params_set(&s, "Provision_Enable", "disable", PARAM_ROLE_ADMIN, err), UG_OK);
    assert_string_equal(params_value(&s, "Provision_Enable"), "No");
    assert_int_equal(params_set(&s, "Provision_Enable", "maybe", PARAM_ROLE_ADMIN, err),
                     UG_ERR_USAGE);
    assert_string_equal(params_value(&s, "Provision_Enable"), "No");
    assert_int_equal(
        params_set(&s, "GPP_A", "tab\there\nnewline \\ backslash", PARAM_ROLE_ADMIN, err), UG_OK);
    params_close(&s);
    /* what was saved comes back */
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    assert_string_equal(params_value(&s, "Provision_Enable"), "No");
    assert_string_equal(params_value(&s, "User_Password"), "hunter22");
    assert_string_equal(params_value(&s, "GPP_A"), "tab\there\nnewline \\ backslash");
    assert_string_equal(params_macro_lookup(&s, "GPP_A"), "tab\there\nnewline \\ backslash");
    params_close(&s);
}

static void test_apply_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    struct param_store s;
    char err[UG_ERRBUF];
    struct buf before = {0}, after = {0};
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    apply_text(
        &s,
        "<flat-profile><GPP_A>one</GPP_A><Enable_Web_Server ua=\"rw\">No</Enable_Web_Server>"
        "<Provision_Enable ua=\"ro\" preserve-value=\"y\">No</Provision_Enable></flat-profile>",
        UG_OK, NULL);
    assert_string_equal(params_value(&s, "GPP_A"), "one");
    assert_string_equal(params_value(&s, "Enable_Web_Server"), "No");
    assert_int_equal(s.access[paramdefs_find(&s.table, "Enable_Web_Server")], PARAM_RW);
    assert_string_equal(params_value(&s, "Provision_Enable"), "Yes"); /* preserved */
    assert_int_equal(s.access[paramdefs_find(&s.table, "Provision_Enable")], PARAM_RO);
    read_file(f->path, &before);
    /* one bad value among good ones costs that value only: the rest is applied, in one save */
    struct profile bad;
    struct params_apply_result bres;
    static const char mixed[] =
        "<flat-profile>\n<GPP_A>two</GPP_A>\n<GPP_B>x</GPP_B>\n"
        "<Resync_Periodic ua=\"rw\">soon</Resync_Periodic>\n<GPP_C ua=\"rw\">y</GPP_C>\n"
        "</flat-profile>";
    assert_int_equal(profile_parse(mixed, strlen(mixed), "p.xml", &bad, err), UG_OK);
    assert_int_equal(params_apply(&s, &bad, "p.xml", &bres, err), UG_OK);
    assert_string_equal(params_value(&s, "GPP_A"), "two");
    assert_string_equal(params_value(&s, "GPP_B"), "x");
    assert_string_equal(params_value(&s, "Resync_Periodic"), "3600"); /* the old value stays */
    assert_int_equal(s.access[paramdefs_find(&s.table, "Resync_Periodic")], PARAM_NA);
    assert_int_equal(s.access[paramdefs_find(&s.table, "GPP_C")], PARAM_RW);
    assert_int_equal(bres.taken, 3);
    assert_int_equal(bres.ignored, 1);
    assert_int_equal(bres.n_notes, 1);
    assert_int_equal(bres.notes[0].kind, PARAMS_NOTE_IGNORED);
    assert_int_equal(bres.notes[0].line, 4);
    assert_string_equal(bres.notes[0].name, "Resync_Periodic");
    assert_string_equal(bres.notes[0].why,
                        "'soon' is not a delay list: delay list 'soon': column 1: expected a "
                        "number of seconds; ignored, the old value stays");
    params_apply_result_free(&bres);
    profile_free(&bad);
    read_file(f->path, &after);
    assert_true(after.len != before.len || memcmp(before.data, after.data, before.len) != 0);
    /* unknown names are counted and named, and do not stop the rest */
    struct profile p;
    struct params_apply_result res;
    static const char text[] =
        "Line_Enable[1] ! \"Yes\";\nGPP_B \"b\";\nFoo_Bar ;\nGPP_B \"b2\";\n";
    assert_int_equal(profile_parse(text, strlen(text), "t.txt", &p, err), UG_OK);
    assert_int_equal(params_apply(&s, &p, "t.txt", &res, err), UG_OK);
    assert_int_equal(res.unknown, 2);
    assert_int_equal(res.n_unknown_names, 2);
    assert_string_equal(res.unknown_names[0], "Line_Enable_1_");
    assert_string_equal(res.unknown_names[1], "Foo_Bar");
    assert_int_equal(res.changed, 1);
    assert_string_equal(params_value(&s, "GPP_B"), "b2");
    /* the text form without ! or ? gives the user no access */
    assert_int_equal(s.access[paramdefs_find(&s.table, "GPP_B")], PARAM_NA);
    params_apply_result_free(&res);
    profile_free(&p);
    params_close(&s);
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    assert_string_equal(params_value(&s, "GPP_B"), "b2");
    params_close(&s);
    buf_free(&before);
    buf_free(&after);
}

static void test_export_round_trip(void **state)
{
    struct fixture *f = *state;
    struct param_store s;
    char err[UG_ERRBUF];
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    apply_text(
        &s,
        "<flat-profile><GPP_A>&lt;a&gt; &amp; \"b\"</GPP_A><GPP_SA>top-secret</GPP_SA>"
        "<Admin_Passwd>adminpw1</Admin_Passwd><Syslog_Server ua=\"rw\">log:514</Syslog_Server>"
        "</flat-profile>",
        UG_OK, NULL);
    struct buf xml = {0}, list = {0}, user = {0}, full = {0};
    assert_int_equal(params_export_xml(&s, PARAM_ROLE_ADMIN, 0, &xml, err), UG_OK);
    assert_null(strstr(xml.data, "top-secret"));
    assert_null(strstr(xml.data, "adminpw1"));
    assert_non_null(strstr(xml.data, "<GPP_SA ua=\"na\" preserve-value=\"y\"/>"));
    assert_non_null(strstr(xml.data, "<GPP_A ua=\"na\">&lt;a&gt; &amp; &quot;b&quot;</GPP_A>"));
    assert_int_equal(params_list(&s, PARAM_ROLE_ADMIN, &list, err), UG_OK);
    assert_null(strstr(list.data, "top-secret"));
    assert_non_null(strstr(list.data, "GPP_SA\tna\t********\n"));
    assert_non_null(strstr(list.data, "GPP_SB\tna\t\n"));
    assert_int_equal(params_export_xml(&s, PARAM_ROLE_ADMIN, 1, &full, err), UG_OK);
    assert_non_null(strstr(full.data, "<GPP_SA ua=\"na\">top-secret</GPP_SA>"));
    assert_int_equal(params_export_xml(&s, PARAM_ROLE_USER, 1, &user, err), UG_ERR_OTHER);
    buf_reset(&user);
    assert_int_equal(params_export_xml(&s, PARAM_ROLE_USER, 0, &user, err), UG_OK);
    assert_non_null(strstr(user.data, "<Syslog_Server ua=\"rw\">log:514</Syslog_Server>"));
    assert_null(strstr(user.data, "GPP_A"));
    assert_non_null(strstr(user.data, "<User_Password ua=\"rw\" preserve-value=\"y\"/>"));

    /* the masked export re-applies cleanly and keeps the secrets */
    struct buf before = {0}, after = {0};
    read_file(f->path, &before);
    struct profile p;
    struct params_apply_result res;
    assert_int_equal(profile_parse(xml.data, xml.len, "export.xml", &p, err), UG_OK);
    assert_int_equal(params_apply(&s, &p, "export.xml", &res, err), UG_OK);
    assert_int_equal(res.changed, 0);
    assert_int_equal(res.unknown, 0);
    params_apply_result_free(&res);
    profile_free(&p);
    read_file(f->path, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    assert_string_equal(params_value(&s, "GPP_SA"), "top-secret");
    params_close(&s);
    buf_free(&xml);
    buf_free(&list);
    buf_free(&user);
    buf_free(&full);
    buf_free(&before);
    buf_free(&after);
}

static void write_text(const char *path, const char *text)
{
    char err[UG_ERRBUF];
    assert_int_equal(fs_write_atomic(path, text, strlen(text), 0600, err), UG_OK);
}

static void test_damaged_and_schema(void **state)
{
    struct fixture *f = *state;
    struct param_store s;
    char err[UG_ERRBUF], schema[160];
    struct buf good = {0};
    read_file(f->path, &good);
    static const struct {
        const char *text, *why;
    } damaged[] = {
        {"", "no end line"},
        {"# something else\n# end 0\n", "not a parameter store"},
        {PARAMS_FILE_HEADER "\nGPP_A\tna\tx\n", "no end line"},
        {PARAMS_FILE_HEADER "\nGPP_A\tna\tx\n# end 2\n", "end line says 2 entries, found 1"},
        {PARAMS_FILE_HEADER "\nGPP_A\tna\tx", "incomplete last line"},
        {PARAMS_FILE_HEADER "\nGPP_A\tzz\tx\n# end 1\n", "bad access or escape"},
        {PARAMS_FILE_HEADER "\nGPP_A na x\n# end 1\n", "expected NAME<TAB>ACCESS<TAB>VALUE"},
        {PARAMS_FILE_HEADER "\n# end 0\nGPP_A\tna\tx\n", "text after the end line"},
    };
    /* A damaged store is set aside and rebuilt from the defaults: every command works again
     * (factory-reset first), and the store says what it did. */
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -f %s/params.damaged-*", f->root);
        assert_int_equal(system(cmd), 0);
        write_text(f->path, damaged[i].text);
        err[0] = '\0';
        assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
        assert_non_null(s.recovered);
        if (!strstr(s.recovered, damaged[i].why) || !strstr(s.recovered, "set aside as"))
            fail_msg("case %zu: '%s' does not say '%s'", i, s.recovered, damaged[i].why);
        assert_string_equal(params_value(&s, "GPP_A"), "");
        params_close(&s);
        struct buf rebuilt = {0};
        read_file(f->path, &rebuilt);
        assert_int_equal(rebuilt.len, good.len); /* the defaults, whole */
        assert_memory_equal(rebuilt.data, good.data, good.len);
        buf_free(&rebuilt);
        assert_int_equal(params_open(&f->folder, &s, err), UG_OK); /* nothing more to do */
        assert_null(s.recovered);
        params_close(&s);
    }
    /* the damaged copy is kept beside it, as it was */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "grep -q 'GPP_A.na.x' %s/params.damaged-*", f->root);
    assert_int_equal(system(cmd), 0);
    /* A parameter the schema no longer has is dropped; a new one gets its default. */
    write_text(f->path,
               PARAMS_FILE_HEADER "\nOld_Program_Param\trw\tx\nGPP_A\tro\tkept\n# end 2\n");
    snprintf(schema, sizeof schema, "%s/schema.conf", f->root);
    write_text(schema, "Line_Enable_{1..2}_ \"Yes\" rw bool\nDisplay_Name_1_ \"\" rw text\n");
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    assert_null(params_value(&s, "Old_Program_Param"));
    assert_string_equal(params_value(&s, "GPP_A"), "kept");
    assert_int_equal(s.access[paramdefs_find(&s.table, "GPP_A")], PARAM_RO);
    assert_string_equal(params_value(&s, "Line_Enable_2_"), "Yes");
    apply_text(&s, "Line_Enable[2] ! \"no\";\nDisplay_Name[1] ! \"Alice\";\n", UG_OK, NULL);
    assert_string_equal(params_value(&s, "Line_Enable_2_"), "No");
    apply_text(&s, "Line_Enable[1] \"perhaps\";\nLine_Enable[2] \"\";\n", UG_OK, NULL);
    assert_string_equal(params_value(&s, "Line_Enable_1_"), "Yes"); /* ignored: kept */
    assert_string_equal(params_value(&s, "Line_Enable_2_"), "Yes"); /* empty: the default */
    params_close(&s);
    /* A broken schema is reported with its line. */
    write_text(schema, "Ok \"\" rw text\nBad \"\" rw float\n");
    assert_int_equal(params_open(&f->folder, &s, err), UG_ERR_USAGE);
    assert_non_null(strstr(err, "schema.conf line 2: unknown type 'float'"));
    unlink(schema);
    write_text(f->path, good.data);
    buf_free(&good);
}

/* A change starts from the file as it is, not from what a store read earlier: two stores
 * opened at once (an admin page, a resync) each keep the other's change. */
static void test_changes_do_not_undo_each_other(void **state)
{
    struct fixture *f = *state;
    struct param_store first, second;
    char err[UG_ERRBUF];
    assert_int_equal(params_open(&f->folder, &first, err), UG_OK);
    assert_int_equal(params_open(&f->folder, &second, err), UG_OK);
    assert_int_equal(params_set(&first, "GPP_A", "from the first", PARAM_ROLE_ADMIN, err), UG_OK);
    apply_text(&second, "<flat-profile><GPP_B>from the second</GPP_B></flat-profile>", UG_OK, NULL);
    assert_string_equal(params_value(&second, "GPP_A"), "from the first");
    params_close(&first);
    params_close(&second);
    assert_int_equal(params_open(&f->folder, &first, err), UG_OK);
    assert_string_equal(params_value(&first, "GPP_A"), "from the first");
    assert_string_equal(params_value(&first, "GPP_B"), "from the second");
    params_close(&first);
}

/* Every problem of a real-world profile, each costing one value, all said, none a secret. */
static void test_per_value_result(void **state)
{
    struct fixture *f = *state;
    struct param_store s;
    char err[UG_ERRBUF];
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    assert_int_equal(params_set(&s, "Upgrade_Enable", "No", PARAM_ROLE_ADMIN, err), UG_OK);
    static const char xml[] =
        "<flat-profile>\n"
        "<Upgrade_Enable></Upgrade_Enable>\n"                             /* 2: default */
        "<Resync_At__HHmm_>3:00</Resync_At__HHmm_>\n"                     /* 3: ignored */
        "<GPP_A ua=\"ua\">elastix</GPP_A>\n"                              /* 4: ua kept */
        "<router-configuration>\n<Time_Setup><NTP>x</NTP></Time_Setup>\n" /* 5: section */
        "</router-configuration>\n"
        "<Admin_Password ua=\"rw\">n0tS0Secret!</Admin_Password>\n" /* 8: MPP name; ua refused */
        "<User_Password>abc</User_Password>\n"                      /* 9: too short, ignored */
        "<Resync_Random_Delay>0x0E</Resync_Random_Delay>\n"         /* hex */
        "<Upgrade_Rule>( $SWVER ne 7.6.2 )? /spa-762.bin</Upgrade_Rule>\n"
        "<GPP_B><b>x</b></GPP_B>\n" /* 12: a known name holding elements */
        "<Station_Name>front desk</Station_Name>\n"
        "</flat-profile>\n";
    struct profile p;
    struct params_apply_result r;
    struct params_apply_options o = {.served_by = "prov.example.com"};
    assert_int_equal(profile_parse(xml, strlen(xml), "mpp.xml", &p, err), UG_OK);
    assert_int_equal(params_apply_with(&s, &p, "mpp.xml", &o, &r, err), UG_OK);
    assert_string_equal(params_value(&s, "Upgrade_Enable"), "Yes");
    assert_string_equal(params_value(&s, "Resync_At__HHmm_"), "");
    assert_string_equal(params_value(&s, "GPP_A"), "elastix");
    assert_int_equal(s.access[paramdefs_find(&s.table, "GPP_A")], PARAM_NA);
    assert_string_equal(params_value(&s, "Admin_Passwd"), "n0tS0Secret!");
    assert_int_equal(s.access[paramdefs_find(&s.table, "Admin_Passwd")], PARAM_NA);
    assert_string_equal(params_value(&s, "User_Password"), "");
    assert_string_equal(params_value(&s, "Resync_Random_Delay"), "14");
    assert_string_equal(params_value(&s, "Upgrade_Rule"),
                        "( $SWVER ne 7.6.2 )? prov.example.com/spa-762.bin");
    assert_int_equal(r.defaulted, 1);
    assert_int_equal(r.ignored, 3);
    assert_int_equal(r.unknown, 2);
    struct buf out = {0};
    assert_int_equal(params_apply_result_format(&r, "mpp.xml", &out), 0);
    assert_string_equal(
        out.data,
        "applied mpp.xml: 5 parameters, 5 changed, 1 defaulted, 3 ignored, 2 unknown ignored: "
        "<router-configuration> Station_Name\n"
        "mpp.xml line 2: Upgrade_Enable: empty: the default 'Yes' restored\n"
        "mpp.xml line 3: Resync_At__HHmm_: '3:00' is not a time HHmm from 0000 to 2400; "
        "ignored, the old value stays\n"
        "mpp.xml line 4: GPP_A: ua=\"ua\" not understood (ua is na, ro or rw; preserve-value y "
        "or n): the user's access stays as it was\n"
        "mpp.xml line 5: <router-configuration>: a section of 2 elements this device does not "
        "know; ignored\n"
        "mpp.xml line 8: Admin_Passwd: ua=\"rw\" refused: the user never gets more than na on a "
        "secret\n"
        "mpp.xml line 9: User_Password: the value must be empty or 4 to 127 characters; ignored, "
        "the old value stays\n"
        "mpp.xml line 12: GPP_B: holds 1 elements, not a value; ignored, the old value stays\n");
    assert_null(strstr(out.data, "n0tS0Secret"));
    assert_null(strstr(out.data, "abc"));
    buf_free(&out);
    params_apply_result_free(&r);
    profile_free(&p);
    /* Whatever a profile said, the user can neither read nor set the admin password. */
    const char *v;
    assert_int_equal(params_get(&s, "Admin_Passwd", PARAM_ROLE_USER, 0, &v, err), UG_ERR_OTHER);
    assert_int_equal(params_set(&s, "Admin_Passwd", "user-chosen", PARAM_ROLE_USER, err),
                     UG_ERR_OTHER);
    assert_string_equal(err, "Admin_Passwd: the user may not change it (access na)");
    params_close(&s);
}

/* A value over PARAM_VALUE_MAX costs that value (param set refuses it), and a change that
 * would make the store bigger than PARAMS_STORE_MAX is refused whole: the store stays within
 * what every reader takes. */
static void test_value_and_store_bounds(void **state)
{
    struct fixture *f = *state;
    struct param_store s;
    char err[UG_ERRBUF], schema[160];
    char *big = malloc(PARAM_VALUE_MAX + 2);
    assert_non_null(big);
    memset(big, 'x', PARAM_VALUE_MAX + 1);
    big[PARAM_VALUE_MAX + 1] = '\0';
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    assert_int_equal(params_set(&s, "GPP_A", big, PARAM_ROLE_ADMIN, err), UG_ERR_USAGE);
    assert_string_equal(err, "GPP_A: the value is 65537 bytes, over the limit of 65536");
    big[PARAM_VALUE_MAX] = '\0';
    assert_int_equal(params_set(&s, "GPP_A", big, PARAM_ROLE_ADMIN, err), UG_OK);
    params_close(&s);
    /* 300 values of 60 KiB are 18 MiB: over the store's limit, so nothing changes */
    snprintf(schema, sizeof schema, "%s/schema.conf", f->root);
    write_text(schema, "Big_{1..300} \"\" rw text\n");
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    struct profile p = {.entries = calloc(300, sizeof(struct profile_entry)), .n = 300};
    char names[300][16];
    big[60000] = '\0';
    for (size_t i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "Big_%zu", i + 1);
        p.entries[i] =
            (struct profile_entry){.name = names[i], .value = big, .access = PROFILE_ACCESS_KEEP};
    }
    assert_int_equal(params_apply(&s, &p, "big.xml", NULL, err), UG_ERR_USAGE);
    assert_non_null(strstr(err, "over its limit of 16777216; nothing changed"));
    assert_string_equal(params_value(&s, "Big_1"), "");
    p.n = 200; /* 12 MiB is within it */
    assert_int_equal(params_apply(&s, &p, "big.xml", NULL, err), UG_OK);
    params_close(&s);
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    assert_int_equal(strlen(params_value(&s, "Big_200")), 60000);
    params_close(&s);
    free(p.entries);
    free(big);
    unlink(schema);
}

/* An export applies back to the very values it was made from: line breaks, tabs and edge
 * spaces included; what XML cannot carry (control characters, bytes that are not UTF-8) the
 * store refuses on the way in. */
static void test_export_restores_every_value(void **state)
{
    struct fixture *f = *state;
    struct param_store s;
    char err[UG_ERRBUF];
    static const char *const values[] = {
        "two\nlines", "  edge spaces  ", "\ttab\t", "\r\n", " ", "a  b", "caf\xc3\xa9 \xe2\x82\xac",
    };
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    static const char *const refused[] = {"\x1b[31m", "bell\a", "\xe9t\xe9", "\xc0\x80",
                                          "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (params_set(&s, "GPP_B", refused[i], PARAM_ROLE_ADMIN, err) != UG_ERR_USAGE)
            fail_msg("case %zu: accepted", i);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char name[8];
        snprintf(name, sizeof name, "GPP_%c", (char)('A' + i));
        assert_int_equal(params_set(&s, name, values[i], PARAM_ROLE_ADMIN, err), UG_OK);
    }
    struct buf xml = {0};
    assert_int_equal(params_export_xml(&s, PARAM_ROLE_ADMIN, 0, &xml, err), UG_OK);
    params_close(&s);
    assert_int_equal(params_create_defaults(&f->folder, err), UG_OK);
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    struct profile p;
    assert_int_equal(profile_parse(xml.data, xml.len, "export.xml", &p, err), UG_OK);
    assert_int_equal(params_apply(&s, &p, "export.xml", NULL, err), UG_OK);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char name[8];
        snprintf(name, sizeof name, "GPP_%c", (char)('A' + i));
        assert_string_equal(params_value(&s, name), values[i]);
    }
    profile_free(&p);
    params_close(&s);
    buf_free(&xml);
}

/* A store written by an older agent may hold what the store now refuses; the export says which
 * parameter rather than write XML that does not apply back, and does not repeat the value. */
static void test_export_refuses_what_xml_cannot_carry(void **state)
{
    struct fixture *f = *state;
    struct param_store s;
    char err[UG_ERRBUF];
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    assert_int_equal(params_set(&s, "GPP_C", "MARKER", PARAM_ROLE_ADMIN, err), UG_OK);
    params_close(&s);
    struct buf text = {0};
    read_file(f->path, &text);
    char *at = strstr(text.data, "MARKER");
    assert_non_null(at);
    memcpy(at, "be\al\x01!", 6); /* as an older agent stored it: raw control bytes */
    assert_int_equal(fs_write_atomic(f->path, text.data, text.len, 0600, err), UG_OK);
    buf_free(&text);
    assert_int_equal(params_open(&f->folder, &s, err), UG_OK);
    struct buf xml = {0};
    assert_int_equal(params_export_xml(&s, PARAM_ROLE_ADMIN, 0, &xml, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "GPP_C: the stored value holds a control character (0x07)"));
    assert_null(strstr(err, "be\a"));
    /* Set again, it exports. */
    assert_int_equal(params_set(&s, "GPP_C", "bell", PARAM_ROLE_ADMIN, err), UG_OK);
    buf_reset(&xml);
    assert_int_equal(params_export_xml(&s, PARAM_ROLE_ADMIN, 0, &xml, err), UG_OK);
    assert_non_null(strstr(xml.data, ">bell</GPP_C>"));
    params_close(&s);
    buf_free(&xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_and_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_do_not_undo_each_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_value_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_and_store_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_restores_every_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_refuses_what_xml_cannot_carry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
