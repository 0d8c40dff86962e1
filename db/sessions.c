/* db_sessions: see sessions.h. */
#include "db/sessions.h"
#include "db/db_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt ins_session = {
    "pf_session_insert",
    "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, client_addr, user_agent)"
    " VALUES (decode($1, 'hex'), $2, $3, now() + make_interval(secs => $4), $5, $6)",
    6};

/* Sessions and API tokens are found by the hash of the secret presented,
 * before anyone is the acting party: through SECURITY DEFINER functions
 * (migrations/0009_tenant_tables.sql), since row-level security shows
 * these tables only to their own user. A read does not write:
 * last_seen_at / last_used_at move at most once a minute, so an ordinary
 * page view or API call commits nothing (no WAL flush per request). */
static const db_stmt find_session = {
    "pf_session_find",
    "SELECT id, email, network_id, role, disabled, csrf_token"
    " FROM pf_session_find(decode($1, 'hex'))",
    1};

static const db_stmt del_session = {
    "pf_session_delete", "SELECT pf_session_end(decode($1, 'hex'))", 1};

static const db_stmt find_token = {
    "pf_api_token_find",
    "SELECT id, email, network_id, role, disabled FROM pf_api_token_find(decode($1, 'hex'))",
    1};

static const db_stmt tokens_of = {
    "pf_api_tokens_of",
    "SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'created_at', created_at,"
    " 'last_used_at', last_used_at, 'revoked_at', revoked_at, 'revoked', revoked_at IS NOT NULL)"
    " ORDER BY id DESC), '[]'::json) FROM api_tokens WHERE user_id = $1",
    1};

static const db_stmt revoke_token = {
    "pf_api_token_revoke",
    "UPDATE api_tokens SET revoked_at = now() WHERE id = $2 AND user_id = $1"
    " AND revoked_at IS NULL RETURNING id",
    2};

static const db_stmt login_attempt = {
    "pf_login_attempt",
    "SELECT allowed, reason, retry_after FROM pf_login_attempt($1, $2, $3, $4, $5, $6)", 6};

static const db_stmt login_ok = {
    "pf_login_succeeded",
    "WITH acct AS (DELETE FROM login_throttle WHERE key = 'account:' || lower($1))"
    " UPDATE login_throttle SET failures = greatest(failures - 1, 0) WHERE key = 'addr:' || $2",
    2};

static const db_stmt login_forget = {
    "pf_login_forget", "DELETE FROM login_throttle WHERE key = 'account:' || lower($1)", 1};

static const db_stmt end_user_sessions = {
    "pf_sessions_end_user",
    "DELETE FROM sessions WHERE user_id = $1"
    " AND ($2::text IS NULL OR id_hash <> decode($2, 'hex'))",
    2};

static const db_stmt prune = {
    "pf_sessions_prune",
    "WITH s AS (DELETE FROM sessions WHERE expires_at < now() RETURNING 1),"
    " t AS (DELETE FROM login_throttle"
    "       WHERE coalesce(blocked_until, since) < now() - interval '1 day' RETURNING 1)"
    " SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM t)",
    0};

static void hex32(const unsigned char h[32], char out[65])
{
    sodium_bin2hex(out, 65, h, 32);
}

static void user_from_row(const PGresult *r, db_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = db_ll(r, 0, 0);
    snprintf(u->email, sizeof u->email, "%s", db_val(r, 0, 1));
    u->network_id = db_ll(r, 0, 2);
    snprintf(u->role, sizeof u->role, "%s", db_val(r, 0, 3));
    u->disabled = db_bool(r, 0, 4);
}

