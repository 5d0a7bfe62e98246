/* SPDX-License-Identifier: MIT */
/* Percent-decoding, urlencoded fields and HTML escaping, each bounded. */
#include "web/form.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int form_decode(const char *in, size_t n, int plus_space, char **out)
{
    *out = NULL;
    if (n > 3 * (size_t)FORM_TEXT_MAX)
        return -1;
    char *s = malloc(n + 1);
    size_t k = 0;
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(in[i + 1]) : -1, lo = i + 2 < n ? hexval(in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                goto bad;
            c = hi << 4 | lo;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == 0 || k >= FORM_TEXT_MAX)
            goto bad;
        s[k++] = (char)c;
    }
    s[k] = '\0';
    *out = s;
    return 0;
bad:
    free(s);
    return -1;
}

static int add(struct form *f, const char *p, size_t len)
{
    const char *eq = memchr(p, '=', len);
    size_t nl = eq ? (size_t)(eq - p) : len;
    struct form_field fld = {0};
    if (f->n >= FORM_FIELDS_MAX || form_decode(p, nl, 1, &fld.name) != 0 ||
        form_decode(eq ? eq + 1 : p + len, eq ? len - nl - 1 : 0, 1, &fld.value) != 0) {
        free(fld.name);
        return -1;
    }
    if (!f->f && !(f->f = calloc(FORM_FIELDS_MAX, sizeof *f->f))) {
        free(fld.name);
        free(fld.value);
        return -1;
    }
    f->f[f->n++] = fld;
    return 0;
}

int form_parse(const char *text, size_t n, struct form *f)
{
    memset(f, 0, sizeof *f);
    const char *p = text, *end = text + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p);
        if (len && add(f, p, len) != 0) {
            form_free(f);
            return -1;
        }
        p += len + 1;
    }
    return 0;
}

const char *form_get(const struct form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->f[i].name, name) == 0)
            return f->f[i].value;
    return NULL;
}

void form_free(struct form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->f[i].name);
        free(f->f[i].value);
    }
    free(f->f);
    memset(f, 0, sizeof *f);
}

int form_html(struct buf *b, const char *s)
{
    for (; *s; s++) {
        size_t run = strcspn(s, "&<>\"'");
        if (run && buf_append(b, s, run) != 0)
            return -1;
        s += run;
        if (!*s)
            break;
        const char *e = *s == '&'   ? "&amp;"
                        : *s == '<' ? "&lt;"
                        : *s == '>' ? "&gt;"
                        : *s == '"' ? "&quot;"
                                    : "&#39;";
        if (buf_append_str(b, e) != 0)
            return -1;
    }
    return 0;
}
