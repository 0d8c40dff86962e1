/* wf_auth: see auth.h. */
#include "workflow/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

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

struct login_ctx {
    const char *email, *password, *addr, *ua;
    char *token;
    wf_session *s;
    pf_err outcome; /* the answer to give after the commit */
};

static pf_kind login_tx(db_conn *c, void *v, pf_err *err)
{
    struct login_ctx *x = v;
    int by_email, by_addr;
    pf_err_clear(&x->outcome);
    if (db_login_failures(c, x->email, x->addr, WF_LOGIN_WINDOW_SECONDS, &by_email, &by_addr,
                          err))
        return err->kind;
    if (by_email >= WF_LOGIN_MAX_PER_ACCOUNT || by_addr >= WF_LOGIN_MAX_PER_ADDR) {
        pf_fail(&x->outcome, PF_ELIMIT, "too_many_attempts", "email",
                "too many failed logins %s: wait %d minutes and try again",
                by_email >= WF_LOGIN_MAX_PER_ACCOUNT ? "for this account" : "from your address",
                WF_LOGIN_WINDOW_SECONDS / 60);
        return PF_OK;
    }
    db_user u;
    pf_err lookup;
    bool found = db_user_by_email(c, x->email, &u, &lookup) == PF_OK;
    if (!found && lookup.kind != PF_ENOTFOUND)
        return pf_fail(err, lookup.kind, lookup.code, NULL, "%s", lookup.message);
    /* An unknown user costs the same Argon2id work as a wrong password,
     * so response time does not tell which accounts exist. */
    pthread_once(&dummy_once, make_dummy_hash);
    const char *hash = found && u.password_hash[0] ? u.password_hash : dummy_hash;
    bool ok = crypto_pwhash_str_verify(hash, x->password, strlen(x->password)) == 0 && found &&
              u.password_hash[0] && !u.disabled;
    if (!ok) {
        if (db_login_failure_add(c, x->email, x->addr, err))
            return err->kind;
        if (found) {
            wf_actor a;
            if (actor_from_user(&u, "web", &a, err) || audit(c, &a, "user.login_failed", err))
                return err->kind;
        }
        pf_fail(&x->outcome, PF_EAUTH, "bad_credentials", "password",
                "wrong email or password");
        return PF_OK;
    }
    unsigned char raw[32], h[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(x->token, WF_SESSION_TOKEN_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    token_hash(x->token, h);
    unsigned char csrf_raw[32];
    randombytes_buf(csrf_raw, sizeof csrf_raw);
    sodium_bin2base64(x->s->csrf, sizeof x->s->csrf, csrf_raw, sizeof csrf_raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (actor_from_user(&u, "web", &x->s->actor, err) ||
        db_login_failures_clear(c, x->email, err) ||
        db_session_insert(c, h, u.id, x->s->csrf, WF_SESSION_TTL_SECONDS, x->addr, x->ua, err) ||
        audit(c, &x->s->actor, "user.login", err))
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
    struct login_ctx x = {.email = email, .password = password, .addr = addr ? addr : "",
                          .ua = user_agent, .token = token, .s = s};
    db_scope scope = db_scope_system();
    pf_kind k = db_run_tx(env->db, &scope, login_tx, &x, err);
    if (k != PF_OK)
        return k;
    if (x.outcome.kind != PF_OK) {
        *err = x.outcome;
        return err->kind;
    }
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

pf_kind wf_api_actor(const wf_env *env, const char *token, wf_actor *out, pf_err *err)
{
    if (token == NULL || strncmp(token, "pft_", 4) != 0 || strlen(token) > 100)
        return pf_fail(err, PF_EAUTH, "bad_token",
                       NULL, "send 'Authorization: Bearer pft_...' with an API token of yours");
    struct api_ctx x = {.token = token, .out = out};
    db_scope scope = db_scope_system();
    return db_run_read(env->db, &scope, api_tx, &x, err);
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
