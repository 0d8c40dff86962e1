/* pf_table: see pf_table.h. */
#include "common/pf_table.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

pf_table *pf_table_new(int ncols)
{
    pf_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    t->names = calloc((size_t)ncols, sizeof *t->names);
    if (t->names == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

bool pf_table_set_name(pf_table *t, int col, const char *name)
{
    free(t->names[col]);
    t->names[col] = strdup(name ? name : "");
    return t->names[col] != NULL;
}

bool pf_table_add_row(pf_table *t, const char *const *cells)
{
    size_t n = (size_t)(t->nrows + 1) * (size_t)t->ncols;
    char **c = realloc(t->cells, n * sizeof *c);
    if (c == NULL)
        return false;
    t->cells = c;
    char **row = c + (size_t)t->nrows * (size_t)t->ncols;
    for (int i = 0; i < t->ncols; i++)
        row[i] = cells[i] ? strdup(cells[i]) : NULL;
    t->nrows++;
    return true;
}

const char *pf_table_cell(const pf_table *t, int row, int col)
{
    return t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];
}

void pf_table_free(pf_table *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->ncols; i++)
        free(t->names[i]);
    for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->names);
    free(t->cells);
    free(t);
}

/* Display width in characters: counts UTF-8 lead bytes only. */
static int width(const char *s)
{
    int w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void pf_table_write_text(const pf_table *t, FILE *out)
{
    int *w = calloc((size_t)t->ncols, sizeof *w);
    if (w == NULL)
        return;
    for (int c = 0; c < t->ncols; c++) {
        w[c] = width(t->names[c]);
        for (int r = 0; r < t->nrows; r++) {
            int x = width(pf_table_cell(t, r, c));
            if (x > w[c])
                w[c] = x;
        }
    }
    for (int c = 0; c < t->ncols; c++)
        fprintf(out, "%s%s%*s", c ? "  " : "", t->names[c], w[c] - width(t->names[c]), "");
    fputc('\n', out);
    for (int c = 0; c < t->ncols; c++) {
        fprintf(out, "%s", c ? "  " : "");
        for (int i = 0; i < w[c]; i++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *v = pf_table_cell(t, r, c);
            fprintf(out, "%s%s%*s", c ? "  " : "", v ? v : "", w[c] - width(v), "");
        }
        fputc('\n', out);
    }
    fprintf(out, "(%d row%s)\n", t->nrows, t->nrows == 1 ? "" : "s");
    free(w);
}

static void csv_field(const char *v, FILE *out)
{
    if (v == NULL)
        return;
    if (strpbrk(v, ",\"\r\n") == NULL) {
        fputs(v, out);
        return;
    }
    fputc('"', out);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', out);
        fputc(*v, out);
    }
    fputc('"', out);
}

void pf_table_write_csv(const pf_table *t, FILE *out)
{
    for (int c = 0; c < t->ncols; c++) {
        if (c)
            fputc(',', out);
        csv_field(t->names[c], out);
    }
    fputs("\r\n", out);
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c)
                fputc(',', out);
            csv_field(pf_table_cell(t, r, c), out);
        }
        fputs("\r\n", out);
    }
}

char *pf_table_to_json(const pf_table *t)
{
    json_t *cols = json_array(), *rows = json_array();
    for (int c = 0; c < t->ncols; c++)
        json_array_append_new(cols, json_string(t->names[c]));
    for (int r = 0; r < t->nrows; r++) {
        json_t *o = json_object();
        for (int c = 0; c < t->ncols; c++) {
            const char *v = pf_table_cell(t, r, c);
            json_object_set_new(o, t->names[c], v ? json_string(v) : json_null());
        }
        json_array_append_new(rows, o);
    }
    json_t *doc = json_pack("{s:o,s:o}", "columns", cols, "rows", rows);
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return s;
}
