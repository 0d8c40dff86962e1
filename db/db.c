/* db: connections, transactions and statement execution. See db.h. */
#include "db/db_internal.h"

#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

db_scope db_scope_system(void)
{
    return (db_scope){.operator = true};
}

db_scope db_scope_network(long long network_id, long long user_id)
{
    return (db_scope){.network_id = network_id, .user_id = user_id};
}

/* libpq prints notices (e.g. from RAISE NOTICE) to stderr by default;
 * library code must stay quiet. */
static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* One line of a libpq error message. */
static void first_line(char *dst, size_t n, const char *msg)
{
    snprintf(dst, n, "%s", msg ? msg : "out of memory");
    dst[strcspn(dst, "\n")] = '\0';
}

db_conn *db_wrap(PGconn *pg, db_role role, pf_err *err)
{
    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        char line[300];
        first_line(line, sizeof line, pg ? PQerrorMessage(pg) : NULL);
        pf_fail(err, PF_EUNAVAIL, "database_unavailable", NULL,
                "cannot connect to PostgreSQL (%s): check the database URL "
                "(PEERFLOW_DATABASE_URL, or PEERFLOW_WORKER_DATABASE_URL for workers and the CLI) "
                "and that the server runs",
                line);
        if (err)
            err->retry_after = 5;
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, quiet_notice, NULL);
    db_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        PQfinish(pg);
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        return NULL;
    }
    c->pg = pg;
    c->role = role;
    return c;
}

db_conn *db_connect(const char *conninfo, pf_err *err)
{
    if (conninfo == NULL || *conninfo == '\0') {
        pf_fail(err, PF_EINVALID, "no_database_url", "database_url",
                "no database given: set PEERFLOW_DATABASE_URL or pass --database-url");
        return NULL;
    }
    /* dbname is expanded (a URL or a conninfo string, multi-host lists
     * included) after the defaults, so the string's own values win. */
    const char *keys[DB_N_DEFAULTS + 2], *vals[DB_N_DEFAULTS + 2];
    int n = db_conn_defaults(keys, vals);
    keys[n] = "dbname";
    vals[n++] = conninfo;
    keys[n] = vals[n] = NULL;
    return db_wrap(PQconnectdbParams(keys, vals, 1), DB_ROLE_OWNER, err);
}

int db_conn_defaults(const char **keys, const char **vals)
{
    /* A server that does not answer (a dead host, a dropped route) must
     * not hold a request longer than the 503 it ends in: 5 s per host. */
    static const char *const k[DB_N_DEFAULTS] = {"connect_timeout", "keepalives",
                                                 "keepalives_idle", "keepalives_interval",
                                                 "keepalives_count", "options"};
    static const char *const v[DB_N_DEFAULTS] = {DB_CONNECT_TIMEOUT, "1", "10", "3", "3",
                                                 "-c jit=off"};
    for (int i = 0; i < DB_N_DEFAULTS; i++) {
        keys[i] = k[i];
        vals[i] = v[i];
    }
    return DB_N_DEFAULTS;
}

void db_close(db_conn *c)
{
    if (c == NULL)
        return;
    PQfinish(c->pg);
    db_audit_discard(c);
    db_defer_discard(c);
    free(c->audit);
    free(c->deferred);
    free(c->prepared);
    free(c);
}

static pf_kind lost_connection(db_conn *c, pf_err *err);

static bool is_prepared(const db_conn *c, const db_stmt *s)
{
    for (size_t i = 0; i < c->n_prepared; i++)
        if (c->prepared[i] == s)
            return true;
    return false;
}

static pf_kind prepare(db_conn *c, const db_stmt *s, pf_err *err)
{
    if (c->n_prepared == c->cap_prepared) {
        size_t cap = c->cap_prepared ? c->cap_prepared * 2 : 32;
        const db_stmt **p = realloc(c->prepared, cap * sizeof *p);
        if (p == NULL)
            return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        c->prepared = p;
        c->cap_prepared = cap;
    }
    PGresult *r = PQprepare(c->pg, s->name, s->sql, s->nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pf_kind k = PQstatus(c->pg) != CONNECTION_OK ? lost_connection(c, err)
                                                     : db_error_from_result(r, err);
        PQclear(r);
        return k;
    }
    PQclear(r);
    c->prepared[c->n_prepared++] = s;
    return PF_OK;
}

