/* wf_auth: who is asking - password logins, web sessions, API tokens.
 *
 * Passwords are Argon2id (libsodium crypto_pwhash_str). Session ids and
 * API tokens are 256 random bits; only their BLAKE2b hash is stored.
 * Failed logins are throttled per account and per client address; every
 * login, failure and logout is audited. */
#ifndef WF_AUTH_H
#define WF_AUTH_H

#include <jansson.h>

#include "workflow/context.h"

#define WF_SESSION_TOKEN_LEN 64 /* buffer size for a session id in text */
#define WF_SESSION_TTL_SECONDS (12 * 3600)
#define WF_LOGIN_WINDOW_SECONDS (15 * 60)
/* An account backs off after this many failures: the next check waits
 * 1 s, then 2 s, 4 s ... up to WF_LOGIN_BACKOFF_CAP_SECONDS; a success
 * resets it, and so do WF_LOGIN_WINDOW_SECONDS without a failure. */
#define WF_LOGIN_MAX_PER_ACCOUNT 5
#define WF_LOGIN_BACKOFF_CAP_SECONDS (15 * 60)
/* Password checks per client address and window. */
#define WF_LOGIN_MAX_PER_ADDR 20

typedef struct {
    wf_actor actor;
    char csrf[80]; /* the session's CSRF token, for forms */
} wf_session;

/* Checks email and password. On success writes a new session id (the
 * cookie value) into token and fills s. PF_EAUTH "bad_credentials" for a
 * wrong email or password, or a disabled account (the same answer for
 * all), PF_ELIMIT "too_many_attempts" when throttled, with the seconds to
 * wait in err->retry_after. Every check is counted before it is
 * made, atomically (migrations/0008_accounts.sql), so parallel attempts
 * cannot overrun the limits. */
pf_kind wf_login(const wf_env *env, const char *email, const char *password, const char *addr,
                 const char *user_agent, char token[WF_SESSION_TOKEN_LEN], wf_session *s,
                 pf_err *err);

/* The actor changes their own password: current must be right (checked
 * and throttled like a login), new_password and confirm equal and
 * acceptable (wf_password_hash). Ends every other session of the user,
 * keeps the one of session_token (NULL: ends all); *ended = how many
 * (may be NULL). Audited as user.password_changed. */
pf_kind wf_password_change(const wf_env *env, const wf_actor *who, const char *session_token,
                           const char *addr, const char *current, const char *new_password,
                           const char *confirm, int *ended, pf_err *err);

/* Deletes expired sessions and stale login-throttle rows (the workers'
 * periodic sweep). *sessions = sessions deleted (may be NULL). */
pf_kind wf_sessions_prune(const wf_env *env, int *sessions, pf_err *err);

/* The session of a cookie value: PF_EAUTH "session_expired" when unknown,
 * expired or logged out. via is "web". */
pf_kind wf_session_resume(const wf_env *env, const char *token, wf_session *s, pf_err *err);

/* Ends the session (idempotent) and audits it. */
pf_kind wf_logout(const wf_env *env, const char *token, pf_err *err);

/* The actor of an `Authorization: Bearer` token (via "api"). */
pf_kind wf_api_actor(const wf_env *env, const char *token, wf_actor *out, pf_err *err);

/* The same from what this thread remembers of the token (looked up
 * within the last minute), with no database round trip; else as
 * wf_api_actor. The actor has check_token set: the database checks the
 * token in the round trip of each piece of work done for it, and a
 * refusal fails that work with PF_EAUTH "token_check_failed" (then
 * wf_api_forget and wf_api_actor tell why). For reads (GET): work done
 * outside the actor's scope is not checked. */
pf_kind wf_api_actor_remembered(const wf_env *env, const char *token, wf_actor *out,
                                pf_err *err);

/* Forgets what this thread remembers of the token. */
void wf_api_forget(const char *token);

/* The actor's API tokens (no secrets): [{"id","name",...}]. */
pf_kind wf_api_tokens(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err);
/* Revokes one of the actor's own tokens. */
pf_kind wf_api_token_revoke(const wf_env *env, const wf_actor *who, long long id, pf_err *err);

#endif
