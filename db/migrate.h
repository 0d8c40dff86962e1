/* db_migrate: applies migrations/NNNN_name.sql in order, each once, each
 * in its own transaction, recording its SHA-256 in schema_migrations. A
 * file changed after it was applied is refused, and nothing is applied. */
#ifndef DB_MIGRATE_H
#define DB_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

typedef struct {
    char file[128];      /* "0001_core.sql" */
    char checksum[65];   /* hex SHA-256 of the file now ("" if missing) */
    bool applied;
    char applied_at[40]; /* "" when pending */
    bool changed;        /* applied, but the file's checksum differs */
    bool missing;        /* applied, but the file is gone */
} db_migration;

/* The migrations of dir and their state in the database, in order.
 * *out is malloc'd; caller frees. */
pf_kind db_migrate_status(db_conn *c, const char *dir, db_migration **out,
                          size_t *n, pf_err *err);

/* Applies every pending migration. *n_applied gets how many were applied
 * (may be NULL). Stops at the first failure, keeping those before it. */
pf_kind db_migrate_apply(db_conn *c, const char *dir, int *n_applied, pf_err *err);

#endif
