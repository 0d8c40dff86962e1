/* db_audit: see audit.h. */
#include "db/audit.h"
#include "db/db_internal.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Takes the head's lock and $1 numbers at once: the seq before them and
 * the hash the first of them follows. */
static const db_stmt bump_head = {
    "pf_audit_bump_head_n",
    "UPDATE audit_head SET seq = seq + $1::bigint RETURNING seq - $1::bigint, hash", 1};

static const db_stmt insert_event = {
    "pf_audit_insert",
    "WITH e AS ("
    " INSERT INTO audit_events (seq, at, actor_kind, actor_user_id, actor_label,"
    "  network_id, action, object_type, object_id, request_id, before, after,"
    "  prev_hash, hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
    "  decode($13, 'hex'), decode($14, 'hex')))"
    " UPDATE audit_head SET hash = decode($14, 'hex')",
    14};

static const db_stmt read_head = {
    "pf_audit_head", "SELECT seq, encode(hash, 'hex') FROM audit_head", 0};

/* The timestamp format both sides of the hash agree on: UTC, microseconds. */
#define AT_SQL "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static const char *const scan_sql =
    "SELECT seq, " AT_SQL ", actor_kind, actor_user_id, actor_label, network_id,"
    " action, object_type, object_id, request_id, before, after,"
    " encode(prev_hash, 'hex'), encode(hash, 'hex')"
    " FROM audit_events WHERE seq <= $1 ORDER BY seq";

static void feed(crypto_generichash_state *st, const char *s)
{
    if (s == NULL) {
        crypto_generichash_update(st, (const unsigned char *)"-", 1);
        return;
    }
    char len[24];
    int n = snprintf(len, sizeof len, "%zu:", strlen(s));
    crypto_generichash_update(st, (const unsigned char *)len, (size_t)n);
    crypto_generichash_update(st, (const unsigned char *)s, strlen(s));
}

void db_audit_hash(const unsigned char prev[DB_AUDIT_HASH_BYTES],
                   const char *const fields[DB_AUDIT_NFIELDS],
                   unsigned char out[DB_AUDIT_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, DB_AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, prev, DB_AUDIT_HASH_BYTES);
    for (int i = 0; i < DB_AUDIT_NFIELDS; i++)
        feed(&st, fields[i]);
    crypto_generichash_final(&st, out, DB_AUDIT_HASH_BYTES);
}

static void now_utc(char buf[40])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 40 - n, ".%06dZ", (int)(ts.tv_nsec / 1000));
}

static bool hex_to_hash(const char *hex, unsigned char out[DB_AUDIT_HASH_BYTES])
{
    size_t got = 0;
    return hex != NULL &&
           sodium_hex2bin(out, DB_AUDIT_HASH_BYTES, hex, strlen(hex), NULL, &got, NULL) == 0 &&
           got == DB_AUDIT_HASH_BYTES;
}

static pf_kind queue_insert(db_conn *c, long long seq, const db_audit_event *ev,
                            unsigned char prev[DB_AUDIT_HASH_BYTES], pf_err *err);

/* A queued event: its fields copied (NULL stays NULL). */
struct db_audit_queued {
    char *actor_kind, *actor_label, *action, *object_type, *object_id, *before, *after;
    long long actor_user_id, network_id, request_id;
};

static char *dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_queued(struct db_audit_queued *q)
{
    free(q->actor_kind), free(q->actor_label), free(q->action), free(q->object_type);
    free(q->object_id), free(q->before), free(q->after);
}

