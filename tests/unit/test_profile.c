/* SPDX-License-Identifier: MIT */
/* Unit tests of profile reading (profile.c): XML flat-profiles and the text form with
 * entities, indices, ua, preserve-value, duplicates; gzip, encryption and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <zlib.h>

#include "lang/crypt.h"
#include "lang/paramdefs.h"
#include "lang/profile.h"

#define KEEP PROFILE_ACCESS_KEEP

struct expect {
    const char *name;
    const char *value; /* NULL: keep the current value */
    int access;
    unsigned line;
};

static void check_entries(const struct profile *p, const struct expect *e, size_t n)
{
    if (p->n != n)
        fail_msg("%zu entries, expected %zu", p->n, n);
    for (size_t i = 0; i < n; i++) {
        const struct profile_entry *got = &p->entries[i];
        if (strcmp(got->name, e[i].name) != 0)
            fail_msg("entry %zu: name '%s', expected '%s'", i, got->name, e[i].name);
        if (!got->value != !e[i].value || (got->value && strcmp(got->value, e[i].value) != 0))
            fail_msg("%s: value '%s', expected '%s'", got->name, got->value ? got->value : "(keep)",
                     e[i].value ? e[i].value : "(keep)");
        if (got->access != e[i].access)
            fail_msg("%s: access %d, expected %d", got->name, got->access, e[i].access);
        if (e[i].line && got->line != e[i].line)
            fail_msg("%s: line %u, expected %u", got->name, got->line, e[i].line);
    }
}

static void parse_ok(const char *text, struct profile *p)
{
    char err[UG_ERRBUF] = "";
    if (profile_parse(text, strlen(text), "test.xml", p, err) != UG_OK)
        fail_msg("parse failed: %s", err);
}

