/* pf_table: a small result table (column names, rows of nullable text
 * cells) and its renderings as an aligned text table, RFC 4180 CSV and
 * JSON. Used for reports by the CLI and the web. */
#ifndef PF_TABLE_H
#define PF_TABLE_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    int ncols, nrows;
    char **names;  /* ncols strings */
    char **cells;  /* nrows * ncols, row-major; NULL = SQL NULL */
} pf_table;

/* Allocates an empty table with ncols columns; NULL on out of memory. */
pf_table *pf_table_new(int ncols);
/* Takes copies. Returns false on out of memory. */
bool pf_table_set_name(pf_table *t, int col, const char *name);
bool pf_table_add_row(pf_table *t, const char *const *cells);
const char *pf_table_cell(const pf_table *t, int row, int col);
void pf_table_free(pf_table *t);

/* Writers. NULL cells print as "" (csv, table) or null (json). */
void pf_table_write_text(const pf_table *t, FILE *out);
void pf_table_write_csv(const pf_table *t, FILE *out);
/* JSON: {"columns": [...], "rows": [{col: value, ...}, ...]}. Returns a
 * malloc'd string; caller frees. */
char *pf_table_to_json(const pf_table *t);

#endif