/* The answer while PostgreSQL cannot be reached: 503, and when to retry. */
static pf_kind unavailable(pf_err *err)
{
    pf_fail(err, PF_EUNAVAIL, "database_unavailable", NULL,
            "the database is unavailable (restarting or unreachable): try again in a few "
            "seconds");
    if (err)
        err->retry_after = 5;
    return PF_EUNAVAIL;
}

/* Reconnects a broken connection: libpq keeps the connection string (the
 * `-c role=` option of db/role.c included), the server has forgotten our
 * prepared statements and LISTENs, so those are renewed. The transaction
 * that was open is gone. true when the connection works again. */
static bool reconnect(db_conn *c)
{
    c->n_prepared = 0;
    c->in_tx = false;
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return false;
    for (size_t i = 0; i < c->n_listen; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "LISTEN %s", c->listen[i]);
        PGresult *r = PQexec(c->pg, sql);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok)
            return false;
    }
    c->reconnects++;
    return true;
}

/* A statement found the connection broken: reconnect for the next one (a
 * restarted server is back at once) and report this one as unavailable. */
static pf_kind lost_connection(db_conn *c, pf_err *err)
{
    reconnect(c);
    return unavailable(err);
}

static const db_stmt set_scope = {
    "pf_set_scope",
    "SELECT set_config('peerflow.operator', $1, true),"
    "       set_config('peerflow.network_id', $2, true),"
    "       set_config('peerflow.user_id', $3, true)",
    3};

/* An operator on the web: the database checks the credential and grants
 * the operator scope for this transaction (migrations/0006_trust.sql). */
static const db_stmt grant_operator = {
    "pf_grant_operator",
    "SELECT pf_grant_operator($1, decode($2, 'hex'))", 2};

/* A remembered API token (db_scope.check_token), checked by the
 * database (migrations/0017_read_path.sql) in the statement that sets the
 * scope: one statement fewer in every pipeline of a remembered token (a
 * refusal raises, and the implicit transaction, scope included, aborts). */
static const db_stmt check_token = {
    "pf_check_token",
    "SELECT pf_api_token_check(decode($1, 'hex'), $2, $3, $4),"
    "       set_config('peerflow.operator', $5, true),"
    "       set_config('peerflow.network_id', $6, true),"
    "       set_config('peerflow.user_id', $7, true)",
    7};

struct scope_params {
    char nb[24], ub[24], cred[65], th[65], tu[24], tn[24];
    const char *set[3];
    const char *grant[2];
    const char *check[7]; /* the token's 4, then set[0..2] */
    bool has_grant, has_check;
};

static void scope_params(const db_scope *scope, struct scope_params *sp)
{
    sp->set[0] = scope->operator ? "on" : "off";
    sp->set[1] = scope->network_id ? db_fmt_ll(sp->nb, scope->network_id) : "";
    sp->set[2] = scope->user_id ? db_fmt_ll(sp->ub, scope->user_id) : "";
    sp->has_grant = scope->operator && scope->has_credential;
    if (sp->has_grant) {
        sodium_bin2hex(sp->cred, sizeof sp->cred, scope->credential, sizeof scope->credential);
        sp->grant[0] = sp->set[2];
        sp->grant[1] = sp->cred;
    }
    sp->has_check = scope->check_token;
    if (sp->has_check) {
        sodium_bin2hex(sp->th, sizeof sp->th, scope->token_hash, sizeof scope->token_hash);
        sp->check[0] = sp->th;
        sp->check[1] = db_fmt_ll(sp->tu, scope->token_user);
        sp->check[2] = db_fmt_ll(sp->tn, scope->token_network);
        sp->check[3] = scope->token_role;
        memcpy(&sp->check[4], sp->set, sizeof sp->set);
    }
}

/* How many queries send_scope queues. */
static int scope_queries(const struct scope_params *sp)
{
    return 1 + sp->has_grant;
}

/* Notes what a pipeline that carried a token check found: the check goes
 * first, so a refusal is the pipeline's first (reported) error. */
static void note_check(db_conn *c, const struct scope_params *sp, bool failed,
                       const pf_err *err)
{
    if (!sp->has_check)
        return;
    if (failed && err && strcmp(err->code, "token_check_failed") == 0)
        c->token_state = DB_TOKEN_REFUSED;
    else if (!failed && c->token_state == DB_TOKEN_UNCHECKED)
        c->token_state = DB_TOKEN_CHECKED;
}

db_token_state db_token_state_take(db_conn *c)
{
    db_token_state st = c->token_state;
    c->token_state = DB_TOKEN_UNCHECKED;
    return st;
}