/* docs/provisioning.md 5.1's example, inside other elements, with header and comments. */
static void test_xml_reference(void **state)
{
    (void)state;
    static const char xml[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<device><!-- outside -->\n"
        "<GPP_C>not in a flat-profile</GPP_C>\n"
        "<flat-profile>\n"
        "  <Resync_On_Reset> Yes </Resync_On_Reset>\n"
        "  <Profile_Rule_B />                       <!-- empty value -->\n"
        "  <Dial_Plan_1_ ua=\"ro\">(S0 &lt;:18005551212&gt;)</Dial_Plan_1_>\n"
        "  <Station_Name ua=\"rw\" preserve-value=\"y\">Travel Agent 1</Station_Name>\n"
        "  <Speed_Dial_2_2_ ua=\"na\"></Speed_Dial_2_2_>\n"
        "</flat-profile>\n"
        "</device>\n";
    static const struct expect e[] = {
        {"Resync_On_Reset", "Yes", KEEP, 5},
        {"Profile_Rule_B", "", KEEP, 6},
        {"Dial_Plan_1_", "(S0 <:18005551212>)", PARAM_RO, 7},
        {"Station_Name", NULL, PARAM_RW, 8},
        {"Speed_Dial_2_2_", NULL, PARAM_NA, 9}, /* empty with ua: access only */
    };
    struct profile p;
    parse_ok(xml, &p);
    assert_int_equal(p.format, PROFILE_XML);
    check_entries(&p, e, sizeof e / sizeof e[0]);
    profile_free(&p);
}

static void test_xml_values(void **state)
{
    (void)state;
    static const char xml[] =
        "<flat-profile>\n"
        "<GPP_A>1</GPP_A><GPP_B>a &amp; b &quot;c&quot; &apos;d&apos; &#65;&#x42; caf\xc3\xa9</GPP_B>\n"
        "<GPP_C>\n  two\r\n  lines\n</GPP_C>\n"
        "<Unknown_Thing_7_>kept for the store to count</Unknown_Thing_7_>\n"
        "<GPP_A ua=\"rw\">2</GPP_A>\n"
        "<GPP_D preserve-value=\"n\" ua=\"ro\">  </GPP_D>\n"
        "<GPP_E><![CDATA[<raw> & ]]></GPP_E>\n"
        "</flat-profile>";
    static const struct expect e[] = {
        {"GPP_B", "a & b \"c\" 'd' AB caf\xc3\xa9", KEEP, 2},
        {"GPP_C", "two   lines", KEEP, 3},
        {"Unknown_Thing_7_", "kept for the store to count", KEEP, 7},
        {"GPP_A", "2", PARAM_RW, 8}, /* the duplicate: last wins, in its place */
        {"GPP_D", "", PARAM_RO, 9},
        {"GPP_E", "<raw> &", KEEP, 10},
    };
    struct profile p;
    parse_ok(xml, &p);
    check_entries(&p, e, sizeof e / sizeof e[0]);
    profile_free(&p);
}

static void test_text_form(void **state)
{
    (void)state;
    static const char text[] = "# SPA style profile\n"
                               "Line_Enable[1] ! \"Yes\" ;   # user may change it\n"
                               "Speed_Dial[2][2] ? \"5551212\";\n"
                               "Proxy[1] \"sip.example.com\";\n"
                               "GPP_A ! ;\n"
                               "Profile_Rule tftp.callme.com/profile/$MA/spa962.cfg;\n"
                               "GPP_B \"with \\\"quotes\\\" and # hash\";\n"
                               "GPP_C\n  \"spans\ntwo lines\"\n;\n"
                               "GPP_D \"\";\n"
                               "Proxy[1] \"sip2.example.com\";\n";
    static const struct expect e[] = {
        {"Line_Enable_1_", "Yes", PARAM_RW, 2},
        {"Speed_Dial_2_2_", "5551212", PARAM_RO, 3},
        {"GPP_A", NULL, PARAM_RW, 5},
        {"Profile_Rule", "tftp.callme.com/profile/$MA/spa962.cfg", PARAM_NA, 6},
        {"GPP_B", "with \"quotes\" and # hash", PARAM_NA, 7},
        {"GPP_C", "spans two lines", PARAM_NA, 8},
        {"GPP_D", "", PARAM_NA, 12},
        {"Proxy_1_", "sip2.example.com", PARAM_NA, 13},
    };
    struct profile p;
    parse_ok(text, &p);
    assert_int_equal(p.format, PROFILE_TEXT);
    check_entries(&p, e, sizeof e / sizeof e[0]);
    profile_free(&p);
}

static void gzip_into(const char *text, size_t len, struct buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char chunk[4096];
    zs.next_in = (unsigned char *)text;
    zs.avail_in = (uInt)len;
    int z;
    do {
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        z = deflate(&zs, Z_FINISH);
        buf_append(out, chunk, sizeof chunk - zs.avail_out);
    } while (z == Z_OK);
    assert_int_equal(z, Z_STREAM_END);
    deflateEnd(&zs);
}

static const char small_xml[] =
    "<flat-profile><GPP_A>gz</GPP_A><GPP_B ua=\"ro\">x</GPP_B></flat-profile>\n";

static void test_read_gzip_and_encrypted(void **state)
{
    (void)state;
    static const struct expect e[] = {{"GPP_A", "gz", KEEP, 1}, {"GPP_B", "x", PARAM_RO, 1}};
    char err[UG_ERRBUF] = "";
    struct buf gz = {0};
    gzip_into(small_xml, strlen(small_xml), &gz);
    struct profile p;
    assert_int_equal(profile_read(gz.data, gz.len, NULL, "p.xml.gz", &p, err), UG_OK);
    assert_true(p.was_gzip);
    assert_false(p.was_encrypted);
    check_entries(&p, e, 2);
    profile_free(&p);

    /* gzip then encrypt, with either digest; and encrypted plain text */
    for (int md = 0; md < 2; md++) {
        for (int compressed = 0; compressed < 2; compressed++) {
            struct buf enc = {0};
            const char *src = compressed ? gz.data : small_xml;
            size_t len = compressed ? gz.len : strlen(small_xml);
            assert_int_equal(crypt_encrypt(src, len, "SecretPhrase1234",
                                           md ? CRYPT_MD_MD5 : CRYPT_MD_SHA256, &enc, err),
                             UG_OK);
            assert_int_equal(profile_read(enc.data, enc.len, "SecretPhrase1234", "p.cfg", &p, err),
                             UG_OK);
            assert_true(p.was_encrypted);
            assert_int_equal(p.was_gzip, compressed);
            check_entries(&p, e, 2);
            profile_free(&p);
            assert_int_equal(profile_read(enc.data, enc.len, "wrong", "p.cfg", &p, err),
                             UG_ERR_UNUSABLE);
            assert_string_equal(
                err, "p.cfg: cannot decrypt the profile with the given key (wrong key?), tried the "
                     "MD5 and SHA-256 key derivations of openssl enc -k; files made with -pbkdf2 "
                     "or -iter are not supported");
            assert_int_equal(profile_read(enc.data, enc.len, NULL, "p.cfg", &p, err),
                             UG_ERR_UNUSABLE);
            assert_string_equal(err, "p.cfg: profile is encrypted; give its key (--key)");
            assert_int_equal(
                profile_read(enc.data, enc.len - 5, "SecretPhrase1234", "p.cfg", &p, err),
                UG_ERR_UNUSABLE);
            assert_non_null(strstr(err, "truncated"));
            buf_free(&enc);
        }
    }
    /* A key given for a file that is not encrypted. */
    assert_int_equal(profile_read(small_xml, strlen(small_xml), "k", "p.xml", &p, err),
                     UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "p.xml: not an encrypted profile (no 'Salted__' header"));
    /* Truncated and trailing-garbage gzip. */
    assert_int_equal(profile_read(gz.data, gz.len - 10, NULL, "t.gz", &p, err), UG_ERR_UNUSABLE);
    assert_string_equal(err, "t.gz: gzip data is truncated");
    struct buf extra = {0};
    buf_append(&extra, gz.data, gz.len);
    buf_append_str(&extra, "junk");
    assert_int_equal(profile_read(extra.data, extra.len, NULL, "j.gz", &p, err), UG_ERR_UNUSABLE);
    assert_string_equal(err, "j.gz: 4 bytes of garbage after the gzip data");
    struct buf two = {0};
    buf_append(&two, gz.data, gz.len);
    buf_append(&two, gz.data, gz.len);
    assert_int_equal(profile_read(two.data, two.len, NULL, "two.gz", &p, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "not well-formed")); /* two documents once inflated */
    buf_free(&two);
    buf_free(&extra);
    buf_free(&gz);
}

