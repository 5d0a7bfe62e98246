/* SPDX-License-Identifier: MIT */
/* GRUB's environment block, read and written byte-compatibly with grub-editenv and GRUB's
 * own load_env/save_env (grub-core/lib/envblk.c is the reference for the layout). */
#include "bootctl/backends/grubenv.h"

#include <stdio.h>
#include <string.h>

#define SIG_LEN (sizeof GRUBENV_SIGNATURE - 1)

/* Where the line at p ends (its unescaped newline), a backslash taking the next byte with
 * it; end when there is none. */
static const uint8_t *line_end(const uint8_t *p, const uint8_t *end)
{
    while (p < end && *p != '\n')
        p += *p == '\\' ? 2 : 1;
    return p < end ? p : end;
}

/* One variable at p, read as GRUB's reader does: the name is every byte up to the first '='
 * (as it is: no escapes, across newlines), the value runs to the unescaped newline, a
 * backslash taking the next byte as it is. *next is past that newline; NULL when the block
 * ends first ("broken": GRUB stops reading there, and so do we). -1 past our limits. */
static int parse_var(const uint8_t *p, const uint8_t *end, struct grubenv *env,
                     const uint8_t **next)
{
    char name[GRUBENV_NAME_MAX], value[GRUBENV_VALUE_MAX];
    const uint8_t *eq = memchr(p, '=', (size_t)(end - p)), *eol;
    *next = NULL;
    if (!eq || (eol = line_end(eq + 1, end)) >= end)
        return 0;
    if ((size_t)(eq - p) >= sizeof name)
        return -1;
    memcpy(name, p, (size_t)(eq - p));
    name[eq - p] = '\0';
    size_t n = 0;
    for (const uint8_t *v = eq + 1; v < eol; v++) {
        if (*v == '\\')
            v++;
        if (n + 1 >= sizeof value)
            return -1;
        value[n++] = (char)*v;
    }
    value[n] = '\0';
    *next = eol + 1;
    /* GRUB sets even an empty name; nothing can read it back, so it is left out. */
    return name[0] ? grubenv_set(env, name, value) : 0;
}

enum grubenv_parse_result grubenv_parse(const uint8_t *block, size_t len, struct grubenv *env)
{
    env->n = 0;
    if (len < SIG_LEN || memcmp(block, GRUBENV_SIGNATURE, SIG_LEN) != 0)
        return GRUBENV_BAD_SIGNATURE;
    if (len != GRUBENV_SIZE)
        return GRUBENV_BAD_SIZE;
    const uint8_t *end = block + len;
    for (const uint8_t *p = block + SIG_LEN; p && p < end;) {
        if (*p == '#') { /* a comment (the padding too), escapes and all */
            const uint8_t *eol = line_end(p, end);
            p = eol < end ? eol + 1 : end;
            continue;
        }
        if (parse_var(p, end, env, &p) != 0)
            return GRUBENV_TOO_MANY;
    }
    return GRUBENV_OK;
}

const char *grubenv_get(const struct grubenv *env, const char *name)
{
    for (int i = 0; i < env->n; i++)
        if (strcmp(env->var[i].name, name) == 0)
            return env->var[i].value;
    return NULL;
}

int grubenv_set(struct grubenv *env, const char *name, const char *value)
{
    if (strlen(name) >= GRUBENV_NAME_MAX || strlen(value) >= GRUBENV_VALUE_MAX || !name[0])
        return -1;
    int i = 0;
    while (i < env->n && strcmp(env->var[i].name, name) != 0)
        i++;
    if (i == env->n) {
        if (env->n >= GRUBENV_VARS_MAX)
            return -1;
        snprintf(env->var[i].name, sizeof env->var[i].name, "%s", name);
        env->n++;
    }
    snprintf(env->var[i].value, sizeof env->var[i].value, "%s", value);
    return 0;
}

void grubenv_unset(struct grubenv *env, const char *name)
{
    for (int i = 0; i < env->n; i++)
        if (strcmp(env->var[i].name, name) == 0) {
            memmove(&env->var[i], &env->var[i + 1], (size_t)(env->n - i - 1) * sizeof env->var[i]);
            env->n--;
            return;
        }
}

/* Appends a value with GRUB's escapes (a backslash before `\` and a newline) at *at; -1
 * when it passes the block's end. */
static int put_value(uint8_t *block, size_t *at, const char *text)
{
    for (const char *c = text; *c; c++) {
        int escape = *c == '\\' || *c == '\n';
        if (*at + (size_t)escape + 1 > GRUBENV_SIZE)
            return -1;
        if (escape)
            block[(*at)++] = '\\';
        block[(*at)++] = (uint8_t)*c;
    }
    return 0;
}

/* A name is written as it is, as GRUB writes it: GRUB reads a name up to the first '=' with
 * no escapes, so one holding '=' or starting with '#' (a comment) cannot be written at all;
 * -1 for those, and when it passes the block's end. */
static int put_name(uint8_t *block, size_t *at, const char *name)
{
    size_t n = strlen(name);
    if (!n || strchr(name, '=') || name[0] == '#' || *at + n > GRUBENV_SIZE)
        return -1;
    memcpy(block + *at, name, n);
    *at += n;
    return 0;
}

int grubenv_encode(const struct grubenv *env, uint8_t block[GRUBENV_SIZE])
{
    memset(block, '#', GRUBENV_SIZE);
    memcpy(block, GRUBENV_SIGNATURE, SIG_LEN);
    size_t at = SIG_LEN;
    for (int i = 0; i < env->n; i++) {
        if (put_name(block, &at, env->var[i].name) != 0 || at + 1 > GRUBENV_SIZE)
            return -1;
        block[at++] = '=';
        if (put_value(block, &at, env->var[i].value) != 0 || at + 1 > GRUBENV_SIZE)
            return -1;
        block[at++] = '\n';
    }
    return 0;
}