/* Queues the scope's statements in the open pipeline; false when the
 * connection broke. */
static bool send_scope(db_conn *c, const struct scope_params *sp)
{
    return (sp->has_check
                ? PQsendQueryPrepared(c->pg, check_token.name, 7, sp->check, NULL, NULL, 0)
                : PQsendQueryPrepared(c->pg, set_scope.name, 3, sp->set, NULL, NULL, 0)) &&
           (!sp->has_grant ||
            PQsendQueryPrepared(c->pg, grant_operator.name, 2, sp->grant, NULL, NULL, 0));
}

/* The grant is prepared only when first needed: a migrating connection
 * may run before the function exists. */
static pf_kind prepare_scope(db_conn *c, const db_scope *scope, pf_err *err)
{
    if (!is_prepared(c, &set_scope) && prepare(c, &set_scope, err) != PF_OK)
        return err ? err->kind : PF_EUNAVAIL;
    if (scope->operator && scope->has_credential && !is_prepared(c, &grant_operator) &&
        prepare(c, &grant_operator, err) != PF_OK)
        return err ? err->kind : PF_EUNAVAIL;
    if (scope->check_token && !is_prepared(c, &check_token) &&
        prepare(c, &check_token, err) != PF_OK)
        return err ? err->kind : PF_EUNAVAIL;
    return PF_OK;
}

/* Reads the results of a pipeline of nqueries queries up to its sync and
 * leaves pipeline mode; the result of query first + i goes to out[i]
 * (the queued writes before them keep nothing; first == nqueries keeps
 * none, out may then be NULL). On the first error fills err and returns
 * false, every out[i] NULL: an error in one query makes the later ones
 * PGRES_PIPELINE_ABORTED, and the first error is the one reported. */
static bool drain_into(db_conn *c, int nqueries, int first, PGresult **out, pf_err *err)
{
    int seen = 0, nulls = 0;
    bool broken = false, failed = false;
    for (int guard = 0; guard < 8 * nqueries + 8; guard++) {
        PGresult *r = PQgetResult(c->pg);
        if (r == NULL) {
            if (++nulls > nqueries || PQstatus(c->pg) != CONNECTION_OK) {
                broken = failed = true; /* more ends than queries: the link broke */
                break;
            }
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            if (!failed)
                db_error_from_result(r, err);
            failed = true;
            PQclear(r);
        } else if (seen >= first && seen < nqueries) {
            out[seen - first] = r;
        } else {
            PQclear(r);
        }
        seen++;
    }
    PQexitPipelineMode(c->pg);
    if (broken || (failed && PQstatus(c->pg) != CONNECTION_OK))
        lost_connection(c, err); /* the server's last word is not the error */
    if (failed)
        for (int i = 0; i < nqueries - first; i++) {
            PQclear(out[i]);
            out[i] = NULL;
        }
    return !failed;
}

/* drain_into for a pipeline whose one kept result is query number keep
 * (its last, or -1 for none); *failed on an error. */
static PGresult *drain_pipeline(db_conn *c, int nqueries, int keep, bool *failed, pf_err *err)
{
    PGresult *out = NULL;
    *failed = !drain_into(c, nqueries, keep < 0 ? nqueries : keep, keep < 0 ? NULL : &out, err);
    return out;
}

/* Sends the scope and the statement (prepared s, or sql text) as one
 * pipeline and returns the statement's result; they share the implicit
 * transaction that ends at the sync, so the transaction-local scope
 * applies to it. */
static PGresult *exec_scoped(db_conn *c, const db_stmt *s, const char *sql, int nparams,
                             const char *const *params, pf_err *err)
{
    struct scope_params sp;
    scope_params(&c->read_scope, &sp);
    if (!PQenterPipelineMode(c->pg) || !send_scope(c, &sp) ||
        !(s ? PQsendQueryPrepared(c->pg, s->name, s->nparams, params, NULL, NULL, 0)
            : PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0)) ||
        !PQpipelineSync(c->pg)) {
        PQexitPipelineMode(c->pg);
        lost_connection(c, err);
        return NULL;
    }
    bool failed;
    int n = scope_queries(&sp) + 1;
    PGresult *r = drain_pipeline(c, n, n - 1, &failed, err);
    note_check(c, &sp, failed, err);
    return r;
}

static PGresult *exec_with_deferred(db_conn *c, const db_stmt *s, const char *sql, int nparams,
                                    const char *const *params, pf_err *err);