struct bad_case {
    const char *text;
    const char *message;
};

static const struct bad_case bad[] = {
    {"", "test.xml: empty profile"},
    {" \n\t", "test.xml: empty profile"},
    {"<flat-profile><GPP_A>x</GPP_B></flat-profile>",
     "test.xml line 1: not well-formed XML: mismatched tag"},
    {"<flat-profile>\n<GPP_A>&nbsp;</GPP_A>\n</flat-profile>",
     "test.xml line 2: not well-formed XML: undefined entity"},
    {"<!DOCTYPE p [<!ENTITY e SYSTEM \"file:///etc/hostname\">]>\n<flat-profile>\n"
     "<GPP_A>&e;</GPP_A></flat-profile>",
     "test.xml line 3: not well-formed XML: error in processing external entity reference"},
    {"<!DOCTYPE p SYSTEM \"p.dtd\">\n<flat-profile>\n<GPP_A>&e;</GPP_A></flat-profile>",
     "test.xml: line 3: undefined entity &e;"},
    {"<flat-profile>\n<GPP_A ua=rw>x</GPP_A></flat-profile>",
     "test.xml line 2: not well-formed XML: not well-formed (invalid token)"},
    {"<html><body>404 Not Found</body></html>",
     "test.xml: XML without a <flat-profile> element is not a profile"},
    {"<flat-profile><GPP_A>x</GPP_A>", "test.xml line 1: not well-formed XML: no element found"},
    {"GPP_A \"x\"\nGPP_B \"y\";", "test.xml line 2: missing ';' after GPP_A"},
    {"GPP_A x\nGPP_B \"y\";", "test.xml line 1: missing ';' after the value of GPP_A"},
    {"GPP_A\n \"never closed;\n", "test.xml line 2: the quoted value of GPP_A is not closed"},
    {"Line_Enable[x] \"Yes\";",
     "test.xml line 1: 'Line_Enable[' must be followed by a number and ']'"},
    {"Line_Enable[1 \"Yes\";",
     "test.xml line 1: 'Line_Enable[' must be followed by a number and ']'"},
    {"# ok\nimport other.txt;", "test.xml line 2: 'import' of other files is not supported"},
    {"; GPP_A \"x\";", "test.xml line 1: expected a parameter name, found ';'"},
    {"GPP_A \"x\";\n\n= \"y\";", "test.xml line 3: expected a parameter name, found '='"},
    {"{\"json\": true}", "test.xml line 1: expected a parameter name, found '{'"},
    {"GPP_A \"x\" extra;", "test.xml line 1: missing ';' after GPP_A"},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct profile p;
        char err[UG_ERRBUF] = "";
        ug_err rc = profile_parse(bad[i].text, strlen(bad[i].text), "test.xml", &p, err);
        if (rc != UG_ERR_UNUSABLE)
            fail_msg("'%s' accepted (rc %d)", bad[i].text, rc);
        if (strcmp(err, bad[i].message) != 0)
            fail_msg("'%s': message\n  '%s', expected\n  '%s'", bad[i].text, err, bad[i].message);
        assert_null(p.entries);
    }
    static const char binary[] = "\x7f"
                                 "ELF\x02\x01\x01\0\0\0";
    struct profile p;
    char err[UG_ERRBUF];
    assert_int_equal(profile_parse(binary, sizeof binary - 1, "a.out", &p, err), UG_ERR_UNUSABLE);
    assert_string_equal(err, "a.out: binary data, not a profile");
}

