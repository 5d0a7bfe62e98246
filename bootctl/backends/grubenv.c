/* SPDX-License-Identifier: MIT */
/* GRUB's environment block, read and written byte-compatibly with grub-editenv and GRUB's
 * own load_env/save_env (grub-core/lib/envblk.c is the reference for the layout). */
#include "bootctl/backends/grubenv.h"

#include <stdio.h>
#include <string.h>

#define SIG_LEN (sizeof GRUBENV_SIGNATURE - 1)

/* Copies the escaped text [p, end) up to the first unescaped stop character into out;
 * returns where it stopped, or NULL when out is too small. */
static const uint8_t *unescape(const uint8_t *p, const uint8_t *end, char stop, char *out,
                               size_t outsz)
{
    size_t n = 0;
    while (p < end && *p != stop && *p != '\n') {
        if (*p == '\\' && p + 1 < end)
            p++;
        if (n + 1 >= outsz)
            return NULL;
        out[n++] = (char)*p++;
    }
    out[n] = '\0';
    return p;
}

/* One `name=value` line starting at p; *next is where the following line starts. */
static int parse_line(const uint8_t *p, const uint8_t *end, struct grubenv *env,
                      const uint8_t **next)
{
    char name[GRUBENV_NAME_MAX], value[GRUBENV_VALUE_MAX];
    const uint8_t *q = unescape(p, end, '=', name, sizeof name);
    const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
    *next = eol ? eol + 1 : end;
    if (!q)
        return -1;
    if (q >= end || *q != '=') /* GRUB ignores a line without '=' */
        return 0;
    if (!unescape(q + 1, end, '\n', value, sizeof value))
        return -1;
    return grubenv_set(env, name, value);
}

enum grubenv_parse_result grubenv_parse(const uint8_t *block, size_t len, struct grubenv *env)
{
    env->n = 0;
    if (len < SIG_LEN || memcmp(block, GRUBENV_SIGNATURE, SIG_LEN) != 0)
        return GRUBENV_BAD_SIGNATURE;
    if (len != GRUBENV_SIZE)
        return GRUBENV_BAD_SIZE;
    const uint8_t *end = block + len;
    for (const uint8_t *p = block + SIG_LEN, *next; p < end; p = next) {
        if (*p == '#' || *p == '\n') {
            const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
            next = eol ? eol + 1 : end;
            continue;
        }
        if (parse_line(p, end, env, &next) != 0)
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

/* Appends text with GRUB's escapes at *at; -1 when it passes the block's end. A name also
 * escapes '=' and a leading '#': a variable read from a name written with them (`a\=b`,
 * `\#c`) must be written back the same, or it would come back as another variable (one
 * that could override the seal) or as a comment. */
static int put_escaped(uint8_t *block, size_t *at, const char *text, int is_name)
{
    for (const char *c = text; *c; c++) {
        int escape =
            *c == '\\' || *c == '\n' || (is_name && (*c == '=' || (*c == '#' && c == text)));
        if (*at + (size_t)escape + 1 > GRUBENV_SIZE)
            return -1;
        if (escape)
            block[(*at)++] = '\\';
        block[(*at)++] = (uint8_t)*c;
    }
    return 0;
}

int grubenv_encode(const struct grubenv *env, uint8_t block[GRUBENV_SIZE])
{
    memset(block, '#', GRUBENV_SIZE);
    memcpy(block, GRUBENV_SIGNATURE, SIG_LEN);
    size_t at = SIG_LEN;
    for (int i = 0; i < env->n; i++) {
        if (put_escaped(block, &at, env->var[i].name, 1) != 0 || at + 1 > GRUBENV_SIZE)
            return -1;
        block[at++] = '=';
        if (put_escaped(block, &at, env->var[i].value, 0) != 0 || at + 1 > GRUBENV_SIZE)
            return -1;
        block[at++] = '\n';
    }
    return 0;
}