static pf_kind commit_lost(db_conn *c, pf_err *err);

/* Runs the prepared statement s, or sql text, and returns its result; in
 * db_run_read the scope goes along in the same round trip. */
static PGresult *run(db_conn *c, const db_stmt *s, const char *sql, int nparams,
                     const char *const *params, pf_err *err)
{
    if (c->reading && !c->in_tx) {
        if (prepare_scope(c, &c->read_scope, err) != PF_OK)
            return NULL;
        return exec_scoped(c, s, sql, nparams, params, err);
    }
    if (c->in_tx && c->n_deferred > 0)
        return exec_with_deferred(c, s, sql, nparams, params, err);
    PGresult *r = s ? PQexecPrepared(c->pg, s->name, s->nparams, params, NULL, NULL, 0)
                    : PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    if (PQstatus(c->pg) != CONNECTION_OK)
        lost_connection(c, err);
    else
        db_error_from_result(r, err);
    PQclear(r);
    return NULL;
}

PGresult *db_exec_token_checked(db_conn *c, const db_scope *scope, const db_stmt *s,
                                const char *const *rest, pf_err *err)
{
    if (!scope->check_token || c->in_tx || c->reading || s->nparams < 4 || s->nparams > 12) {
        pf_fail(err, PF_EINTERNAL, "bad_checked_statement", NULL,
                "internal error: a token-checked statement needs a remembered token, no "
                "open transaction and 4 to 12 parameters");
        return NULL;
    }
    struct scope_params sp;
    scope_params(scope, &sp);
    const char *p[12];
    for (int i = 0; i < 4; i++)
        p[i] = sp.check[i];
    for (int i = 4; i < s->nparams; i++)
        p[i] = rest[i - 4];
    PGresult *r = db_exec(c, s, p, err);
    note_check(c, &sp, r == NULL, err);
    return r;
}

PGresult *db_exec(db_conn *c, const db_stmt *s, const char *const *params, pf_err *err)
{
    if (PQstatus(c->pg) != CONNECTION_OK) {
        lost_connection(c, err);
        return NULL;
    }
    if (!is_prepared(c, s) && prepare(c, s, err) != PF_OK) {
        if (PQstatus(c->pg) != CONNECTION_OK)
            lost_connection(c, err);
        return NULL;
    }
    return run(c, s, NULL, 0, params, err);
}

static pf_kind flush_deferred(db_conn *c, pf_err *err);

pf_kind db_exec_each(db_conn *c, const db_stmt *s, const char *const *params,
                     int (*row)(void *arg, const PGresult *r), void *arg, pf_err *err)
{
    /* the scope of a db_run_read goes in the statement's pipeline (run());
     * a streamed statement has none: without a transaction's scope it
     * would see the rows row-level security leaves to nobody - for a
     * reconcile, no desired flows, so every flow removed */
    if (c->reading && !c->in_tx)
        return pf_fail(err, PF_EINTERNAL, "stream_outside_transaction", NULL,
                       "internal error: a streamed statement runs only inside a transaction");
    if (PQstatus(c->pg) != CONNECTION_OK)
        return lost_connection(c, err);
    /* the queued writes first: the stream sees them, and they keep their
     * order (their error is this statement's) */
    if (c->in_tx && c->n_deferred > 0 && flush_deferred(c, err) != PF_OK)
        return err ? err->kind : PF_EUNAVAIL;
    if (!is_prepared(c, s) && prepare(c, s, err) != PF_OK) {
        if (PQstatus(c->pg) != CONNECTION_OK)
            lost_connection(c, err);
        return err->kind;
    }
    if (!PQsendQueryPrepared(c->pg, s->name, s->nparams, params, NULL, NULL, 0) ||
        !PQsetSingleRowMode(c->pg))
        return PQstatus(c->pg) != CONNECTION_OK
                   ? lost_connection(c, err)
                   : pf_fail(err, PF_EINTERNAL, "db_send", NULL, "cannot send the query: %s",
                             PQerrorMessage(c->pg));
    pf_kind k = PF_OK;
    bool stopped = false;
    PGresult *r;
    /* every result is read, also after the callback stopped or an error:
     * the connection is then ready for the next statement */
    while ((r = PQgetResult(c->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE) {
            if (!stopped && k == PF_OK && row(arg, r) != 0)
                stopped = true;
        } else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && k == PF_OK) {
            k = PQstatus(c->pg) != CONNECTION_OK ? lost_connection(c, err)
                                                 : db_error_from_result(r, err);
        }
        PQclear(r);
    }
    if (k == PF_OK && PQstatus(c->pg) != CONNECTION_OK)
        k = lost_connection(c, err);
    return k;
}