/* What the file can still be read as a whole with: sections, attributes not understood. */
static void test_tolerated(void **state)
{
    (void)state;
    static const char xml[] = "<flat-profile>\n"
                              "<router-configuration>\n"
                              "  <Time_Setup><Time_Zone>GMT</Time_Zone></Time_Setup>\n"
                              "  <Profile_Rule>ignored with its section</Profile_Rule>\n"
                              "</router-configuration>\n"
                              "<GPP_A ua=\"ua\">elastix</GPP_A>\n"
                              "<GPP_B ua=\"RW\" group=\"Provisioning/General\">b</GPP_B>\n"
                              "<GPP_C preserve-value=\"maybe\" ua=\"Ro\">c</GPP_C>\n"
                              "<GPP_D><b>x</b>tail</GPP_D>\n"
                              "<Resync_On_Reset/>\n"
                              "</flat-profile>\n";
    struct profile p;
    parse_ok(xml, &p);
    assert_int_equal(p.n, 6);
    const struct profile_entry *e = p.entries;
    assert_string_equal(e[0].name, "router-configuration");
    assert_true(e[0].flags & PROFILE_SECTION);
    assert_int_equal(e[0].children, 3);
    assert_int_equal(e[0].line, 2);
    assert_null(e[0].value);
    assert_string_equal(e[1].name, "GPP_A");
    assert_true(e[1].flags & PROFILE_BAD_UA);
    assert_int_equal(e[1].access, KEEP);
    assert_string_equal(e[1].bad_attr, "ua=\"ua\"");
    assert_string_equal(e[1].value, "elastix");
    assert_int_equal(e[2].access, PARAM_RW); /* case does not matter; group= is ignored */
    assert_int_equal(e[2].flags, 0);
    assert_true(e[3].flags & PROFILE_BAD_PRESERVE);
    assert_string_equal(e[3].bad_attr, "preserve-value=\"maybe\"");
    assert_int_equal(e[3].access, PARAM_RO);
    assert_string_equal(e[3].value, "c"); /* taken as n */
    assert_true(e[4].flags & PROFILE_SECTION);
    assert_int_equal(e[4].children, 1);
    assert_string_equal(e[5].name, "Resync_On_Reset");
    assert_string_equal(e[5].value, "");
    profile_free(&p);
}

/* --alias: foreign XML element paths mapped onto parameters (docs/provisioning.md 1.2). */
static void test_alias(void **state)
{
    (void)state;
    static const char doc[] = "<?xml version=\"1.0\"?>\n"
                              "<customer-account>\n"
                              "  <SIP-number>5551234</SIP-number>\n"
                              "  <name><first>Ada</first></name>\n"
                              "  <unmapped>x</unmapped>\n"
                              "</customer-account>\n";
    static const char map[] = "/customer-account/SIP-number = /flat-profile/User_ID_1_ ;\n"
                              "/customer-account/name/first=/flat-profile/Display_Name_1_;";
    struct profile p;
    char err[UG_ERRBUF] = "";
    assert_int_equal(profile_read(doc, strlen(doc), NULL, "c.xml", &p, err), UG_ERR_UNUSABLE);
    assert_string_equal(err, "c.xml: XML without a <flat-profile> element is not a profile");
    assert_int_equal(profile_read_aliased(doc, strlen(doc), NULL, map, "c.xml", &p, err), UG_OK);
    static const struct expect e[] = {{"User_ID_1_", "5551234", KEEP, 3},
                                      {"Display_Name_1_", "Ada", KEEP, 4}};
    check_entries(&p, e, 2);
    profile_free(&p);
    /* Aliases and a flat profile in one document. */
    static const char both[] = "<d><flat-profile><GPP_A>a</GPP_A></flat-profile>"
                               "<x><y>7</y></x></d>";
    assert_int_equal(
        profile_read_aliased(both, strlen(both), NULL, "/d/x/y = /GPP_B", "b.xml", &p, err), UG_OK);
    static const struct expect e2[] = {{"GPP_A", "a", KEEP, 1}, {"GPP_B", "7", KEEP, 1}};
    check_entries(&p, e2, 2);
    profile_free(&p);
    assert_int_equal(
        profile_read_aliased(both, strlen(both), NULL, "/d/x/y /GPP_B", "b.xml", &p, err),
        UG_ERR_USAGE);
    assert_string_equal(err, "alias map entry 1: expected '/foreign/path = /flat-profile/Name'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_reference), cmocka_unit_test(test_xml_values),
        cmocka_unit_test(test_text_form),     cmocka_unit_test(test_read_gzip_and_encrypted),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_tolerated),
        cmocka_unit_test(test_alias),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
