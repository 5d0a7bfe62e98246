/* SPDX-License-Identifier: MIT */
/* Version parsing and order. Numeric parts compare as numbers of any length (compared as
 * digit strings, so no overflow), a part's letters after its digits compare alphabetically. */
#include "common/version.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int has_alpha(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isalpha((unsigned char)s[i]))
            return 1;
    return 0;
}

static int is_file_suffix(const char *s, size_t n)
{
    static const char *const suffixes[] = {"loads", "bin", "sbn", "sb2", "zip", "img", "cop"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (n == strlen(suffixes[i]) && strncasecmp(s, suffixes[i], n) == 0)
            return 1;
    return 0;
}

/* Splits one field ("2MPP0001", "31") into digits and the rest. */
static int parse_field(const char *s, size_t n, struct version_field *f)
{
    size_t i = 0;
    while (i < n && s[i] == '0' && i + 1 < n && isdigit((unsigned char)s[i + 1]))
        i++; /* drop leading zeros but keep a lone 0 */
    size_t d = i;
    while (d < n && isdigit((unsigned char)s[d]))
        d++;
    if (d - i >= VERSION_FIELD_MAX || n - d >= VERSION_FIELD_MAX || n == 0)
        return -1;
    memcpy(f->digits, s + i, d - i);
    f->digits[d - i] = '\0';
    if (strcmp(f->digits, "0") == 0)
        f->digits[0] = '\0';
    memcpy(f->rest, s + d, n - d);
    f->rest[n - d] = '\0';
    for (size_t k = 0; k < n; k++)
        if (!isalnum((unsigned char)s[k]))
            return -1;
    return 0;
}

static int add_field(struct version *v, const char *s, size_t n)
{
    if (v->nfields >= VERSION_MAX_FIELDS)
        return -1;
    return parse_field(s, n, &v->field[v->nfields++]);
}

int version_parse(const char *text, struct version *out)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return -1;
    const char *s = text;
    size_t len = strlen(s);
    /* A model prefix ("sip88xx.", "PHONEOS-8875.") ends at the first dot, has letters,
     * and is followed by a dash-separated load version. */
    const char *dot = memchr(s, '.', len);
    if (dot && has_alpha(s, (size_t)(dot - s)) && strchr(dot + 1, '-')) {
        len -= (size_t)(dot + 1 - s);
        s = dot + 1;
    }
    /* A firmware file's suffix (".loads", ".bin", ...) is dropped; any other text after a last
     * dot is a field, so "7.6.2.a" is refused below rather than read as 7.6.2. */
    const char *last = NULL;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '.')
            last = s + i;
    if (last && is_file_suffix(last + 1, len - (size_t)(last + 1 - s)))
        len = (size_t)(last - s);
    if (len == 0 || !isdigit((unsigned char)s[0]))
        return -1;

    char sep = memchr(s, '-', len) ? '-' : '.';
    out->format = sep == '-' ? VERSION_LOAD : VERSION_DOTTED;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != sep)
            continue;
        const char *field = s + start;
        size_t n = i - start;
        /* SPA style "31(b)": the parenthesised part is one more field. */
        const char *paren = memchr(field, '(', n);
        if (sep == '.' && paren) {
            if (i != len || field[n - 1] != ')')
                return -1;
            if (add_field(out, field, (size_t)(paren - field)) != 0 ||
                add_field(out, paren + 1, n - (size_t)(paren - field) - 2) != 0)
                return -1;
        } else if ((sep == '.' && (n == 0 || !isdigit((unsigned char)field[0]))) ||
                   add_field(out, field, n) != 0) {
            /* A dotted version's fields each start with a digit (docs/provisioning.md 1.6):
             * "7.6.2.a" is a format error, not a version above 7.6.2 (SPA letters follow the
             * digits, "7.6.2a", or sit in parentheses, "1.0.31(b)"). */
            return -1;
        }
        start = i + 1;
    }
    return 0;
}

static int compare_digits(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

int version_compare_parsed(const struct version *a, const struct version *b)
{
    static const struct version_field zero;
    int n = a->nfields > b->nfields ? a->nfields : b->nfields;
    for (int i = 0; i < n; i++) {
        const struct version_field *fa = i < a->nfields ? &a->field[i] : &zero;
        const struct version_field *fb = i < b->nfields ? &b->field[i] : &zero;
        int c = compare_digits(fa->digits, fb->digits);
        if (c == 0)
            c = strcmp(fa->rest, fb->rest);
        if (c != 0)
            return c < 0 ? -1 : 1;
    }
    return 0;
}

ug_err version_compare(const char *a, const char *b, int *cmp, char *err)
{
    struct version va, vb;
    if (version_parse(a, &va) != 0)
        return ug_fail(err, UG_ERR_USAGE, "'%s' is not a version", a ? a : "");
    if (version_parse(b, &vb) != 0)
        return ug_fail(err, UG_ERR_USAGE, "'%s' is not a version", b ? b : "");
    *cmp = version_compare_parsed(&va, &vb);
    return UG_OK;
}