pf_kind db_json_val(const PGresult *r, int col, json_t **out, pf_err *err)
{
    json_error_t je;
    *out = json_loads(db_val(r, 0, col), 0, &je);
    if (*out == NULL)
        return pf_fail(err, PF_EINTERNAL, "bad_json_from_db", NULL,
                       "internal error: the database returned invalid JSON (%s)", je.text);
    return PF_OK;
}

pf_kind db_json_take(PGresult *r, json_t **out, pf_err *err)
{
    pf_kind k = db_json_val(r, 0, out, err);
    PQclear(r);
    return k;
}

PGresult *db_exec_sql(db_conn *c, const char *sql, int nparams, const char *const *params,
                      pf_err *err)
{
    return run(c, NULL, sql, nparams, params, err);
}

PGresult *db_exec_one(db_conn *c, const db_stmt *s, const char *const *params,
                      const char *nf_code, const char *nf_msg, pf_err *err)
{
    PGresult *r = db_exec(c, s, params, err);
    if (r == NULL)
        return NULL;
    if (PQntuples(r) != 1) {
        PQclear(r);
        pf_fail(err, PF_ENOTFOUND, nf_code, NULL, "%s", nf_msg);
        return NULL;
    }
    return r;
}


/* ------------------------------------------------ queued writes (db_defer) */

struct db_deferred {
    const db_stmt *s;
    char **params; /* s->nparams copies, NULL entries stay NULL */
};

static void free_deferred(struct db_deferred *d)
{
    for (int i = 0; d->params && i < d->s->nparams; i++)
        free(d->params[i]);
    free(d->params);
}

void db_defer_discard(db_conn *c)
{
    for (size_t i = 0; i < c->n_deferred; i++)
        free_deferred(&c->deferred[i]);
    c->n_deferred = 0;
}

