/* wf_admin: see admin.h. */
#include "workflow/admin.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/directory.h"
#include "db/fabric.h"
#include "db/sessions.h"
#include "workflow/validate.h"

static pf_kind need_operator(const wf_actor *who, pf_err *err)
{
    if (who->role != WF_ROLE_OPERATOR)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", NULL,
                       "only exchange operators may change the fabric, networks and users");
    return PF_OK;
}

/* Appends the audit event of an admin change with after = the JSON
 * object (stolen). */
static pf_kind audit_added(db_conn *c, const wf_actor *who, const char *action,
                           const char *type, long long id, json_t *after, pf_err *err)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    return wf_audit(c, who, action, type, ids, 0, NULL, after, err);
}

/* Runs one change in its own transaction for the actor (db_run_tx
 * commits on PF_OK, rolls back otherwise). */
static pf_kind in_tx(const wf_env *env, const wf_actor *who, db_tx_fn fn, void *ctx,
                     pf_err *err)
{
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, fn, ctx, err);
}

struct network_ctx {
    const wf_actor *who;
    db_network n;
    long long *id;
};

static pf_kind network_insert(db_conn *c, void *ctx, pf_err *err)
{
    struct network_ctx *x = ctx;
    const db_network *n = &x->n;
    long long *id = x->id;
    const wf_actor *who = x->who;
    if (db_network_insert(c, n, id, err) != PF_OK)
        return err->kind;
    json_t *contacts = json_array();
    for (int i = 0; i < n->n_contacts; i++)
        json_array_append_new(contacts, json_string(n->contacts[i]));
    return audit_added(c, who, "network.added", "network", *id,
                       json_pack("{sI,ss,ss,so,sb}", "asn", (json_int_t)n->asn, "name", n->name,
                                 "policy", n->policy, "contacts", contacts, "auto_approve",
                                 n->auto_approve),
                       err);
}

pf_kind wf_network_add(const wf_env *env, const wf_actor *who, const wf_network_input *in,
                       long long *id, pf_err *err)
{
    static const char *const policies[] = {"open", "selective", "restrictive", "no", NULL};
    struct network_ctx x = {.who = who, .id = id};
    db_network n = {0};
    if (need_operator(who, err) || wf_parse_asn(in->asn, "asn", &n.asn, err))
        return err->kind;
    if (in->name == NULL || in->name[0] == '\0')
        return pf_fail(err, PF_EINVALID, "missing", "name",
                       "the network's name is required (1 to 100 characters)");
    if (wf_check_display_name(in->name, "name", 100, err))
        return err->kind;
    const char *policy = in->policy ? in->policy : "selective";
    if (wf_check_choice(policy, "policy", policies, err))
        return err->kind;
    if (in->n_contacts > DB_MAX_CONTACTS)
        return pf_fail(err, PF_EINVALID, "too_many_contacts", "contact",
                       "at most %d peering contacts", DB_MAX_CONTACTS);
    for (int i = 0; i < in->n_contacts; i++) {
        if (wf_check_email(in->contacts[i], "contact", err))
            return err->kind;
        snprintf(n.contacts[i], sizeof n.contacts[i], "%s", in->contacts[i]);
    }
    n.n_contacts = in->n_contacts;
    if (in->auto_approve && strcmp(policy, "open") != 0)
        return pf_fail(err, PF_EINVALID, "auto_approve_needs_open", "auto_approve",
                       "--auto-approve needs --policy open: only open networks approve everyone");
    snprintf(n.name, sizeof n.name, "%s", in->name);
    snprintf(n.policy, sizeof n.policy, "%s", policy);
    n.auto_approve = in->auto_approve;
    x.n = n;
    return in_tx(env, who, network_insert, &x, err);
}

pf_kind wf_password_check(const char *password, pf_err *err)
{
    size_t len = password ? strlen(password) : 0;
    if (len < 10 || len > 1024)
        return pf_fail(err, PF_EINVALID, "weak_password", "password",
                       "a password is 10 to 1024 characters");
    return PF_OK;
}

