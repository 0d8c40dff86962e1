/* db: connections, transactions, prepared statements, error mapping.
 *
 * The only module that includes libpq-fe.h (the files of db/). Everything above it
 * sees db_conn, domain structs and pf_err. One db_conn is used by one
 * thread at a time (libpq connections are not thread-safe); servers keep
 * one per thread.
 *
 * Every transaction runs for an acting party (db_scope). db_begin() sets
 * it with set_config(..., is_local = true), so it ends with the
 * transaction, and row-level security (migrations/0001_core.sql) limits
 * what that party's queries can see.
 */
#ifndef DB_DB_H
#define DB_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "common/pf_err.h"

typedef struct db_conn db_conn;

/* Who a transaction acts for.
 *
 * operator is honoured by the database only where it can be trusted
 * (docs/security.md): on a peerflow_worker connection (workers, the CLI)
 * as it is; on the web's peerflow_app connections only together with
 * credential, the BLAKE2b hash of an operator's live session or API token,
 * which the SECURITY DEFINER function pf_grant_operator() checks. Without
 * it an operator scope on an application connection sees no network's
 * data. */
typedef struct {
    bool operator;        /* operators, workers, the CLI: see everything */
    long long network_id; /* acting user's network, 0 for none */
    long long user_id;    /* acting user, 0 for none */
    bool has_credential;  /* credential holds an operator's hash */
    unsigned char credential[32];
    /* An API token a web process remembered instead of looking it up
     * (workflow/auth.c): every transaction or read of this scope first
     * has the database confirm, in the same round trip, that the token
     * with this hash is live and still belongs to token_user of
     * token_network (0: none) with token_role. A refusal fails the work
     * with PF_EAUTH "token_check_failed" before any of it runs. */
    bool check_token;
    unsigned char token_hash[32];
    long long token_user, token_network;
    char token_role[16];
} db_scope;

/* What the API token checks of a connection found since the last call
 * (db_scope.check_token); the call forgets them. */
typedef enum {
    DB_TOKEN_UNCHECKED, /* no work of a check_token scope ran */
    DB_TOKEN_CHECKED,   /* every check passed */
    DB_TOKEN_REFUSED    /* a check failed: the token is not what was remembered */
} db_token_state;
db_token_state db_token_state_take(db_conn *c);

/* The role a connection acts as. */
typedef enum {
    DB_ROLE_OWNER,  /* as connected, no check: migrations and tests only */
    DB_ROLE_APP,    /* peerflow_app: the web server */
    DB_ROLE_WORKER  /* peerflow_worker: workers and the CLI */
} db_role;

/* The scope of the system itself (CLI, workers). */
db_scope db_scope_system(void);
db_scope db_scope_network(long long network_id, long long user_id);

/* Connects with a libpq conninfo string or URL, as connected (DB_ROLE_OWNER:
 * migrations). Returns NULL and fills err (PF_EUNAVAIL) when the server
 * cannot be reached. Caller closes. */
db_conn *db_connect(const char *conninfo, pf_err *err);

/* Connects and makes sure the connection acts as role (db/role.c): a login
 * that is a superuser, has BYPASSRLS or owns the tables would bypass
 * row-level security, so it is switched to the role (the libpq option
 * `-c role=...`, which survives reconnects) when it is a member of it,
 * and refused otherwise (PF_EINVALID "unsafe_database_role", one line that
 * names the fix). A login that is neither the role nor may become it is
 * refused too ("wrong_database_role"). Caller closes. */
db_conn *db_connect_as(const char *conninfo, db_role role, pf_err *err);

void db_close(db_conn *c);

/* Transactions. db_begin starts one for scope; db_commit commits it (a
 * failed commit is rolled back and reported); db_rollback is safe to call
 * in any state, also after a failed statement. */
pf_kind db_begin(db_conn *c, const db_scope *scope, pf_err *err);
pf_kind db_commit(db_conn *c, pf_err *err);
void db_rollback(db_conn *c);

/* Runs fn inside a transaction for scope: commits when fn returns PF_OK,
 * rolls back otherwise, and retries up to 3 times on a serialization
 * failure or deadlock, and once when the connection broke before COMMIT
 * was sent and could be made again (a restarted server): fn must be safe
 * to re-run. While the server is unreachable: PF_EUNAVAIL
 * "database_unavailable" with err->retry_after set. */
typedef pf_kind (*db_tx_fn)(db_conn *c, void *ctx, pf_err *err);
pf_kind db_run_tx(db_conn *c, const db_scope *scope, db_tx_fn fn, void *ctx,
                  pf_err *err);

/* Runs fn for scope without an explicit transaction: each statement fn
 * executes goes out pipelined after the scope in ONE round trip and runs
 * in its own implicit transaction. For reads whose statements need no
 * common snapshot (and single-statement idempotent writes); a read-mostly
 * request saves the round trips of BEGIN and COMMIT. Like db_run_tx, fn
 * runs once more when the connection broke and could be made again, so
 * it must start from nothing (free what an earlier run left). */
pf_kind db_run_read(db_conn *c, const db_scope *scope, db_tx_fn fn, void *ctx, pf_err *err);

/* LISTEN on channel (outside any transaction). */
pf_kind db_listen(db_conn *c, const char *channel, pf_err *err);

/* Waits up to timeout_ms for a notification on a channel this connection
 * listens on. Returns true when one arrived (all queued are consumed), and
 * also when the connection broke and was made again with its LISTENs
 * renewed (notifications may have been missed: look for work); false on
 * timeout, or after timeout_ms when the server stays unreachable. */
bool db_wait_notify(db_conn *c, int timeout_ms);

/* How often this connection was made again after breaking. */
unsigned long db_reconnects(const db_conn *c);

/* Runs one SQL script (several statements, no parameters) - for
 * migrations only. */
pf_kind db_exec_script(db_conn *c, const char *sql, pf_err *err);

/* Health check: SELECT 1. */
pf_kind db_ping(db_conn *c, pf_err *err);

#endif