pf_kind db_defer(db_conn *c, const db_stmt *s, const char *const *params, pf_err *err)
{
    if (!c->in_tx) { /* nothing to ride along with: at once */
        PGresult *r = db_exec(c, s, params, err);
        if (r == NULL)
            return err ? err->kind : PF_EINTERNAL;
        PQclear(r);
        return PF_OK;
    }
    if (PQstatus(c->pg) != CONNECTION_OK)
        return lost_connection(c, err);
    /* prepared now (once per connection): a pipeline cannot wait for it */
    if (!is_prepared(c, s) && prepare(c, s, err) != PF_OK)
        return err ? err->kind : PF_EUNAVAIL;
    if (c->n_deferred == c->cap_deferred) {
        size_t cap = c->cap_deferred ? c->cap_deferred * 2 : 8;
        struct db_deferred *v = realloc(c->deferred, cap * sizeof *v);
        if (v == NULL)
            return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        c->deferred = v;
        c->cap_deferred = cap;
    }
    struct db_deferred d = {.s = s, .params = calloc((size_t)(s->nparams ? s->nparams : 1),
                                                     sizeof(char *))};
    bool ok = d.params != NULL;
    for (int i = 0; ok && i < s->nparams; i++)
        ok = params[i] == NULL || (d.params[i] = strdup(params[i])) != NULL;
    if (!ok) {
        free_deferred(&d);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    c->deferred[c->n_deferred++] = d;
    return PF_OK;
}

/* One statement of a pipeline: prepared s, or sql text with nparams. */
struct pipe_stmt {
    const db_stmt *s;
    const char *sql;
    int nparams;
    const char *const *params;
};

/* Sends the queued writes, then the n statements, then one sync: one
 * round trip. The queue is spent whatever happens (a failure aborts the
 * transaction, which the caller rolls back). */
static pf_kind pipeline(db_conn *c, int n, const struct pipe_stmt *st, PGresult **out,
                        pf_err *err)
{
    int nd = (int)c->n_deferred;
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    bool ok = PQenterPipelineMode(c->pg);
    for (int i = 0; ok && i < nd; i++) {
        const struct db_deferred *d = &c->deferred[i];
        ok = PQsendQueryPrepared(c->pg, d->s->name, d->s->nparams,
                                 (const char *const *)d->params, NULL, NULL, 0);
    }
    for (int i = 0; ok && i < n; i++)
        ok = st[i].s ? PQsendQueryPrepared(c->pg, st[i].s->name, st[i].s->nparams,
                                           st[i].params, NULL, NULL, 0)
                     : PQsendQueryParams(c->pg, st[i].sql, st[i].nparams, NULL, st[i].params,
                                         NULL, NULL, 0);
    ok = ok && PQpipelineSync(c->pg);
    db_defer_discard(c);
    if (!ok) {
        PQexitPipelineMode(c->pg);
        return lost_connection(c, err);
    }
    if (!drain_into(c, nd + n, nd, out, err))
        return err ? err->kind : PF_EUNAVAIL;
    return PF_OK;
}

/* The queued writes alone, in one round trip (before a statement that
 * does not go through the pipeline: db_exec_each). */
static pf_kind flush_deferred(db_conn *c, pf_err *err)
{
    return pipeline(c, 0, NULL, NULL, err);
}

static PGresult *exec_with_deferred(db_conn *c, const db_stmt *s, const char *sql, int nparams,
                                    const char *const *params, pf_err *err)
{
    struct pipe_stmt one = {.s = s, .sql = sql, .nparams = nparams, .params = params};
    PGresult *r;
    return pipeline(c, 1, &one, &r, err) == PF_OK ? r : NULL;
}

#define DB_PIPELINE_MAX 8

pf_kind db_exec_pipelined(db_conn *c, int n, const db_stmt *const *stmts,
                          const char *const *const *params, PGresult **out, pf_err *err)
{
    struct pipe_stmt st[DB_PIPELINE_MAX];
    if (n < 1 || n > DB_PIPELINE_MAX || (c->reading && !c->in_tx))
        return pf_fail(err, PF_EINTERNAL, "bad_pipeline", NULL,
                       "internal error: a pipeline of %d statements outside a transaction or "
                       "too long",
                       n);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return lost_connection(c, err);
    for (int i = 0; i < n; i++) {
        if (!is_prepared(c, stmts[i]) && prepare(c, stmts[i], err) != PF_OK)
            return err ? err->kind : PF_EUNAVAIL;
        st[i] = (struct pipe_stmt){.s = stmts[i], .params = params[i]};
    }
    return pipeline(c, n, st, out, err);
}

/* COMMIT in the pipeline of the queued writes. A failure of one of them
 * skipped the COMMIT and left the transaction aborted: it is rolled back
 * and its error reported, as if the write had failed when it was made. */
static pf_kind commit_with_deferred(db_conn *c, pf_err *err)
{
    unsigned long reconnects = c->reconnects;
    struct pipe_stmt commit = {.sql = "COMMIT"};
    PGresult *r;
    pf_kind k = pipeline(c, 1, &commit, &r, err);
    if (k != PF_OK) {
        if (c->reconnects != reconnects || PQstatus(c->pg) != CONNECTION_OK)
            k = commit_lost(c, err);
        else
            db_rollback(c);
        c->in_tx = false;
        return k;
    }
    if (strcmp(PQcmdStatus(r), "ROLLBACK") == 0)
        k = pf_fail(err, PF_EINTERNAL, "transaction_aborted", NULL,
                    "the transaction failed earlier and was rolled back");
    PQclear(r);
    c->in_tx = false;
    return k;
}


/* BEGIN and the scope go out together in one round trip (libpq pipeline
 * mode): every request pays for its transactions' round trips, so they
 * are kept to three - begin, the work, commit. */
pf_kind db_begin(db_conn *c, const db_scope *scope, pf_err *err)
{
    if (c->in_tx)
        return pf_fail(err, PF_EINTERNAL, "nested_transaction", NULL,
                       "internal error: a transaction is already open on this connection");
    /* nothing is open: a connection broken since its last use (the server
     * restarted) is simply made again */
    if (PQstatus(c->pg) != CONNECTION_OK && !reconnect(c))
        return unavailable(err);
    if (prepare_scope(c, scope, err) != PF_OK)
        return err ? err->kind : PF_EUNAVAIL;
    struct scope_params sp;
    scope_params(scope, &sp);
    if (!PQenterPipelineMode(c->pg) ||
        !PQsendQueryParams(c->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) ||
        !send_scope(c, &sp) || !PQpipelineSync(c->pg)) {
        PQexitPipelineMode(c->pg);
        return lost_connection(c, err);
    }
    bool failed;
    drain_pipeline(c, scope_queries(&sp) + 1, -1, &failed, err);
    note_check(c, &sp, failed, err);
    pf_kind k = failed ? (err ? err->kind : PF_EUNAVAIL) : PF_OK;
    c->in_tx = true;
    c->tx_scope = *scope;
    if (k != PF_OK)
        db_rollback(c);
    return k;
}

/* The connection broke after COMMIT went out: the transaction may have
 * committed (and, on a failover, been replicated to the standby that is
 * primary now) or not, and nothing on this side can tell. It is never run
 * again here (db_run_tx sees commit_sent); the client gets the same 503
 * and Retry-After as for an outage, with a message that says to look
 * before repeating a change. The connection is made again for the next
 * request (the current primary, for a multi-host URL). */
static pf_kind commit_lost(db_conn *c, pf_err *err)
{
    if (PQstatus(c->pg) != CONNECTION_OK) /* else the pipeline made it again already */
        reconnect(c);
    pf_fail(err, PF_EUNAVAIL, "database_unavailable", NULL,
            "the connection to the database broke while the change was being committed: it "
            "may have been saved or not; read it back before you repeat it, in a few seconds");
    if (err)
        err->retry_after = 5;
    return PF_EUNAVAIL;
}

pf_kind db_commit(db_conn *c, pf_err *err)
{
    if (!c->in_tx)
        return pf_fail(err, PF_EINTERNAL, "no_transaction", NULL,
                       "internal error: commit without a transaction");
    if (c->n_audit > 0 && db_audit_flush(c, err) != PF_OK) {
        pf_kind k = err ? err->kind : PF_EINTERNAL;
        db_rollback(c);
        return k;
    }
    c->commit_sent = true; /* from here a lost connection leaves the outcome unknown */
    if (c->n_deferred > 0)
        return commit_with_deferred(c, err);
    PGresult *r = PQexec(c->pg, "COMMIT");
    pf_kind k = PF_OK;
    /* COMMIT of an aborted transaction answers ROLLBACK with status OK;
     * PQcmdStatus tells the two apart. */
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        k = PQstatus(c->pg) != CONNECTION_OK ? commit_lost(c, err)
                                             : db_error_from_result(r, err);
    } else if (strcmp(PQcmdStatus(r), "ROLLBACK") == 0) {
        k = pf_fail(err, PF_EINTERNAL, "transaction_aborted", NULL,
                    "the transaction failed earlier and was rolled back");
    }
    PQclear(r);
    c->in_tx = false;
    return k;
}

