/* SPDX-License-Identifier: MIT */
/* GRUB's environment block (what load_env, save_env and grub-editenv read and write): 1024
 * bytes, the signature line, `name=value` lines, `#` padding to the end. */
#ifndef BOOTCTL_GRUBENV_H
#define BOOTCTL_GRUBENV_H

#include <stddef.h>
#include <stdint.h>

#define GRUBENV_SIZE      1024
#define GRUBENV_SIGNATURE "# GRUB Environment Block\n"
#define GRUBENV_VARS_MAX  48
#define GRUBENV_NAME_MAX  64
#define GRUBENV_VALUE_MAX 256

struct grubenv_var {
    char name[GRUBENV_NAME_MAX];
    char value[GRUBENV_VALUE_MAX];
};

/* The variables of one block, in the order they stand in it. */
struct grubenv {
    int n;
    struct grubenv_var var[GRUBENV_VARS_MAX];
};

enum grubenv_parse_result {
    GRUBENV_OK,
    GRUBENV_BAD_SIGNATURE, /* not a GRUB environment block */
    GRUBENV_BAD_SIZE,      /* not 1024 bytes */
    GRUBENV_TOO_MANY,      /* a name, value or count past the limits above */
};

/* Parses a block as GRUB's reader (grub_envblk_iterate) does: after the signature, a record
 * starting with `#` is a comment to its unescaped newline; any other is a name (every byte up
 * to the first `=`, as it is) and a value (to the unescaped newline; a backslash takes the
 * next byte as it is); a record the block ends inside stops the reading. A name given twice
 * keeps its last value. */
enum grubenv_parse_result grubenv_parse(const uint8_t *block, size_t len, struct grubenv *env);
/* The value of name; NULL when the block does not set it. */
const char *grubenv_get(const struct grubenv *env, const char *name);
/* Sets name to value, in place if it is set, else at the end; -1 when it does not fit. */
int grubenv_set(struct grubenv *env, const char *name, const char *value);
/* Removes name (no-op when absent). */
void grubenv_unset(struct grubenv *env, const char *name);
/* Lays the variables out as a block as GRUB writes one: names as they are, values with `\`
 * and newlines escaped, `#` padding; -1 when they do not fit in GRUBENV_SIZE bytes or a name
 * cannot be written (empty, holding `=`, or starting with `#`). */
int grubenv_encode(const struct grubenv *env, uint8_t block[GRUBENV_SIZE]);

#endif
