/* db_sessions: web sessions, API token lookup and login throttling.
 * Secrets arrive here already hashed (32-byte BLAKE2b); this file never
 * sees a usable session id or token. Inside the caller's transaction. */
#ifndef DB_SESSIONS_H
#define DB_SESSIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "db/db.h"
#include "db/directory.h"

pf_kind db_session_insert(db_conn *c, const unsigned char id_hash[32], long long user_id,
                          const char *csrf, int ttl_seconds, const char *addr, const char *ua,
                          pf_err *err);

/* The live session's user and CSRF token; slides last_seen_at.
 * PF_EAUTH "session_expired" when unknown or expired. */
pf_kind db_session_lookup(db_conn *c, const unsigned char id_hash[32], db_user *user,
                          char csrf[80], pf_err *err);
pf_kind db_session_delete(db_conn *c, const unsigned char id_hash[32], pf_err *err);

/* The user of a live (not revoked) API token; marks it used.
 * PF_EAUTH "bad_token" otherwise. */
pf_kind db_api_token_user(db_conn *c, const unsigned char hash[32], db_user *user,
                          pf_err *err);
/* The user's tokens: [{"id","name","created_at","last_used_at","revoked_at"}]. */
pf_kind db_api_tokens_of(db_conn *c, long long user_id, json_t **out, pf_err *err);
/* Revokes token id if it belongs to user_id; PF_ENOTFOUND otherwise. */
pf_kind db_api_token_revoke(db_conn *c, long long user_id, long long id, pf_err *err);

/* Login throttling (migrations/0008_accounts.sql). */
typedef struct {
    int window_seconds;  /* the address window, and an account's memory */
    int addr_max;        /* attempts per address and window */
    int account_free;    /* failures before an account backs off */
    int cap_seconds;     /* longest backoff of an account */
} db_throttle_rules;

/* Decides whether a login attempt for email from addr may check a
 * password, and if so counts it as a failure, in one statement that holds
 * both throttle rows locked. *allowed false: *by_account tells which
 * limit refused, *retry_after the seconds to wait. */
pf_kind db_login_attempt(db_conn *c, const char *email, const char *addr,
                         const db_throttle_rules *rules, bool *allowed, bool *by_account,
                         int *retry_after, pf_err *err);
/* Takes back the attempt db_login_attempt counted: the account's record
 * is cleared, the address gets its attempt back. */
pf_kind db_login_succeeded(db_conn *c, const char *email, const char *addr, pf_err *err);
/* Forgets an account's failures (an operator set a new password). */
pf_kind db_login_forget(db_conn *c, const char *email, pf_err *err);

/* Ends every session of user_id except keep (NULL: all). *n = how many. */
pf_kind db_sessions_end_user(db_conn *c, long long user_id, const unsigned char keep[32],
                             int *n, pf_err *err);
/* Deletes expired sessions and throttle rows idle for a day. */
pf_kind db_sessions_prune(db_conn *c, int *sessions, int *throttles, pf_err *err);

#endif
