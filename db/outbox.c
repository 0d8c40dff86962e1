/* db_outbox: see outbox.h. */
#include "db/outbox.h"
#include "db/db_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt claim = {
    "pf_outbox_claim",
    "WITH due AS ("
    "  SELECT id FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL"
    "  AND next_attempt_at <= now()"
    "  ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " UPDATE outbox o SET attempts = o.attempts + 1,"
    "  next_attempt_at = now() + make_interval(secs => $2)"
    " FROM due WHERE o.id = due.id"
    " RETURNING o.id, o.request_id, o.network_id, o.kind, o.message_id,"
    "  array_to_json(o.recipients), o.subject, o.body, encode(o.token_id, 'hex'),"
    "  extract(epoch FROM o.created_at)::bigint, o.attempts",
    2};

static const db_stmt delivered = {
    "pf_outbox_delivered",
    "UPDATE outbox SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL"
    " AND dead_at IS NULL",
    1};

static const db_stmt failed = {
    "pf_outbox_failed",
    "UPDATE outbox SET last_error = $3, next_attempt_at = now() + make_interval(secs => $2)"
    " WHERE id = $1 AND delivered_at IS NULL AND dead_at IS NULL",
    3};

static const db_stmt dead = {
    "pf_outbox_dead",
    "UPDATE outbox SET last_error = $2, dead_at = now()"
    " WHERE id = $1 AND delivered_at IS NULL AND dead_at IS NULL",
    2};

/* error (an error message, not content) cut to fit msg, between UTF-8
 * characters so that the database accepts it */
static void error_text(char msg[1001], const char *error)
{
    if (error == NULL || *error == '\0')
        error = "unknown error";
    size_t n = strlen(error);
    if (n > 1000) {
        n = 1000;
        while (n > 0 && ((unsigned char)error[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(msg, error, n);
    msg[n] = '\0';
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static int by_id(const void *a, const void *b)
{
    long long x = ((const db_outbox_item *)a)->id, y = ((const db_outbox_item *)b)->id;
    return (x > y) - (x < y);
}

pf_kind db_outbox_claim(db_conn *c, int max, int lease_seconds, db_outbox_item **items,
                        int *n, pf_err *err)
{
    *items = NULL;
    *n = 0;
    char b[2][24];
    const char *p[2] = {db_fmt_ll(b[0], max), db_fmt_ll(b[1], lease_seconds)};
    PGresult *r = db_exec(c, &claim, p, err);
    if (r == NULL)
        return err->kind;
    int rows = PQntuples(r);
    db_outbox_item *it = rows ? calloc((size_t)rows, sizeof *it) : NULL;
    if (rows && it == NULL) {
        PQclear(r);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
        db_outbox_item *m = &it[i];
        m->id = db_ll(r, i, 0);
        m->request_id = db_ll(r, i, 1);
        m->network_id = db_ll(r, i, 2);
        m->kind = dup_or_empty(db_val(r, i, 3));
        m->message_id = dup_or_empty(db_val(r, i, 4));
        m->recipients = dup_or_empty(db_val(r, i, 5));
        m->subject = dup_or_empty(db_val(r, i, 6));
        m->body = dup_or_empty(db_val(r, i, 7));
        const char *tok = db_val(r, i, 8);
        size_t tn = 0;
        m->has_token = tok && strlen(tok) == 32 &&
                       sodium_hex2bin(m->token_id, 16, tok, 32, NULL, &tn, NULL) == 0 && tn == 16;
        m->created = db_ll(r, i, 9);
        m->attempts = (int)db_ll(r, i, 10);
        if (!m->kind || !m->message_id || !m->recipients || !m->subject || !m->body) {
            PQclear(r);
            db_outbox_items_free(it, rows);
            return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        }
    }
    PQclear(r);
    /* UPDATE ... RETURNING gives no order: deliver in outbox order */
    if (rows > 1)
        qsort(it, (size_t)rows, sizeof *it, by_id);
    *items = it;
    *n = rows;
    return PF_OK;
}

void db_outbox_items_free(db_outbox_item *items, int n)
{
    for (int i = 0; items && i < n; i++) {
        free(items[i].kind);
        free(items[i].message_id);
        free(items[i].recipients);
        free(items[i].subject);
        free(items[i].body);
    }
    free(items);
}

pf_kind db_outbox_mark_delivered(db_conn *c, long long id, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, id)};
    PGresult *r = db_exec(c, &delivered, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_outbox_mark_failed(db_conn *c, long long id, int retry_seconds, const char *error,
                              pf_err *err)
{
    char b[2][24], msg[1001];
    error_text(msg, error);
    const char *p[3] = {db_fmt_ll(b[0], id), db_fmt_ll(b[1], retry_seconds), msg};
    PGresult *r = db_exec(c, &failed, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_outbox_mark_dead(db_conn *c, long long id, const char *error, pf_err *err)
{
    char b[24], msg[1001];
    error_text(msg, error);
    const char *p[2] = {db_fmt_ll(b, id), msg};
    PGresult *r = db_exec(c, &dead, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}
