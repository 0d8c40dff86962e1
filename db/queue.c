/* db_queue: see queue.h. */
#include "db/queue.h"
#include "db/db_internal.h"

#include <sodium.h>

static const db_stmt ins_outbox = {
    "pf_outbox_insert",
    "INSERT INTO outbox (kind, request_id, network_id, recipients, subject, body, token_id,"
    " message_id)"
    " VALUES ($1, $2, $3, ARRAY(SELECT json_array_elements_text($4::json)), $5, $6,"
    " decode($7, 'hex'), $8)",
    8};

/* The NOTIFY goes out when the transaction commits, waking an idle
 * provisioner worker (db_wait_notify) instead of letting it poll. */
static const db_stmt ins_job = {
    "pf_job_enqueue",
    "WITH ins AS (INSERT INTO jobs (kind, request_id) VALUES ($1, $2)"
    " ON CONFLICT (request_id, kind) WHERE state IN ('queued', 'running') DO NOTHING"
    " RETURNING id)"
    " SELECT pg_notify('" DB_JOBS_CHANNEL "', '') FROM ins",
    2};

/* The open job, if any, is queued to run now as a new attempt (its
 * holder, if running, finds at its next lease renewal or report that it
 * lost it); only when there is none is a job inserted. created_at is reset
 * because the provisioner's give-up deadline counts from it. */
static const db_stmt requeue_job = {
    "pf_job_requeue",
    "WITH up AS (UPDATE jobs SET state = 'queued', run_after = now(), locked_by = NULL,"
    "   locked_at = NULL, attempts = 0, created_at = now()"
    "   WHERE request_id = $2 AND kind = $1 AND state IN ('queued', 'running') RETURNING id),"
    " ins AS (INSERT INTO jobs (kind, request_id) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM up)"
    "   ON CONFLICT (request_id, kind) WHERE state IN ('queued', 'running') DO NOTHING"
    "   RETURNING id)"
    " SELECT pg_notify('" DB_JOBS_CHANNEL "', '') FROM (SELECT id FROM up UNION ALL"
    "   SELECT id FROM ins) j",
    2};

pf_kind db_outbox_insert(db_conn *c, const db_outbox_msg *m, pf_err *err)
{
    char b[2][24], tok[33];
    if (m->token_id)
        sodium_bin2hex(tok, sizeof tok, m->token_id, 16);
    const char *p[8] = {m->kind, db_fmt_id(b[0], m->request_id), db_fmt_id(b[1], m->network_id),
                        m->recipients, m->subject, m->body, m->token_id ? tok : NULL,
                        m->message_id};
    /* nothing reads the row back: it rides with the next statement or COMMIT */
    return db_defer(c, &ins_outbox, p, err);
}

pf_kind db_job_enqueue(db_conn *c, const char *kind, long long request_id, pf_err *err)
{
    char b[24];
    const char *p[2] = {kind, db_fmt_ll(b, request_id)};
    return db_defer(c, &ins_job, p, err);
}

pf_kind db_job_requeue(db_conn *c, const char *kind, long long request_id, pf_err *err)
{
    char b[24];
    const char *p[2] = {kind, db_fmt_ll(b, request_id)};
    PGresult *r = db_exec(c, &requeue_job, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}