pf_kind db_audit_append(db_conn *c, const db_audit_event *ev, pf_err *err)
{
    if (!c->in_tx)
        return pf_fail(err, PF_EINTERNAL, "audit_outside_transaction", NULL,
                       "internal error: an audit event outside a transaction");
    if (c->n_audit == c->cap_audit) {
        size_t cap = c->cap_audit ? c->cap_audit * 2 : 8;
        struct db_audit_queued *v = realloc(c->audit, cap * sizeof *v);
        if (v == NULL)
            return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        c->audit = v;
        c->cap_audit = cap;
    }
    struct db_audit_queued *q = &c->audit[c->n_audit];
    *q = (struct db_audit_queued){
        .actor_kind = dup(ev->actor_kind), .actor_label = dup(ev->actor_label ? ev->actor_label : ""),
        .action = dup(ev->action), .object_type = dup(ev->object_type),
        .object_id = dup(ev->object_id ? ev->object_id : ""), .before = dup(ev->before),
        .after = dup(ev->after), .actor_user_id = ev->actor_user_id,
        .network_id = ev->network_id, .request_id = ev->request_id};
    if (!q->actor_kind || !q->actor_label || !q->action || !q->object_type || !q->object_id ||
        (ev->before && !q->before) || (ev->after && !q->after)) {
        free_queued(q);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    c->n_audit++;
    return PF_OK;
}

void db_audit_discard(db_conn *c)
{
    for (size_t i = 0; i < c->n_audit; i++)
        free_queued(&c->audit[i]);
    c->n_audit = 0;
}

/* Two round trips for any number of events: the head's lock and numbers
 * (carrying the transaction's queued writes), then the rows, which go out
 * queued in the pipeline of COMMIT. The hashes are chained here, in
 * order, from the head's hash; the head is locked from the first round
 * trip to the commit, so the chain stays linear. */
pf_kind db_audit_flush(db_conn *c, pf_err *err)
{
    char nb[24];
    const char *np[1] = {db_fmt_ll(nb, (long long)c->n_audit)};
    PGresult *r = db_exec(c, &bump_head, np, err);
    if (r == NULL) {
        db_audit_discard(c);
        return err->kind;
    }
    long long seq = db_ll(r, 0, 0);
    /* bytea comes back as "\x<hex>" in the text protocol */
    unsigned char prev[DB_AUDIT_HASH_BYTES];
    bool ok = hex_to_hash(PQgetvalue(r, 0, 1) + 2, prev);
    PQclear(r);
    if (!ok) {
        db_audit_discard(c);
        return pf_fail(err, PF_EINTERNAL, "audit_head_corrupt", NULL,
                       "the audit head hash is unreadable: run peerflow audit verify");
    }
    pf_kind k = PF_OK;
    for (size_t i = 0; i < c->n_audit && k == PF_OK; i++) {
        const struct db_audit_queued *q = &c->audit[i];
        db_audit_event ev = {.actor_kind = q->actor_kind, .actor_user_id = q->actor_user_id,
                             .actor_label = q->actor_label, .network_id = q->network_id,
                             .action = q->action, .object_type = q->object_type,
                             .object_id = q->object_id, .request_id = q->request_id,
                             .before = q->before, .after = q->after};
        k = queue_insert(c, seq + 1 + (long long)i, &ev, prev, err);
    }
    db_audit_discard(c);
    return k;
}

/* Chains event number seq after prev (which becomes its hash) and queues
 * its insert. */
static pf_kind queue_insert(db_conn *c, long long seq, const db_audit_event *ev,
                            unsigned char prev[DB_AUDIT_HASH_BYTES], pf_err *err)
{
    char seqs[24], at[40], uid[24], nid[24], rid[24];
    db_fmt_ll(seqs, seq);
    now_utc(at);
    const char *f[DB_AUDIT_NFIELDS] = {
        seqs,
        at,
        ev->actor_kind,
        db_fmt_id(uid, ev->actor_user_id),
        ev->actor_label ? ev->actor_label : "",
        db_fmt_id(nid, ev->network_id),
        ev->action,
        ev->object_type,
        ev->object_id ? ev->object_id : "",
        db_fmt_id(rid, ev->request_id),
        ev->before,
        ev->after,
    };
    unsigned char h[DB_AUDIT_HASH_BYTES];
    db_audit_hash(prev, f, h);
    char prev_hex[65], h_hex[65];
    sodium_bin2hex(prev_hex, sizeof prev_hex, prev, DB_AUDIT_HASH_BYTES);
    sodium_bin2hex(h_hex, sizeof h_hex, h, sizeof h);
    memcpy(prev, h, DB_AUDIT_HASH_BYTES);
    const char *p[14];
    memcpy(p, f, sizeof f);
    p[12] = prev_hex;
    p[13] = h_hex;
    return db_defer(c, &insert_event, p, err);
}

static void verdict_bad(db_audit_verdict *v, long long seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void verdict_bad(db_audit_verdict *v, long long seq, const char *fmt, ...)
{
    v->ok = false;
    v->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->problem, sizeof v->problem, fmt, ap);
    va_end(ap);
}

/* Checks one scanned row against the chain so far. */
static bool check_row(db_audit_verdict *v, PGresult *r, long long expect_seq,
                      unsigned char prev[DB_AUDIT_HASH_BYTES])
{
    long long seq = db_ll(r, 0, 0);
    if (seq != expect_seq) {
        verdict_bad(v, expect_seq,
                    "row %lld is missing (the next row is %lld): rows were deleted", expect_seq,
                    seq);
        return false;
    }
    unsigned char stored_prev[DB_AUDIT_HASH_BYTES], stored[DB_AUDIT_HASH_BYTES];
    if (!hex_to_hash(db_val(r, 0, 12), stored_prev) || !hex_to_hash(db_val(r, 0, 13), stored)) {
        verdict_bad(v, seq, "row %lld has an unreadable hash", seq);
        return false;
    }
    if (sodium_memcmp(stored_prev, prev, DB_AUDIT_HASH_BYTES) != 0) {
        verdict_bad(v, seq,
                    "row %lld does not follow row %lld: it was inserted or moved out of order",
                    seq, seq - 1);
        return false;
    }
    const char *f[DB_AUDIT_NFIELDS];
    for (int i = 0; i < DB_AUDIT_NFIELDS; i++)
        f[i] = db_val(r, 0, i);
    unsigned char h[DB_AUDIT_HASH_BYTES];
    db_audit_hash(prev, f, h);
    if (sodium_memcmp(h, stored, DB_AUDIT_HASH_BYTES) != 0) {
        verdict_bad(v, seq, "row %lld was changed after it was written", seq);
        return false;
    }
    memcpy(prev, stored, DB_AUDIT_HASH_BYTES);
    return true;
}

pf_kind db_audit_verify(db_conn *c, db_audit_verdict *v, pf_err *err)
{
    memset(v, 0, sizeof *v);
    v->ok = true;
    db_scope sys = db_scope_system();
    if (db_begin(c, &sys, err) != PF_OK)
        return err->kind;
    PGresult *r = db_exec(c, &read_head, NULL, err);
    if (r == NULL) {
        db_rollback(c);
        return err->kind;
    }
    long long head_seq = db_ll(r, 0, 0);
    char head_seq_s[24];
    snprintf(head_seq_s, sizeof head_seq_s, "%lld", head_seq);
    unsigned char head_hash[DB_AUDIT_HASH_BYTES];
    bool head_ok = hex_to_hash(db_val(r, 0, 1), head_hash);
    snprintf(v->head_hash, sizeof v->head_hash, "%s", db_val(r, 0, 1));
    PQclear(r);

    /* Stream the rows: the log can be millions long. */
    const char *p[1] = {head_seq_s};
    if (!PQsendQueryParams(c->pg, scan_sql, 1, NULL, p, NULL, NULL, 0) ||
        !PQsetSingleRowMode(c->pg)) {
        pf_fail(err, PF_EUNAVAIL, "database_unavailable", NULL, "cannot read the audit log: %s",
                PQerrorMessage(c->pg));
        db_rollback(c);
        return err->kind;
    }
    unsigned char prev[DB_AUDIT_HASH_BYTES] = {0};
    long long expect = 1;
    pf_kind k = PF_OK;
    while ((r = PQgetResult(c->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && v->ok) {
            if (check_row(v, r, expect, prev))
                expect++;
            v->rows++;
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && k == PF_OK) {
            k = db_error_from_result(r, err);
        }
        PQclear(r);
    }
    if (k == PF_OK && v->ok) {
        if (expect - 1 != head_seq)
            verdict_bad(v, expect,
                        "rows %lld to %lld are missing: the log was cut at its end", expect,
                        head_seq);
        else if (!head_ok || sodium_memcmp(head_hash, prev, DB_AUDIT_HASH_BYTES) != 0)
            verdict_bad(v, head_seq, "the audit head does not match row %lld", head_seq);
    }
    db_rollback(c); /* read only */
    return k;
}
