/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the boot-state backends' formats: the first byte picks one, the rest
 * is a copy as the medium holds it (file: a 256-byte record, its CRC made right half the
 * time so the fields behind it are reached; grub: a grubenv block; uboot: the environment's
 * name=value text). A copy that decodes must survive being written back: the file record
 * comes back byte for byte, and for grub and uboot a rewrite boots the same slot and a
 * second rewrite changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bootctl/backends/bootstate_file.h"
#include "bootctl/backends/bootstate_grub.h"
#include "bootctl/backends/bootstate_uboot.h"
#include "bootctl/backends/grubenv.h"

/* The slot bootstate_select_boot picks from a copy of st (-1 when it refuses). */
static int chosen(const struct bootstate *st)
{
    struct bootstate copy = *st;
    char err[UG_ERRBUF];
    int slot = -1;
    if (bootstate_select_boot(&copy, &slot, err) != UG_OK)
        return -1;
    return slot;
}

static void check_rewrite(const struct bootstate *first, const struct bootstate *second,
                          const struct bootstate *third)
{
    if (chosen(first) != chosen(second) || !bootstate_equal(second, third))
        abort();
}

static void fuzz_file(const uint8_t *data, size_t size)
{
    uint8_t rec[BOOTSTATE_RECORD_SIZE] = {0}, again[BOOTSTATE_RECORD_SIZE];
    if (size < 1)
        return;
    int fix_crc = data[0] & 1;
    data++, size--;
    memcpy(rec, data, size < sizeof rec ? size : sizeof rec);
    if (fix_crc) {
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), rec, BOOTSTATE_RECORD_SIZE - 4);
        for (int i = 0; i < 4; i++)
            rec[BOOTSTATE_RECORD_SIZE - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    struct bootstate st = {0};
    uint64_t gen = 0;
    if (bootstate_file_decode(rec, size < sizeof rec ? size : sizeof rec, &st, &gen) !=
        BOOTSTATE_COPY_VALID)
        return;
    bootstate_file_encode(&st, gen, again);
    if (memcmp(rec, again, sizeof rec) != 0)
        abort(); /* the format has one spelling of each state */
    (void)chosen(&st);
}

static void fuzz_grub(const uint8_t *data, size_t size)
{
    uint8_t block[GRUBENV_SIZE];
    memset(block, '#', sizeof block);
    memcpy(block, GRUBENV_SIGNATURE, sizeof GRUBENV_SIGNATURE - 1);
    size_t room = sizeof block - (sizeof GRUBENV_SIGNATURE - 1);
    memcpy(block + sizeof GRUBENV_SIGNATURE - 1, data, size < room ? size : room);
    static struct grubenv env, out, out2;
    if (grubenv_parse(block, sizeof block, &env) != GRUBENV_OK)
        return;
    struct bootstate s1 = {0}, s2 = {0}, s3 = {0};
    uint64_t gen;
    if (bootstate_grub_decode(&env, &s1, &gen) != BOOTSTATE_COPY_VALID)
        return;
    uint8_t written[GRUBENV_SIZE];
    if (bootstate_grub_encode(&s1, gen + 1, &env, &out) != 0 || grubenv_encode(&out, written) != 0)
        return; /* does not fit: the store refuses to write it */
    if (grubenv_parse(written, sizeof written, &out2) != GRUBENV_OK ||
        bootstate_grub_decode(&out2, &s2, &gen) != BOOTSTATE_COPY_VALID)
        abort();
    if (bootstate_grub_encode(&s2, gen + 1, &out2, &out) != 0 ||
        bootstate_grub_decode(&out, &s3, &gen) != BOOTSTATE_COPY_VALID)
        abort();
    check_rewrite(&s1, &s2, &s3);
}

/* ---- uboot: the variables as a table of name=value lines ---- */

#define UVARS 32
struct uenv {
    int n;
    char *name[UVARS], *value[UVARS];
};

static const char *uget(void *p, const char *name)
{
    struct uenv *e = p;
    for (int i = e->n - 1; i >= 0; i--) /* the last setting of a name counts */
        if (strcmp(e->name[i], name) == 0)
            return e->value[i];
    return NULL;
}

static int uset(void *p, const char *name, const char *value)
{
    struct uenv *e = p;
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->name[i], name) == 0) {
            free(e->value[i]);
            if (value) {
                e->value[i] = strdup(value);
                return e->value[i] ? 0 : -1;
            }
            free(e->name[i]);
            e->name[i] = e->name[--e->n];
            e->value[i] = e->value[e->n];
            return 0;
        }
    if (!value)
        return 0;
    if (e->n >= UVARS)
        return -1;
    e->name[e->n] = strdup(name);
    e->value[e->n] = strdup(value);
    e->n++;
    return e->name[e->n - 1] && e->value[e->n - 1] ? 0 : -1;
}

static void ufree(struct uenv *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->name[i]), free(e->value[i]);
    e->n = 0;
}

/* Splits text into name=value lines as fw_setenv's script does (lines without '=' skipped). */
static void uparse(char *text, struct uenv *e)
{
    for (char *line = strtok(text, "\n"); line && e->n < UVARS; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (!eq || eq == line)
            continue;
        *eq = '\0';
        e->name[e->n] = strdup(line);
        e->value[e->n] = strdup(eq + 1);
        e->n++;
    }
}

static void fuzz_uboot(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    struct uenv env = {0};
    uparse(text, &env);
    free(text);
    struct bootstate s1 = {0}, s2 = {0}, s3 = {0};
    if (bootstate_uboot_decode(uget, &env, &s1) == BOOTSTATE_COPY_VALID &&
        bootstate_uboot_encode(&s1, uset, &env) == 0) {
        if (bootstate_uboot_decode(uget, &env, &s2) != BOOTSTATE_COPY_VALID ||
            bootstate_uboot_encode(&s2, uset, &env) != 0 ||
            bootstate_uboot_decode(uget, &env, &s3) != BOOTSTATE_COPY_VALID)
            abort();
        check_rewrite(&s1, &s2, &s3);
    }
    ufree(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_file(data + 1, size - 1);
        break;
    case 1:
        fuzz_grub(data + 1, size - 1);
        break;
    default:
        fuzz_uboot(data + 1, size - 1);
        break;
    }
    return 0;
}