void db_rollback(db_conn *c)
{
    if (c == NULL)
        return;
    db_audit_discard(c);
    db_defer_discard(c);
    if (!c->in_tx)
        return;
    PGresult *r = PQexec(c->pg, "ROLLBACK");
    PQclear(r);
    c->in_tx = false;
}

static bool retryable(const pf_err *e)
{
    return strcmp(e->code, "serialization_failure") == 0 ||
           strcmp(e->code, "deadlock") == 0;
}

/* The connection broke before anything was committed and works again: the
 * work can run once more and the client never learns of the restart. */
static bool retry_after_reconnect(const db_conn *c, const pf_err *e)
{
    return e->kind == PF_EUNAVAIL && strcmp(e->code, "database_unavailable") == 0 &&
           !c->commit_sent && PQstatus(c->pg) == CONNECTION_OK;
}

pf_kind db_run_tx(db_conn *c, const db_scope *scope, db_tx_fn fn, void *ctx,
                  pf_err *err)
{
    pf_err local;
    pf_err *e = err ? err : &local;
    bool reconnected = false;
    for (int attempt = 0;; attempt++) {
        pf_err_clear(e);
        c->commit_sent = false;
        pf_kind k = db_begin(c, scope, e);
        if (k == PF_OK)
            k = fn(c, ctx, e);
        if (k == PF_OK)
            k = db_commit(c, e);
        else
            db_rollback(c);
        if (k != PF_OK && !reconnected && retry_after_reconnect(c, e)) {
            reconnected = true;
            continue;
        }
        if (k == PF_OK || !retryable(e) || attempt >= 2)
            return k;
    }
}