pf_kind wf_password_hash(const char *password, char out[128], pf_err *err)
{
    _Static_assert(crypto_pwhash_STRBYTES <= 128, "password hash buffer");
    if (wf_password_check(password, err))
        return err->kind;
    size_t len = strlen(password);
    if (crypto_pwhash_str_alg(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL,
                       "not enough memory to hash the password");
    return PF_OK;
}

struct user_ctx {
    const wf_actor *who;
    db_user u;
    const char *asn_text;
    long long *id;
};

static pf_kind user_insert(db_conn *c, void *ctx, pf_err *err)
{
    struct user_ctx *x = ctx;
    if (x->asn_text != NULL) {
        long long asn;
        db_network n;
        if (wf_parse_asn(x->asn_text, "network", &asn, err) ||
            db_network_by_asn(c, asn, &n, err))
            return err->kind;
        x->u.network_id = n.id;
    }
    if (db_user_insert(c, &x->u, x->id, err) != PF_OK)
        return err->kind;
    return audit_added(c, x->who, "user.added", "user", *x->id,
                       json_pack("{ss,ss,sI}", "email", x->u.email, "role", x->u.role,
                                 "network_id", (json_int_t)x->u.network_id),
                       err);
}

pf_kind wf_user_add(const wf_env *env, const wf_actor *who, const wf_user_input *in,
                    long long *id, pf_err *err)
{
    static const char *const roles[] = {"admin", "engineer", "viewer", "operator", NULL};
    struct user_ctx x = {.who = who, .asn_text = in->network_asn, .id = id};
    if (need_operator(who, err) || wf_check_email(in->email, "email", err) ||
        wf_check_choice(in->role, "role", roles, err))
        return err->kind;
    bool op = strcmp(in->role, "operator") == 0;
    if (op && in->network_asn != NULL)
        return pf_fail(err, PF_EINVALID, "operator_has_no_network", "network",
                       "an operator belongs to no network: drop --network");
    if (!op && in->network_asn == NULL)
        return pf_fail(err, PF_EINVALID, "missing", "network",
                       "--network ASN is required for admin, engineer and viewer users");
    snprintf(x.u.email, sizeof x.u.email, "%s", in->email);
    snprintf(x.u.role, sizeof x.u.role, "%s", in->role);
    if (in->password != NULL && wf_password_hash(in->password, x.u.password_hash, err))
        return err->kind;
    return in_tx(env, who, user_insert, &x, err);
}

struct user_change_ctx {
    const wf_actor *who;
    const char *email;
    bool disabled;
    const char *hash; /* set-password: the new Argon2id hash */
};

static pf_kind user_disable_tx(db_conn *c, void *ctx, pf_err *err)
{
    struct user_change_ctx *x = ctx;
    db_user before;
    int ended = 0;
    if (db_user_set_disabled(c, x->email, x->disabled, &before, err))
        return err->kind;
    if (x->disabled && db_sessions_end_user(c, before.id, NULL, &ended, err))
        return err->kind;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", before.id);
    return wf_audit(c, x->who, x->disabled ? "user.disabled" : "user.enabled", "user", ids, 0,
                    json_pack("{ss,sb}", "email", before.email, "disabled", before.disabled),
                    json_pack("{ss,sb,si}", "email", before.email, "disabled", x->disabled,
                              "sessions_ended", ended),
                    err);
}

pf_kind wf_user_set_disabled(const wf_env *env, const wf_actor *who, const char *email,
                             bool disabled, pf_err *err)
{
    struct user_change_ctx x = {.who = who, .email = email, .disabled = disabled};
    if (need_operator(who, err) || wf_check_email(email, "email", err))
        return err->kind;
    return in_tx(env, who, user_disable_tx, &x, err);
}

static pf_kind user_password_tx(db_conn *c, void *ctx, pf_err *err)
{
    struct user_change_ctx *x = ctx;
    db_user u;
    int ended = 0;
    if (db_user_by_email(c, x->email, &u, err) || db_user_set_password(c, u.id, x->hash, err) ||
        db_sessions_end_user(c, u.id, NULL, &ended, err) || db_login_forget(c, u.email, err))
        return err->kind;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", u.id);
    return wf_audit(c, x->who, "user.password_set", "user", ids, 0, NULL,
                    json_pack("{ss,ss,si}", "email", u.email, "by", "operator",
                              "sessions_ended", ended),
                    err);
}

pf_kind wf_user_set_password(const wf_env *env, const wf_actor *who, const char *email,
                             const char *password, pf_err *err)
{
    char hash[128];
    struct user_change_ctx x = {.who = who, .email = email, .hash = hash};
    if (need_operator(who, err) || wf_check_email(email, "email", err) ||
        wf_password_hash(password, hash, err))
        return err->kind;
    pf_kind k = in_tx(env, who, user_password_tx, &x, err);
    sodium_memzero(hash, sizeof hash);
    return k;
}

struct switch_ctx {
    const wf_actor *who;
    db_switch s;
    long long *id;
};

static pf_kind switch_insert(db_conn *c, void *ctx, pf_err *err)
{
    struct switch_ctx *x = ctx;
    const wf_actor *who = x->who;
    const db_switch *s = &x->s;
    long long *id = x->id;
    if (db_switch_insert(c, s, id, err) != PF_OK)
        return err->kind;
    return audit_added(c, who, "switch.added", "switch", *id,
                       json_pack("{ss,ss,ss?,ss?}", "name", s->name, "dpid", s->dpid, "endpoint",
                                 s->endpoint[0] ? s->endpoint : NULL, "cert_sha256",
                                 s->cert_sha256[0] ? s->cert_sha256 : NULL),
                       err);
}

pf_kind wf_switch_add(const wf_env *env, const wf_actor *who, const wf_switch_input *in,
                      long long *id, pf_err *err)
{
    return wf_switch_add_pinned(env, who, in, NULL, id, err);
}

pf_kind wf_switch_add_pinned(const wf_env *env, const wf_actor *who, const wf_switch_input *in,
                             const char *cert_sha256, long long *id, pf_err *err)
{
    struct switch_ctx x = {.who = who, .id = id};
    db_switch *s = &x.s;
    if (need_operator(who, err) || wf_check_name(in->name, "name", false, err) ||
        wf_parse_dpid(in->dpid, s->dpid, err))
        return err->kind;
    if (in->endpoint != NULL && wf_check_endpoint(in->endpoint, err))
        return err->kind;
    snprintf(s->name, sizeof s->name, "%s", in->name);
    snprintf(s->endpoint, sizeof s->endpoint, "%s", in->endpoint ? in->endpoint : "");
    if (cert_sha256 != NULL) {
        /* 64 hex digits, as openssl x509 -fingerprint -sha256 prints them
         * (upper case, colons) or plain */
        size_t n = 0;
        bool ok = true;
        for (const char *p = cert_sha256; *p && ok; p++) {
            if (*p == ':')
                continue;
            ok = isxdigit((unsigned char)*p) && n < 64;
            if (ok)
                s->cert_sha256[n++] = (char)tolower((unsigned char)*p);
        }
        s->cert_sha256[n < 64 ? 0 : 64] = '\0';
        if (!ok || n != 64)
            return pf_fail(err, PF_EINVALID, "bad_cert_fingerprint", "cert",
                           "a certificate fingerprint is the SHA-256 of the DER certificate: 64 "
                           "hex digits (colons allowed), as `openssl x509 -noout -fingerprint "
                           "-sha256` prints it");
    }
    return in_tx(env, who, switch_insert, &x, err);
}

struct link_ctx {
    const wf_actor *who;
    char a_name[64], b_name[64];
    long long a_port, b_port;
    long long *id;
};

static pf_kind link_insert(db_conn *c, void *ctx, pf_err *err)
{
    struct link_ctx *x = ctx;
    db_switch a, b;
    if (db_switch_by_name(c, x->a_name, &a, err) || db_switch_by_name(c, x->b_name, &b, err))
        return err->kind;
    if (a.id == b.id)
        return pf_fail(err, PF_EINVALID, "link_loop", "b",
                       "a link joins two different switches; both ends are on %s", a.name);
    if (db_link_insert(c, a.id, x->a_port, b.id, x->b_port, x->id, err) != PF_OK)
        return err->kind;
    return audit_added(c, x->who, "link.added", "link", *x->id,
                       json_pack("{ss,sI,ss,sI}", "a_switch", a.name, "a_port",
                                 (json_int_t)x->a_port, "b_switch", b.name, "b_port",
                                 (json_int_t)x->b_port),
                       err);
}

pf_kind wf_link_add(const wf_env *env, const wf_actor *who, const char *a, const char *b,
                    long long *id, pf_err *err)
{
    struct link_ctx x = {.who = who, .id = id};
    if (need_operator(who, err) || wf_parse_switch_port(a, "a", x.a_name, &x.a_port, err) ||
        wf_parse_switch_port(b, "b", x.b_name, &x.b_port, err))
        return err->kind;
    return in_tx(env, who, link_insert, &x, err);
}

struct port_ctx {
    const wf_actor *who;
    long long asn;
    const char *switch_name;
    db_port p;
    long long *id;
};

static pf_kind port_insert(db_conn *c, void *ctx, pf_err *err)
{
    struct port_ctx *x = ctx;
    db_network n;
    db_switch s;
    if (db_network_by_asn(c, x->asn, &n, err) || db_switch_by_name(c, x->switch_name, &s, err))
        return err->kind;
    x->p.network_id = n.id;
    x->p.switch_id = s.id;
    if (db_port_insert(c, &x->p, x->id, err) != PF_OK)
        return err->kind;
    return audit_added(c, x->who, "port.added", "port", *x->id,
                       json_pack("{sI,ss,sI,ss,ss}", "asn", (json_int_t)n.asn, "switch", s.name,
                                 "ofport", (json_int_t)x->p.ofport, "name", x->p.name, "mode",
                                 x->p.mode),
                       err);
}

pf_kind wf_port_add(const wf_env *env, const wf_actor *who, const wf_port_input *in,
                    long long *id, pf_err *err)
{
    static const char *const modes[] = {"access", "trunk", NULL};
    struct port_ctx x = {.who = who, .switch_name = in->switch_name, .id = id};
    const char *mode = in->mode ? in->mode : "access";
    long long speed = 0;
    if (need_operator(who, err) || wf_parse_asn(in->network_asn, "network", &x.asn, err) ||
        wf_check_name(in->switch_name, "switch", false, err) ||
        wf_parse_int(in->ofport, "ofport", 1, 4294967040LL, &x.p.ofport, err) ||
        wf_check_name(in->name, "name", true, err) || wf_check_choice(mode, "mode", modes, err))
        return err->kind;
    if (in->speed != NULL && wf_parse_int(in->speed, "speed", 1, 100000000, &speed, err))
        return err->kind;
    x.p.speed_mbps = (int)speed;
    snprintf(x.p.name, sizeof x.p.name, "%s", in->name);
    snprintf(x.p.mode, sizeof x.p.mode, "%s", mode);
    return in_tx(env, who, port_insert, &x, err);
}

void wf_api_token_hash(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

struct token_ctx {
    const wf_actor *who;
    const char *email, *name;
    const unsigned char *hash;
};

static pf_kind token_insert(db_conn *c, void *ctx, pf_err *err)
{
    struct token_ctx *x = ctx;
    db_user u;
    long long id;
    if (db_user_by_email(c, x->email, &u, err))
        return err->kind;
    if (x->who->role != WF_ROLE_OPERATOR && x->who->user_id != u.id)
        return pf_fail(err, PF_EFORBIDDEN, "not_your_account", "email",
                       "you may create API tokens only for yourself");
    if (db_api_token_insert(c, u.id, x->name, x->hash, &id, err))
        return err->kind;
    return audit_added(c, x->who, "api_token.created", "api_token", id,
                       json_pack("{ss,ss}", "user", u.email, "name", x->name), err);
}

pf_kind wf_api_token_create(const wf_env *env, const wf_actor *who, const char *email,
                            const char *name, char token[WF_API_TOKEN_LEN], pf_err *err)
{
    if (wf_check_email(email, "email", err))
        return err->kind;
    if (name == NULL || name[0] == '\0')
        name = "api";
    if (strlen(name) > 100)
        return pf_fail(err, PF_EINVALID, "bad_name", "name", "a token label is at most 100 characters");
    /* "pft_" + 43 characters of base64url: 256 random bits. */
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(token, "pft_", 4);
    sodium_bin2base64(token + 4, WF_API_TOKEN_LEN - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    unsigned char hash[32];
    wf_api_token_hash(token, hash);
    struct token_ctx x = {.who = who, .email = email, .name = name, .hash = hash};
    return in_tx(env, who, token_insert, &x, err);
}
