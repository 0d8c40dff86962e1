/* db_sessions: see sessions.h. */
#include "db/sessions.h"
#include "db/db_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const db_stmt ins_session = {
    "pf_session_insert",
    "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, client_addr, user_agent)"
    " VALUES (decode($1, 'hex'), $2, $3, now() + make_interval(secs => $4), $5, $6)",
    6};

#define USER_COLS "u.id, u.email, u.network_id, u.role, u.disabled"

/* A read does not write: last_seen_at / last_used_at move at most once a
 * minute, so an ordinary page view or API call commits nothing (no WAL
 * flush per request). */
static const db_stmt find_session = {
    "pf_session_find",
    "WITH found AS (SELECT " USER_COLS ", s.csrf_token FROM sessions s JOIN users u"
    "   ON u.id = s.user_id WHERE s.id_hash = decode($1, 'hex') AND s.expires_at > now()"
    "   AND NOT u.disabled),"
    " touch AS (UPDATE sessions SET last_seen_at = now() WHERE id_hash = decode($1, 'hex')"
    "   AND last_seen_at < now() - interval '1 minute' AND EXISTS (SELECT 1 FROM found))"
    " SELECT * FROM found",
    1};

static const db_stmt del_session = {
    "pf_session_delete", "DELETE FROM sessions WHERE id_hash = decode($1, 'hex')", 1};

static const db_stmt find_token = {
    "pf_api_token_find",
    "WITH found AS (SELECT " USER_COLS ", t.id AS token_id FROM api_tokens t JOIN users u"
    "   ON u.id = t.user_id WHERE t.token_hash = decode($1, 'hex') AND t.revoked_at IS NULL"
    "   AND NOT u.disabled),"
    " touch AS (UPDATE api_tokens SET last_used_at = now() WHERE id = (SELECT token_id FROM found)"
    "   AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))"
    " SELECT * FROM found",
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

static const db_stmt count_failures = {
    "pf_login_failures",
    "SELECT (SELECT count(*) FROM login_failures WHERE lower(email) = lower($1)"
    "          AND at > now() - make_interval(secs => $3)),"
    "       (SELECT count(*) FROM login_failures WHERE client_addr = $2"
    "          AND at > now() - make_interval(secs => $3))",
    3};

static const db_stmt add_failure = {
    "pf_login_failure_add",
    "WITH prune AS (DELETE FROM login_failures WHERE at < now() - interval '1 day')"
    " INSERT INTO login_failures (email, client_addr) VALUES ($1, $2)",
    2};

static const db_stmt clear_failures = {
    "pf_login_failures_clear", "DELETE FROM login_failures WHERE lower(email) = lower($1)", 1};

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
    *out = json_loads(db_val(r, 0, 0), 0, NULL);
    PQclear(r);
    return *out ? PF_OK : pf_fail(err, PF_EINTERNAL, "bad_json_from_db", NULL, "bad JSON");
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

pf_kind db_login_failures(db_conn *c, const char *email, const char *addr, int window_seconds,
                          int *by_email, int *by_addr, pf_err *err)
{
    char w[24];
    const char *p[3] = {email, addr, db_fmt_ll(w, window_seconds)};
    PGresult *r = db_exec(c, &count_failures, p, err);
    if (r == NULL)
        return err->kind;
    *by_email = (int)db_ll(r, 0, 0);
    *by_addr = (int)db_ll(r, 0, 1);
    PQclear(r);
    return PF_OK;
}

pf_kind db_login_failure_add(db_conn *c, const char *email, const char *addr, pf_err *err)
{
    const char *p[2] = {email, addr};
    PGresult *r = db_exec(c, &add_failure, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_login_failures_clear(db_conn *c, const char *email, pf_err *err)
{
    const char *p[1] = {email};
    PGresult *r = db_exec(c, &clear_failures, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}
