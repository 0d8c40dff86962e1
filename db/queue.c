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

pf_kind db_outbox_insert(db_conn *c, const db_outbox_msg *m, pf_err *err)
{
    char b[2][24], tok[33];
    if (m->token_id)
        sodium_bin2hex(tok, sizeof tok, m->token_id, 16);
    const char *p[8] = {m->kind, db_fmt_id(b[0], m->request_id), db_fmt_id(b[1], m->network_id),
                        m->recipients, m->subject, m->body, m->token_id ? tok : NULL,
                        m->message_id};
    PGresult *r = db_exec(c, &ins_outbox, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_job_enqueue(db_conn *c, const char *kind, long long request_id, pf_err *err)
{
    char b[24];
    const char *p[2] = {kind, db_fmt_ll(b, request_id)};
    PGresult *r = db_exec(c, &ins_job, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}
