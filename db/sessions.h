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

/* Failures in the last window_seconds for this email and this address. */
pf_kind db_login_failures(db_conn *c, const char *email, const char *addr, int window_seconds,
                          int *by_email, int *by_addr, pf_err *err);
pf_kind db_login_failure_add(db_conn *c, const char *email, const char *addr, pf_err *err);
pf_kind db_login_failures_clear(db_conn *c, const char *email, pf_err *err);

#endif
