/* SPDX-License-Identifier: MIT */
/* The pages' static files (style sheet, script), built into the program from
 * upgrader/web/assets/, so the device serves everything itself. */
#ifndef UPGRADER_WEB_ASSETS_H
#define UPGRADER_WEB_ASSETS_H

#include <stddef.h>

struct asset {
    const char *path; /* "/static/style.css" */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
};

/* The asset served at path, or NULL. */
const struct asset *assets_find(const char *path);

#endif
