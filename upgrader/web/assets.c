/* SPDX-License-Identifier: MIT */
/* The files of upgrader/web/assets/ embedded with the assembler's .incbin (the Makefile
 * rebuilds this object when one of them changes). */
#include "web/assets.h"

#include <string.h>

#define EMBED(sym, file)                                                                        \
    __asm__(".section .rodata\n.global " #sym "\n.type " #sym ", @object\n" #sym ":\n"          \
            ".incbin \"" file "\"\n.global " #sym "_end\n" #sym "_end:\n.byte 0\n.previous\n"); \
    extern const unsigned char sym[], sym##_end[]

EMBED(ug_asset_style, "upgrader/web/assets/style.css");
EMBED(ug_asset_app, "upgrader/web/assets/app.js");

const struct asset *assets_find(const char *path)
{
    static struct asset table[2];
    if (!table[0].path) {
        table[0] = (struct asset){"/static/style.css", "text/css; charset=utf-8", ug_asset_style,
                                  (size_t)(ug_asset_style_end - ug_asset_style)};
        table[1] = (struct asset){"/static/app.js", "text/javascript; charset=utf-8", ug_asset_app,
                                  (size_t)(ug_asset_app_end - ug_asset_app)};
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(path, table[i].path) == 0)
            return &table[i];
    return NULL;
}
