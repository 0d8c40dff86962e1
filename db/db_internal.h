/* Internals shared by the files of db/: statement execution and the
 * mapping of PostgreSQL errors to pf_err. Not for use outside db/. */
#ifndef DB_INTERNAL_H
#define DB_INTERNAL_H

#include <jansson.h>
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
struct db_deferred;     /* db/db.c: db_defer */

#define DB_MAX_LISTEN 4

/* Seconds a connection attempt may take, unless the URL sets its own. */
#define DB_CONNECT_TIMEOUT "5"

/* The connection parameters peerflow sets unless the URL names its own
 * (they go first; the URL's values come later and win): connect_timeout,
 * and TCP keepalives, so that a connection to a primary that vanished
 * without a FIN or RST (a host that died, a failover that moved its
 * address) is found broken in about 20 s instead of the kernel's two
 * hours, and the reconnect can find the new primary; and JIT off
 * (options "-c jit=off": peerflow's statements are short, and compiling
 * them cost more than it saved - a report over 100,000 requests took
 * 410 ms with JIT, 34 ms without). Fills keys/vals (room for
 * DB_N_DEFAULTS) and returns how many it filled. */
#define DB_N_DEFAULTS 6
int db_conn_defaults(const char **keys, const char **vals);

struct db_conn {
    PGconn *pg;
    db_role role;         /* what the connection acts as (db/role.c) */
    bool in_tx;
    bool reading;         /* inside db_run_read: each statement carries the scope */
    db_token_state token_state; /* db_token_state_take() */
    db_scope read_scope;
    db_scope tx_scope;    /* the scope of the open transaction */
    const db_stmt **prepared; /* statements prepared on this connection */
    size_t n_prepared, cap_prepared;
    bool commit_sent;     /* COMMIT went out in this db_run_tx attempt */
    unsigned long reconnects;
    char listen[DB_MAX_LISTEN][72]; /* channels to LISTEN again after a reconnect */
    size_t n_listen;
    struct db_audit_queued *audit; /* events of the open transaction, written at commit */
    size_t n_audit, cap_audit;
    struct db_deferred *deferred; /* writes of the open transaction not sent yet (db_defer) */
    size_t n_deferred, cap_deferred;
};

/* Wraps a connected PGconn (takes it, also on failure: then it is
 * finished and err filled). */
db_conn *db_wrap(PGconn *pg, db_role role, pf_err *err);

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

/* Executes stmt and hands each row to row() as it arrives (libpq
 * single-row mode: the caller works while the server still sends, and
 * the rows are never all in memory at once); r is valid only during the
 * call. row() returning nonzero stops the calls (the rest is read and
 * dropped). PF_OK, or err filled from the server's error. Inside a
 * transaction only (db_run_tx) when the connection reads with a scope:
 * refused in a db_run_read, whose scope rides only with run()'s
 * statements. */
pf_kind db_exec_each(db_conn *c, const db_stmt *stmt, const char *const *params,
                     int (*row)(void *arg, const PGresult *r), void *arg, pf_err *err);

/* Queues a write whose result nothing reads (a job, a mail, an approval,
 * an audit row) in the open transaction: it goes out in the pipeline of
 * the transaction's next statement that needs an answer, or of COMMIT,
 * in the order it was queued, so it costs no round trip of its own. Its
 * error, if any, is the error of that statement (the first error of the
 * pipeline: the same pf_err the write would have given at once), and the
 * transaction still fails as a whole. Outside a transaction it runs at
 * once. params are copied. */
pf_kind db_defer(db_conn *c, const db_stmt *stmt, const char *const *params, pf_err *err);
/* Drops the queued writes (rollback, close). */
void db_defer_discard(db_conn *c);

/* Sends the queued writes and then n statements in one pipeline (one
 * round trip) and stores each statement's result in out[i] (caller
 * PQclear()s them). The statements run in order, each with its own
 * snapshot (READ COMMITTED), as if sent one by one: a statement after a
 * row lock sees what the transaction it waited for committed. On the
 * first error every out[i] is NULL and err is filled. */
pf_kind db_exec_pipelined(db_conn *c, int n, const db_stmt *const *stmts,
                          const char *const *const *params, PGresult **out, pf_err *err);

/* Runs s outside any transaction for a remembered API token whose check
 * the statement makes itself: its first four parameters are the token's
 * hash (hex), user, network and role (from scope, which must have
 * check_token), rest the others. No scope is set: the statement is a
 * SECURITY DEFINER function that applies the token's own rule. A refused
 * token is noted as the pipeline's check is (db_token_state_take). Same
 * result contract as db_exec. */
PGresult *db_exec_token_checked(db_conn *c, const db_scope *scope, const db_stmt *s,
                                const char *const *rest, pf_err *err);

/* SELECT pf_bgp_allocate($1) (db/bgp.c), shared with the approval's
 * pipeline (db/requests.c). */
extern const db_stmt db_bgp_allocate_stmt;

/* The JSON in row 0, column col of r, parsed into *out (a new reference);
 * PF_EINTERNAL bad_json_from_db if the database gave something unreadable.
 * db_json_take does the same for column 0 and PQclear()s r. */
pf_kind db_json_val(const PGresult *r, int col, json_t **out, pf_err *err);
pf_kind db_json_take(PGresult *r, json_t **out, pf_err *err);

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

/* The acting network of the open transaction or read, as a statement
 * parameter: NULL for operators and the system (they see everything),
 * else the network id ("0" when the actor has none, which matches no
 * row). Every tenant-visible query filters on it in its WHERE clause as
 * well as through row-level security, so isolation holds twice - also
 * when the connected role bypasses RLS. buf must outlive the call. */
const char *db_scope_param(const db_conn *c, char buf[24]);

/* Column helpers: value or NULL for SQL NULL; integer with 0 for NULL. */
const char *db_val(const PGresult *r, int row, int col);
long long db_ll(const PGresult *r, int row, int col);
bool db_bool(const PGresult *r, int row, int col);

/* Formats a long long into buf (for params). Returns buf. */
const char *db_fmt_ll(char buf[24], long long v);
/* Same, but 0 becomes SQL NULL (returns NULL). */
const char *db_fmt_id(char buf[24], long long v);

#endif