pf_kind db_run_read(db_conn *c, const db_scope *scope, db_tx_fn fn, void *ctx, pf_err *err)
{
    pf_err local;
    pf_err *e = err ? err : &local;
    if (c->in_tx || c->reading)
        return pf_fail(e, PF_EINTERNAL, "nested_transaction", NULL,
                       "internal error: a read inside an open transaction");
    c->reading = true;
    c->read_scope = *scope;
    c->commit_sent = false;
    pf_kind k;
    for (int attempt = 0;; attempt++) {
        pf_err_clear(e);
        if (PQstatus(c->pg) != CONNECTION_OK && !reconnect(c)) {
            k = unavailable(e);
            break;
        }
        k = fn(c, ctx, e);
        /* reads are idempotent: once more on a connection made again */
        if (k == PF_OK || attempt > 0 || !retry_after_reconnect(c, e))
            break;
    }
    c->reading = false;
    return k;
}

pf_kind db_listen(db_conn *c, const char *channel, pf_err *err)
{
    char *ident = PQescapeIdentifier(c->pg, channel, strlen(channel));
    if (ident == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    if (strlen(ident) >= sizeof c->listen[0] || c->n_listen == DB_MAX_LISTEN) {
        PQfreemem(ident);
        return pf_fail(err, PF_EINTERNAL, "too_many_channels", NULL,
                       "internal error: channel name too long or too many channels");
    }
    char sql[160];
    snprintf(sql, sizeof sql, "LISTEN %s", ident);
    bool known = false;
    for (size_t i = 0; i < c->n_listen; i++)
        known |= strcmp(c->listen[i], ident) == 0;
    if (!known) /* renewed by reconnect() */
        snprintf(c->listen[c->n_listen++], sizeof c->listen[0], "%s", ident);
    PQfreemem(ident);
    return db_exec_script(c, sql, err);
}

static bool take_notifies(db_conn *c)
{
    bool any = false;
    PGnotify *n;
    while ((n = PQnotifies(c->pg)) != NULL) {
        any = true;
        PQfreemem(n);
    }
    return any;
}

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

bool db_wait_notify(db_conn *c, int timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    for (;;) {
        if (take_notifies(c)) /* arrived while we ran queries, or just now */
            return true;
        long long left = deadline - mono_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        int n = p.fd < 0 ? -1 : poll(&p, 1, (int)left);
        if (n == 0)
            return false;
        if (n > 0 && PQconsumeInput(c->pg) && PQstatus(c->pg) == CONNECTION_OK)
            continue; /* a notification, or the server's last words before EOF */
        /* The connection broke (the server restarted): what was notified
         * meanwhile is lost, so make it again, LISTEN again, and tell the
         * caller to look for work now. Down for good: wait, do not spin. */
        if (reconnect(c))
            return true;
        left = deadline - mono_ms();
        if (left > 0)
            poll(NULL, 0, (int)left);
        return false;
    }
}

unsigned long db_reconnects(const db_conn *c)
{
    return c->reconnects;
}

pf_kind db_exec_script(db_conn *c, const char *sql, pf_err *err)
{
    PGresult *r = PQexec(c->pg, sql);
    pf_kind k = PF_OK;
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        k = PQstatus(c->pg) != CONNECTION_OK ? lost_connection(c, err)
                                             : db_error_from_result(r, err);
    PQclear(r);
    return k;
}

static pf_kind ping_fn(db_conn *c, void *ctx, pf_err *err)
{
    (void)ctx;
    static const db_stmt ping = {"pf_ping", "SELECT 1", 0};
    PGresult *r = db_exec(c, &ping, NULL, err);
    if (r == NULL)
        return err ? err->kind : PF_EUNAVAIL;
    PQclear(r);
    return PF_OK;
}

pf_kind db_ping(db_conn *c, pf_err *err)
{
    /* as a read: a connection broken by a restart is made again first */
    db_scope none = {0};
    return db_run_read(c, &none, ping_fn, NULL, err);
}

const char *db_scope_param(const db_conn *c, char buf[24])
{
    if (!c->in_tx && !c->reading)
        return db_fmt_ll(buf, 0); /* no acting party: nothing tenant-visible */
    const db_scope *s = c->in_tx ? &c->tx_scope : &c->read_scope;
    /* the same rule as pf_is_operator() in the database */
    if (s->operator && (c->role != DB_ROLE_APP || s->has_credential))
        return NULL;
    return db_fmt_ll(buf, s->network_id);
}

const char *db_val(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

long long db_ll(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool db_bool(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

const char *db_fmt_ll(char buf[24], long long v)
{
    snprintf(buf, 24, "%lld", v);
    return buf;
}

const char *db_fmt_id(char buf[24], long long v)
{
    return v ? db_fmt_ll(buf, v) : NULL;
}
