/* db_tokens: see tokens.h. */
#include "db/tokens.h"
#include "db/db_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const db_stmt ins_token = {
    "pf_token_insert",
    "INSERT INTO approval_tokens (id, request_id, network_id, contact, actions, expires_at,"
    " change_id)"
    " VALUES (decode($1, 'hex'), $2, $3, $4, $5::text[],"
    "  CASE WHEN $7::bigint IS NULL"
    "   THEN least(date_trunc('second', now() + make_interval(secs => $6)),"
    "              (SELECT date_trunc('second', r.expires_at) FROM peering_requests r"
    "                WHERE r.id = $2))"
    /* a change of a live circuit: the request's own expiry is long past */
    "   ELSE date_trunc('second', now() + make_interval(secs => $6)) END, $7)",
    7};

static const db_stmt get_token = {
    "pf_token_get",
    "SELECT request_id, network_id, contact, 'approve' = ANY (actions),"
    " 'reject' = ANY (actions), key_id, encode(token_hash, 'hex'),"
    " extract(epoch FROM expires_at)::bigint, used_at IS NOT NULL, coalesce(change_id, 0)"
    " FROM approval_tokens WHERE id = decode($1, 'hex')"
    "   AND ($2::bigint IS NULL OR network_id = $2)",
    2};

static const db_stmt get_token_lock = {
    "pf_token_get_lock",
    "SELECT request_id, network_id, contact, 'approve' = ANY (actions),"
    " 'reject' = ANY (actions), key_id, encode(token_hash, 'hex'),"
    " extract(epoch FROM expires_at)::bigint, used_at IS NOT NULL, coalesce(change_id, 0)"
    " FROM approval_tokens WHERE id = decode($1, 'hex')"
    "   AND ($2::bigint IS NULL OR network_id = $2) FOR UPDATE",
    2};

static const db_stmt bind_token = {
    "pf_token_bind",
    "UPDATE approval_tokens SET key_id = $2, token_hash = decode($3, 'hex')"
    " WHERE id = decode($1, 'hex')",
    3};

static const db_stmt use_token = {
    "pf_token_use",
    "UPDATE approval_tokens SET used_at = now()"
    " WHERE id = decode($1, 'hex') AND used_at IS NULL RETURNING 1",
    1};

pf_kind db_token_insert(db_conn *c, const db_token *t, int ttl_seconds, pf_err *err)
{
    char id[33], b[4][24], actions[32];
    sodium_bin2hex(id, sizeof id, t->id, 16);
    snprintf(actions, sizeof actions, "{%s%s%s}", (t->actions & 1) ? "approve" : "",
             (t->actions & 3) == 3 ? "," : "", (t->actions & 2) ? "reject" : "");
    const char *p[7] = {id, db_fmt_ll(b[0], t->request_id), db_fmt_ll(b[1], t->network_id),
                        t->contact, actions, db_fmt_ll(b[2], ttl_seconds),
                        db_fmt_id(b[3], t->change_id)};
    PGresult *r = db_exec(c, &ins_token, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_token_get(db_conn *c, const unsigned char id[16], bool lock, db_token *out,
                     pf_err *err)
{
    char hex[33], nb[24];
    sodium_bin2hex(hex, sizeof hex, id, 16);
    const char *p[2] = {hex, db_scope_param(c, nb)};
    PGresult *r = db_exec_one(c, lock ? &get_token_lock : &get_token, p, "token_unknown",
                              "this approval link is not known here: ask for a new one", err);
    if (r == NULL) {
        if (err->kind == PF_ENOTFOUND)
            snprintf(err->field, sizeof err->field, "token");
        return err->kind;
    }
    memset(out, 0, sizeof *out);
    memcpy(out->id, id, 16);
    out->request_id = db_ll(r, 0, 0);
    out->network_id = db_ll(r, 0, 1);
    snprintf(out->contact, sizeof out->contact, "%s", db_val(r, 0, 2));
    out->actions = (db_bool(r, 0, 3) ? 1u : 0u) | (db_bool(r, 0, 4) ? 2u : 0u);
    const char *key = db_val(r, 0, 5), *hash = db_val(r, 0, 6);
    size_t n = 0;
    if (key && hash && strlen(hash) == 64 &&
        sodium_hex2bin(out->hash, 32, hash, 64, NULL, &n, NULL) == 0 && n == 32) {
        out->bound = true;
        snprintf(out->key_id, sizeof out->key_id, "%s", key);
    }
    out->expires = db_ll(r, 0, 7);
    out->used = db_bool(r, 0, 8);
    out->change_id = db_ll(r, 0, 9);
    PQclear(r);
    return PF_OK;
}

pf_kind db_token_bind(db_conn *c, const unsigned char id[16], const char *key_id,
                      const unsigned char hash[32], pf_err *err)
{
    char idhex[33], hashhex[65];
    sodium_bin2hex(idhex, sizeof idhex, id, 16);
    sodium_bin2hex(hashhex, sizeof hashhex, hash, 32);
    const char *p[3] = {idhex, key_id, hashhex};
    PGresult *r = db_exec(c, &bind_token, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_token_mark_used(db_conn *c, const unsigned char id[16], pf_err *err)
{
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, id, 16);
    const char *p[1] = {hex};
    PGresult *r = db_exec(c, &use_token, p, err);
    if (r == NULL)
        return err->kind;
    int n = PQntuples(r);
    PQclear(r);
    if (n != 1)
        return pf_fail(err, PF_ECONFLICT, "token_used", "token",
                       "this approval link has already been used: each link works once");
    return PF_OK;
}
