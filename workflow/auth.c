/* wf_auth: see auth.h. */
#include "workflow/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db/directory.h"
#include "db/sessions.h"
#include "workflow/admin.h"

static void token_hash(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

static pf_kind actor_from_user(const db_user *u, const char *via, wf_actor *a, pf_err *err)
{
    memset(a, 0, sizeof *a);
    if (!wf_role_parse(u->role, &a->role))
        return pf_fail(err, PF_EINTERNAL, "bad_role", NULL, "user has unknown role %s", u->role);
    a->user_id = u->id;
    a->network_id = u->network_id;
    a->via = via;
    snprintf(a->label, sizeof a->label, "%s", u->email);
    return PF_OK;
}

static pf_kind audit(db_conn *c, const wf_actor *a, const char *action, pf_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", a->user_id);
    return wf_audit(c, a, action, "user", id, 0, NULL, NULL, err);
}

/* A real Argon2id hash with the same parameters as users' hashes, made
 * once: verifying against it costs what a real check costs. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    if (crypto_pwhash_str_alg(dummy_hash, "peerflow-no-such-user", 21,
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        dummy_hash[0] = '\0';
}

static const db_throttle_rules rules = {.window_seconds = WF_LOGIN_WINDOW_SECONDS,
                                        .addr_max = WF_LOGIN_MAX_PER_ADDR,
                                        .account_free = WF_LOGIN_MAX_PER_ACCOUNT,
                                        .cap_seconds = WF_LOGIN_BACKOFF_CAP_SECONDS};

struct attempt_ctx {
    const char *email, *addr;
    bool allowed, by_account;
    int retry_after;
};

static pf_kind attempt_tx(db_conn *c, void *v, pf_err *err)
{
    struct attempt_ctx *x = v;
    return db_login_attempt(c, x->email, x->addr, &rules, &x->allowed, &x->by_account,
                            &x->retry_after, err);
}

/* Counts one password check for email from addr in its own short
 * transaction (committed before the slow Argon2id check, so no row lock
 * is held while hashing), or refuses it: PF_ELIMIT "too_many_attempts"
 * with err->retry_after the seconds to wait. */
static pf_kind throttle(const wf_env *env, const char *email, const char *addr, pf_err *err)
{
    struct attempt_ctx x = {.email = email, .addr = addr};
    db_scope scope = db_scope_system();
    if (db_run_tx(env->db, &scope, attempt_tx, &x, err))
        return err->kind;
    if (x.allowed)
        return PF_OK;
    int wait = x.retry_after;
    pf_fail(err, PF_ELIMIT, "too_many_attempts", "email",
            "too many failed logins %s: wait %d %s and try again",
            x.by_account ? "for this account" : "from your address",
            wait >= 120 ? (wait + 59) / 60 : wait, wait >= 120 ? "minutes" : "seconds");
    if (err)
        err->retry_after = wait;
    return PF_ELIMIT;
}

/* Checks password against the user of email (found false when there is
 * none). An unknown user costs the same Argon2id work as a wrong
 * password, so response time does not tell which accounts exist. */
static pf_kind check_password(const wf_env *env, const char *email, const char *password,
                              db_user *u, bool *ok, bool *found, pf_err *err);

struct finish_ctx {
    const db_user *u;
    bool ok;
    const char *email, *addr, *ua;
    char *token;
    wf_session *s;
};

static json_t *addr_json(const char *addr, const char *ua)
{
    return json_pack("{ss,ss?}", "client_addr", addr, "user_agent", ua);
}

static pf_kind login_finish_tx(db_conn *c, void *v, pf_err *err)
{
    struct finish_ctx *x = v;
    char id[24];
    if (!x->ok) {
        wf_actor a;
        snprintf(id, sizeof id, "%lld", x->u->id);
        if (actor_from_user(x->u, "web", &a, err))
            return err->kind;
        return wf_audit(c, &a, "user.login_failed", "user", id, 0, NULL,
                        addr_json(x->addr, x->ua), err);
    }
    unsigned char raw[32], h[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(x->token, WF_SESSION_TOKEN_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    token_hash(x->token, h);
    sodium_memzero(raw, sizeof raw);
    unsigned char csrf_raw[32];
    randombytes_buf(csrf_raw, sizeof csrf_raw);
    sodium_bin2base64(x->s->csrf, sizeof x->s->csrf, csrf_raw, sizeof csrf_raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(id, sizeof id, "%lld", x->u->id);
    if (actor_from_user(x->u, "web", &x->s->actor, err) ||
        db_login_succeeded(c, x->email, x->addr, err) ||
        db_session_insert(c, h, x->u->id, x->s->csrf, WF_SESSION_TTL_SECONDS, x->addr, x->ua,
                          err) ||
        wf_audit(c, &x->s->actor, "user.login", "user", id, 0, NULL, addr_json(x->addr, x->ua),
                 err))
        return err->kind;
    x->s->actor.has_credential = true;
    memcpy(x->s->actor.credential, h, sizeof h);
    return PF_OK;
}

pf_kind wf_login(const wf_env *env, const char *email, const char *password, const char *addr,
                 const char *user_agent, char token[WF_SESSION_TOKEN_LEN], wf_session *s,
                 pf_err *err)
{
    if (email == NULL || *email == '\0')
        return pf_fail(err, PF_EINVALID, "missing", "email", "enter your email address");
    if (password == NULL || *password == '\0')
        return pf_fail(err, PF_EINVALID, "missing", "password", "enter your password");
    if (strlen(email) > 254 || strlen(password) > 1024)
        return pf_fail(err, PF_EAUTH, "bad_credentials", "password", "wrong email or password");
    addr = addr ? addr : "";
    if (throttle(env, email, addr, err))
        return err->kind;
    db_user u;
    bool ok, found;
    if (check_password(env, email, password, &u, &ok, &found, err))
        return err->kind;
    if (!ok && !found) /* counted already; nobody to audit */
        return pf_fail(err, PF_EAUTH, "bad_credentials", "password", "wrong email or password");
    struct finish_ctx x = {.u = &u, .ok = ok, .email = email, .addr = addr, .ua = user_agent,
                           .token = token, .s = s};
    db_scope scope = db_scope_system();
    if (db_run_tx(env->db, &scope, login_finish_tx, &x, err))
        return err->kind;
    if (!ok)
        return pf_fail(err, PF_EAUTH, "bad_credentials", "password", "wrong email or password");
    return PF_OK;
}

struct user_ctx {
    const char *email;
    db_user *u;
};

static pf_kind user_tx(db_conn *c, void *v, pf_err *err)
{
    struct user_ctx *x = v;
    return db_user_by_email(c, x->email, x->u, err);
}

static pf_kind check_password(const wf_env *env, const char *email, const char *password,
                              db_user *u, bool *ok, bool *found, pf_err *err)
{
    struct user_ctx x = {.email = email, .u = u};
    db_scope scope = db_scope_system();
    pf_err lookup = {0};
    *found = db_run_read(env->db, &scope, user_tx, &x, &lookup) == PF_OK;
    if (!*found && lookup.kind != PF_ENOTFOUND) {
        *err = lookup;
        return err->kind;
    }
    pthread_once(&dummy_once, make_dummy_hash);
    const char *hash = *found && u->password_hash[0] ? u->password_hash : dummy_hash;
    *ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && *found &&
          u->password_hash[0] && !u->disabled;
    return PF_OK;
}

struct resume_ctx {
    const char *token;
    wf_session *s;
};

static pf_kind resume_tx(db_conn *c, void *v, pf_err *err)
{
    struct resume_ctx *x = v;
    unsigned char h[32];
    db_user u;
    token_hash(x->token, h);
    if (db_session_lookup(c, h, &u, x->s->csrf, err))
        return err->kind;
    if (actor_from_user(&u, "web", &x->s->actor, err))
        return err->kind;
    x->s->actor.has_credential = true;
    memcpy(x->s->actor.credential, h, sizeof h);
    return PF_OK;
}

pf_kind wf_session_resume(const wf_env *env, const char *token, wf_session *s, pf_err *err)
{
    if (token == NULL || *token == '\0' || strlen(token) > 100)
        return pf_fail(err, PF_EAUTH, "not_logged_in", NULL, "log in first");
    struct resume_ctx x = {.token = token, .s = s};
    db_scope scope = db_scope_system();
    return db_run_read(env->db, &scope, resume_tx, &x, err);
}

static pf_kind logout_tx(db_conn *c, void *v, pf_err *err)
{
    const char *token = v;
    unsigned char h[32];
    db_user u;
    char csrf[80];
    token_hash(token, h);
    if (db_session_lookup(c, h, &u, csrf, err) != PF_OK)
        return PF_OK; /* already gone: logging out twice is fine */
    wf_actor a;
    if (actor_from_user(&u, "web", &a, err) || db_session_delete(c, h, err) ||
        audit(c, &a, "user.logout", err))
        return err->kind;
    return PF_OK;
}

pf_kind wf_logout(const wf_env *env, const char *token, pf_err *err)
{
    if (token == NULL || *token == '\0' || strlen(token) > 100)
        return PF_OK;
    db_scope scope = db_scope_system();
    return db_run_tx(env->db, &scope, logout_tx, (void *)token, err);
}

struct api_ctx {
    const char *token;
    wf_actor *out;
};

static pf_kind api_tx(db_conn *c, void *v, pf_err *err)
{
    struct api_ctx *x = v;
    unsigned char h[32];
    db_user u;
    wf_api_token_hash(x->token, h);
    if (db_api_token_user(c, h, &u, err))
        return err->kind;
    if (actor_from_user(&u, "api", x->out, err))
        return err->kind;
    x->out->has_credential = true;
    memcpy(x->out->credential, h, sizeof h);
    return PF_OK;
}

/* The API tokens this thread looked up lately (a thread serves one
 * request at a time; no lock). What they were found to be is a hint, not
 * a credential: every use has the database check it again in the
 * round trip of the work itself (db_scope.check_token), so a revoked
 * token or a disabled user is refused at once. An entry lives a minute,
 * then the token is looked up again, which moves its last_used_at. */
#define REMEMBER_SLOTS 64
#define REMEMBER_SECONDS 60

struct remembered {
    bool used;
    unsigned char hash[32];
    wf_actor actor;
    time_t until;
};

static _Thread_local struct remembered remembered[REMEMBER_SLOTS];

static struct remembered *slot_of(const unsigned char hash[32])
{
    return &remembered[hash[0] % REMEMBER_SLOTS];
}

static pf_kind check_api_token(const char *token, pf_err *err)
{
    if (token == NULL || strncmp(token, "pft_", 4) != 0 || strlen(token) > 100)
        return pf_fail(err, PF_EAUTH, "bad_token",
                       NULL, "send 'Authorization: Bearer pft_...' with an API token of yours");
    return PF_OK;
}

pf_kind wf_api_actor(const wf_env *env, const char *token, wf_actor *out, pf_err *err)
{
    if (check_api_token(token, err))
        return err->kind;
    struct api_ctx x = {.token = token, .out = out};
    db_scope scope = db_scope_system();
    pf_kind k = db_run_read(env->db, &scope, api_tx, &x, err);
    if (k != PF_OK) {
        wf_api_forget(token);
        return k;
    }
    struct remembered *m = slot_of(out->credential);
    m->used = true;
    memcpy(m->hash, out->credential, sizeof m->hash);
    m->actor = *out;
    m->actor.check_token = true;
    m->until = time(NULL) + REMEMBER_SECONDS;
    return k;
}

pf_kind wf_api_actor_remembered(const wf_env *env, const char *token, wf_actor *out,
                                pf_err *err)
{
    if (check_api_token(token, err))
        return err->kind;
    unsigned char h[32];
    wf_api_token_hash(token, h);
    struct remembered *m = slot_of(h);
    /* constant time: the compare tells nothing of the remembered hash */
    if (m->used && sodium_memcmp(m->hash, h, sizeof h) == 0 && time(NULL) < m->until) {
        *out = m->actor;
        return PF_OK;
    }
    return wf_api_actor(env, token, out, err);
}

void wf_api_forget(const char *token)
{
    if (token == NULL)
        return;
    unsigned char h[32];
    wf_api_token_hash(token, h);
    struct remembered *m = slot_of(h);
    if (m->used && sodium_memcmp(m->hash, h, sizeof h) == 0)
        sodium_memzero(m, sizeof *m);
}

struct tokens_ctx {
    const wf_actor *who;
    long long id;
    json_t *out;
};

static pf_kind tokens_tx(db_conn *c, void *v, pf_err *err)
{
    struct tokens_ctx *x = v;
    return db_api_tokens_of(c, x->who->user_id, &x->out, err);
}

pf_kind wf_api_tokens(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err)
{
    struct tokens_ctx x = {.who = who};
    db_scope scope = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &scope, tokens_tx, &x, err);
    *out = k == PF_OK ? x.out : NULL;
    return k;
}

static pf_kind revoke_tx(db_conn *c, void *v, pf_err *err)
{
    struct tokens_ctx *x = v;
    char id[24];
    snprintf(id, sizeof id, "%lld", x->id);
    if (db_api_token_revoke(c, x->who->user_id, x->id, err))
        return err->kind;
    return wf_audit(c, x->who, "api_token.revoked", "api_token", id, 0, NULL, NULL, err);
}

pf_kind wf_api_token_revoke(const wf_env *env, const wf_actor *who, long long id, pf_err *err)
{
    struct tokens_ctx x = {.who = who, .id = id};
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, revoke_tx, &x, err);
}

struct change_ctx {
    const wf_actor *who;
    const char *hash;
    const unsigned char *keep;
    const char *email, *addr;
    int ended;
};

static pf_kind change_tx(db_conn *c, void *v, pf_err *err)
{
    struct change_ctx *x = v;
    char id[24];
    snprintf(id, sizeof id, "%lld", x->who->user_id);
    if (db_user_set_password(c, x->who->user_id, x->hash, err) ||
        db_login_succeeded(c, x->email, x->addr, err) ||
        db_sessions_end_user(c, x->who->user_id, x->keep, &x->ended, err))
        return err->kind;
    /* never the password or its hash: only what happened */
    return wf_audit(c, x->who, "user.password_changed", "user", id, 0, NULL,
                    json_pack("{ss,si,ss}", "by", "self", "sessions_ended", x->ended,
                              "client_addr", x->addr),
                    err);
}

pf_kind wf_password_change(const wf_env *env, const wf_actor *who, const char *session_token,
                           const char *addr, const char *current, const char *new_password,
                           const char *confirm, int *ended, pf_err *err)
{
    if (current == NULL || *current == '\0')
        return pf_fail(err, PF_EINVALID, "missing", "current_password",
                       "enter your current password");
    if (new_password == NULL || *new_password == '\0')
        return pf_fail(err, PF_EINVALID, "missing", "new_password", "enter a new password");
    if (confirm == NULL || strcmp(new_password, confirm) != 0)
        return pf_fail(err, PF_EINVALID, "passwords_differ", "confirm_password",
                       "the two new passwords differ: type the same new password twice");
    if (wf_password_check(new_password, err))
        return err->kind;
    addr = addr ? addr : "";
    /* a stolen session must not become a way to guess the password: the
     * current password's check is throttled like a login */
    if (strlen(current) > 1024)
        return pf_fail(err, PF_EAUTH, "bad_credentials", "current_password",
                       "your current password is wrong");
    if (throttle(env, who->label, addr, err))
        return err->kind;
    db_user u;
    bool ok, found;
    if (check_password(env, who->label, current, &u, &ok, &found, err))
        return err->kind;
    if (!ok || u.id != who->user_id)
        return pf_fail(err, PF_EAUTH, "bad_credentials", "current_password",
                       "your current password is wrong");
    /* the new password is hashed (Argon2id, the slow part) only once the
     * current one is known to be right */
    char hash[128];
    if (wf_password_hash(new_password, hash, err))
        return err->kind;
    unsigned char keep[32];
    if (session_token)
        token_hash(session_token, keep);
    struct change_ctx x = {.who = who, .hash = hash, .keep = session_token ? keep : NULL,
                           .email = who->label, .addr = addr};
    db_scope scope = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &scope, change_tx, &x, err);
    sodium_memzero(hash, sizeof hash);
    if (k == PF_OK && ended)
        *ended = x.ended;
    return k;
}

struct prune_ctx {
    int sessions, throttles;
};

static pf_kind prune_tx(db_conn *c, void *v, pf_err *err)
{
    struct prune_ctx *x = v;
    return db_sessions_prune(c, &x->sessions, &x->throttles, err);
}

pf_kind wf_sessions_prune(const wf_env *env, int *sessions, pf_err *err)
{
    struct prune_ctx x = {0};
    db_scope scope = db_scope_system();
    pf_kind k = db_run_tx(env->db, &scope, prune_tx, &x, err);
    if (sessions)
        *sessions = k == PF_OK ? x.sessions : 0;
    return k;
}
