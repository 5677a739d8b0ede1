/* SPDX-License-Identifier: MIT */
/*
 * table.c — aligned text tables for people: a header row and rows of cells, each column as
 * wide as its widest cell (counted in UTF-8 characters), columns two spaces apart, no tabs and
 * no trailing blanks. Cells are copied; an empty or NULL cell prints as "-".
 */
#include <errno.h>
#include <string.h>

#include "pcictl.h"

struct table {
    size_t ncols, nrows, cap; /* cap: rows allocated */
    char **cells;             /* (nrows + 1) * ncols; row 0 is the header */
};

int table_new(size_t ncols, const char *const *headers, struct table **ret)
{
    struct table *t = calloc(1, sizeof(*t));
    int r;

    if (!t)
        return -ENOMEM;
    t->ncols = ncols;
    r = table_add_row(t, headers);
    if (r < 0) {
        table_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

void table_free(struct table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

int table_add_row(struct table *t, const char *const *cells)
{
    char **row;

    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **p = realloc(t->cells, cap * t->ncols * sizeof(*p));

        if (!p)
            return -ENOMEM;
        t->cells = p;
        t->cap = cap;
    }
    row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = strdup(cells[i] && *cells[i] ? cells[i] : "-");
        if (!row[i]) {
            while (i--)
                free(row[i]);
            return -ENOMEM;
        }
    }
    t->nrows++;
    return 0;
}

/* Characters in UTF-8 string `s`: bytes that do not continue a sequence. */
static size_t text_width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int table_print(const struct table *t, FILE *f)
{
    _cleanup_(freep) size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));

    if (!width)
        return -ENOMEM;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = text_width(t->cells[r * t->ncols + c]);

            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];

            fputs(cell, f);
            if (c + 1 < t->ncols)
                fprintf(f, "%*s", (int)(width[c] - text_width(cell) + 2), "");
        }
        fputc('\n', f);
    }
    if (ferror(f)) {
        pcictl_err("cannot write the table: %s", strerror(errno));
        return -EIO;
    }
    return 0;
}
