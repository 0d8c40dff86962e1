/* Internals shared by the files of db/: statement execution and the
 * mapping of PostgreSQL errors to pf_err. Not for use outside db/. */
#ifndef DB_INTERNAL_H
#define DB_INTERNAL_H

#include <libpq-fe.h>

#include "db/db.h"

/* A named prepared statement. Declared static in the file of its
 * aggregate; prepared on first use per connection. */
typedef struct {
    const char *name;
    const char *sql;
    int nparams;
} db_stmt;

struct db_audit_queued; /* db/audit.c */

struct db_conn {
    PGconn *pg;
    bool in_tx;
    bool reading;         /* inside db_run_read: each statement carries the scope */
    db_scope read_scope;
    const db_stmt **prepared; /* statements prepared on this connection */
    size_t n_prepared, cap_prepared;
    struct db_audit_queued *audit; /* events of the open transaction, written at commit */
    size_t n_audit, cap_audit;
};

/* Writes the audit events queued in this transaction (db/audit.c): called
 * by db_commit just before COMMIT, so the lock on the chain's head is held
 * only from here to the commit. Clears the queue. */
pf_kind db_audit_flush(db_conn *c, pf_err *err);
/* Drops the queued events (rollback, close). */
void db_audit_discard(db_conn *c);

/* Executes stmt with text params (NULL entries are SQL NULL). Returns the
 * result on success (PGRES_COMMAND_OK or PGRES_TUPLES_OK; caller PQclear()s)
 * or NULL with err filled from the server's error. */
PGresult *db_exec(db_conn *c, const db_stmt *stmt, const char *const *params,
                  pf_err *err);

/* Runs SQL text that cannot be prepared ahead (report views, whose name
 * comes from the catalog), with parameters; same contract as db_exec. */
PGresult *db_exec_sql(db_conn *c, const char *sql, int nparams, const char *const *params,
                      pf_err *err);

/* Like db_exec for a statement whose result must have exactly one row;
 * zero rows gives PF_ENOTFOUND with not_found_msg. */
PGresult *db_exec_one(db_conn *c, const db_stmt *stmt, const char *const *params,
                      const char *not_found_code, const char *not_found_msg,
                      pf_err *err);

/* Fills err from a failed result (constraint names mapped to messages a
 * person can act on, see db/errors.c). Returns err->kind. */
pf_kind db_error_from_result(const PGresult *res, pf_err *err);

/* Column helpers: value or NULL for SQL NULL; integer with 0 for NULL. */
const char *db_val(const PGresult *r, int row, int col);
long long db_ll(const PGresult *r, int row, int col);
bool db_bool(const PGresult *r, int row, int col);

/* Formats a long long into buf (for params). Returns buf. */
const char *db_fmt_ll(char buf[24], long long v);
/* Same, but 0 becomes SQL NULL (returns NULL). */
const char *db_fmt_id(char buf[24], long long v);

#endif