pf_kind db_session_insert(db_conn *c, const unsigned char id_hash[32], long long user_id,
                          const char *csrf, int ttl_seconds, const char *addr, const char *ua,
                          pf_err *err)
{
    char h[65], ub[24], tb[24];
    hex32(id_hash, h);
    const char *p[6] = {h, db_fmt_ll(ub, user_id), csrf, db_fmt_ll(tb, ttl_seconds), addr, ua};
    PGresult *r = db_exec(c, &ins_session, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_session_lookup(db_conn *c, const unsigned char id_hash[32], db_user *user,
                          char csrf[80], pf_err *err)
{
    char h[65];
    hex32(id_hash, h);
    const char *p[1] = {h};
    PGresult *r = db_exec(c, &find_session, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return pf_fail(err, PF_EAUTH, "session_expired", NULL,
                       "your session has expired or you logged out: log in again");
    }
    user_from_row(r, user);
    snprintf(csrf, 80, "%s", db_val(r, 0, 5));
    PQclear(r);
    return PF_OK;
}

pf_kind db_session_delete(db_conn *c, const unsigned char id_hash[32], pf_err *err)
{
    char h[65];
    hex32(id_hash, h);
    const char *p[1] = {h};
    PGresult *r = db_exec(c, &del_session, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_api_token_user(db_conn *c, const unsigned char hash[32], db_user *user, pf_err *err)
{
    char h[65];
    hex32(hash, h);
    const char *p[1] = {h};
    PGresult *r = db_exec(c, &find_token, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return pf_fail(err, PF_EAUTH, "bad_token", NULL,
                       "the API token is unknown or revoked: create one on your account page");
    }
    user_from_row(r, user);
    PQclear(r);
    return PF_OK;
}

pf_kind db_api_tokens_of(db_conn *c, long long user_id, json_t **out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, user_id)};
    PGresult *r = db_exec(c, &tokens_of, p, err);
    if (r == NULL)
        return err->kind;
    return db_json_take(r, out, err);
}

pf_kind db_api_token_revoke(db_conn *c, long long user_id, long long id, pf_err *err)
{
    char b1[24], b2[24];
    const char *p[2] = {db_fmt_ll(b1, user_id), db_fmt_ll(b2, id)};
    PGresult *r = db_exec_one(c, &revoke_token, p, "unknown_token",
                              "no such active API token of yours", err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_login_attempt(db_conn *c, const char *email, const char *addr,
                         const db_throttle_rules *rules, bool *allowed, bool *by_account,
                         int *retry_after, pf_err *err)
{
    char w[24], am[24], af[24], cap[24];
    const char *p[6] = {email, addr, db_fmt_ll(w, rules->window_seconds),
                        db_fmt_ll(am, rules->addr_max), db_fmt_ll(af, rules->account_free),
                        db_fmt_ll(cap, rules->cap_seconds)};
    PGresult *r = db_exec(c, &login_attempt, p, err);
    if (r == NULL)
        return err->kind;
    *allowed = db_bool(r, 0, 0);
    *by_account = db_val(r, 0, 1) != NULL && strcmp(db_val(r, 0, 1), "account") == 0;
    *retry_after = (int)db_ll(r, 0, 2);
    PQclear(r);
    return PF_OK;
}

static pf_kind exec_simple(db_conn *c, const db_stmt *s, const char *const *p, pf_err *err)
{
    PGresult *r = db_exec(c, s, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_login_succeeded(db_conn *c, const char *email, const char *addr, pf_err *err)
{
    const char *p[2] = {email, addr};
    return exec_simple(c, &login_ok, p, err);
}

pf_kind db_login_forget(db_conn *c, const char *email, pf_err *err)
{
    const char *p[1] = {email};
    return exec_simple(c, &login_forget, p, err);
}

pf_kind db_sessions_end_user(db_conn *c, long long user_id, const unsigned char keep[32],
                             int *n, pf_err *err)
{
    char ub[24], h[65];
    if (keep)
        hex32(keep, h);
    const char *p[2] = {db_fmt_ll(ub, user_id), keep ? h : NULL};
    PGresult *r = db_exec(c, &end_user_sessions, p, err);
    if (r == NULL)
        return err->kind;
    if (n)
        *n = atoi(PQcmdTuples(r));
    PQclear(r);
    return PF_OK;
}

pf_kind db_sessions_prune(db_conn *c, int *sessions, int *throttles, pf_err *err)
{
    PGresult *r = db_exec(c, &prune, NULL, err);
    if (r == NULL)
        return err->kind;
    *sessions = (int)db_ll(r, 0, 0);
    *throttles = (int)db_ll(r, 0, 1);
    PQclear(r);
    return PF_OK;
}
