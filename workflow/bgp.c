/* wf_bgp: see bgp.h. */
#include "workflow/bgp.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/bgp.h"
#include "db/directory.h"
#include "workflow/bgp_render.h"
#include "workflow/cidr.h"
#include "workflow/validate.h"

static pf_kind in_tx(const wf_env *env, const wf_actor *who, db_tx_fn fn, void *ctx,
                     pf_err *err)
{
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, fn, ctx, err);
}

static pf_kind need_operator(const wf_actor *who, pf_err *err)
{
    if (who->role != WF_ROLE_OPERATOR)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", NULL,
                       "only exchange operators manage address pools");
    return PF_OK;
}

/* ----------------------------------------------------------- pools */

struct pool_ctx {
    const wf_actor *who;
    const wf_cidr *cidr;
    json_t *list;
};

static pf_kind pool_add_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct pool_ctx *x = vctx;
    long long id;
    if (db_pool_insert(c, x->cidr->text, &id, err))
        return err->kind;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    return wf_audit(c, x->who, "pool.added", "address_pool", ids, 0, NULL,
                    json_pack("{ss}", "cidr", x->cidr->text), err);
}

pf_kind wf_pool_add(const wf_env *env, const wf_actor *who, const char *cidr, pf_err *err)
{
    wf_cidr p;
    if (need_operator(who, err) || wf_cidr_parse(cidr, "cidr", &p, err))
        return err->kind;
    if ((p.family == 4 && p.len > 30) || (p.family == 6 && p.len > 126))
        return pf_fail(err, PF_EINVALID, "pool_too_small", "cidr",
                       "%s holds fewer than two links: a pool is at most /30 (IPv4) or /126 "
                       "(IPv6)",
                       p.text);
    struct pool_ctx x = {.who = who, .cidr = &p};
    return in_tx(env, who, pool_add_tx, &x, err);
}

static pf_kind pool_remove_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct pool_ctx *x = vctx;
    bool removed;
    if (db_pool_delete(c, x->cidr->text, &removed, err))
        return err->kind;
    if (!removed)
        return pf_fail(err, PF_ENOTFOUND, "unknown_pool", "cidr",
                       "there is no pool %s (peerflow pool list shows them)", x->cidr->text);
    return wf_audit(c, x->who, "pool.removed", "address_pool", x->cidr->text, 0,
                    json_pack("{ss}", "cidr", x->cidr->text), NULL, err);
}

pf_kind wf_pool_remove(const wf_env *env, const wf_actor *who, const char *cidr, pf_err *err)
{
    wf_cidr p;
    if (need_operator(who, err) || wf_cidr_parse(cidr, "cidr", &p, err))
        return err->kind;
    struct pool_ctx x = {.who = who, .cidr = &p};
    return in_tx(env, who, pool_remove_tx, &x, err);
}

static pf_kind pool_list_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct pool_ctx *x = vctx;
    return db_pool_usage(c, &x->list, err);
}

pf_kind wf_pool_list(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err)
{
    *out = NULL;
    if (need_operator(who, err))
        return err->kind;
    struct pool_ctx x = {.who = who};
    db_scope scope = wf_actor_scope(who);
    if (db_run_read(env->db, &scope, pool_list_tx, &x, err))
        return err->kind;
    *out = x.list;
    return PF_OK;
}

/* ------------------------------------------------ routing facts */

struct facts_ctx {
    const wf_actor *who;
    long long asn;
    const wf_facts_input *in;
    const wf_cidr *prefixes;
    size_t n;
    bool force, remove, replace;
    json_t *out;
};

/* The network's facts, checking the actor may change them. */
static pf_kind facts_for_change(db_conn *c, const struct facts_ctx *x, json_t **facts,
                                long long *network_id, pf_err *err)
{
    if (db_network_facts(c, x->asn, facts, err))
        return err->kind;
    *network_id = json_integer_value(json_object_get(*facts, "network_id"));
    if (x->who->role == WF_ROLE_OPERATOR ||
        (x->who->role == WF_ROLE_ADMIN && x->who->network_id == *network_id))
        return PF_OK;
    json_decref(*facts);
    *facts = NULL;
    return pf_fail(err, PF_EFORBIDDEN, "admins_only", NULL,
                   "only an admin of AS%lld (or an exchange operator) changes its routing facts",
                   x->asn);
}

static pf_kind facts_get_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct facts_ctx *x = vctx;
    if (db_network_facts(c, x->asn, &x->out, err))
        return err->kind;
    long long nid = json_integer_value(json_object_get(x->out, "network_id"));
    json_object_del(x->out, "network_id");
    json_object_set_new(x->out, "can_edit",
                        json_boolean(x->who->role == WF_ROLE_OPERATOR ||
                                     (x->who->role == WF_ROLE_ADMIN && x->who->network_id == nid)));
    return PF_OK;
}

pf_kind wf_network_facts_get(const wf_env *env, const wf_actor *who, const char *asn,
                             json_t **out, pf_err *err)
{
    *out = NULL;
    struct facts_ctx x = {.who = who};
    if (wf_parse_asn(asn, "asn", &x.asn, err))
        return err->kind;
    db_scope scope = wf_actor_scope(who);
    if (db_run_read(env->db, &scope, facts_get_tx, &x, err))
        return err->kind;
    *out = x.out;
    return PF_OK;
}

/* new value of an optional integer fact: NULL keeps old, "" clears */
static pf_kind check_irr(const char *irr, pf_err *err);

static pf_kind max_prefix(const char *in, json_t *old, const char *field, int *out, pf_err *err)
{
    long long v = json_integer_value(old);
    if (in != NULL && in[0] == '\0')
        v = 0;
    else if (in != NULL && wf_parse_int(in, field, 1, 10000000, &v, err))
        return err->kind;
    *out = (int)v;
    return PF_OK;
}

static pf_kind facts_set_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct facts_ctx *x = vctx;
    json_t *before;
    long long nid;
    if (facts_for_change(c, x, &before, &nid, err))
        return err->kind;
    int m4, m6;
    const char *irr = json_string_value(json_object_get(before, "irr_as_set"));
    if (x->in->irr_as_set)
        irr = x->in->irr_as_set[0] ? x->in->irr_as_set : NULL;
    pf_kind k = max_prefix(x->in->max_prefix4, json_object_get(before, "max_prefix4"),
                           "max_prefix4", &m4, err);
    if (k == PF_OK)
        k = max_prefix(x->in->max_prefix6, json_object_get(before, "max_prefix6"), "max_prefix6",
                       &m6, err);
    if (k == PF_OK)
        k = db_network_facts_set(c, nid, m4, m6, irr, err);
    json_t *was = json_pack("{sOsOsO}", "max_prefix4", json_object_get(before, "max_prefix4"),
                            "max_prefix6", json_object_get(before, "max_prefix6"), "irr_as_set",
                            json_object_get(before, "irr_as_set"));
    json_decref(before);
    if (k != PF_OK) {
        json_decref(was);
        return k;
    }
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", x->asn);
    json_t *now = json_object();
    json_object_set_new(now, "max_prefix4", m4 ? json_integer(m4) : json_null());
    json_object_set_new(now, "max_prefix6", m6 ? json_integer(m6) : json_null());
    json_object_set_new(now, "irr_as_set", irr ? json_string(irr) : json_null());
    return wf_audit(c, x->who, "network.facts_set", "network", ids, 0, was, now, err);
}

pf_kind wf_network_facts_set(const wf_env *env, const wf_actor *who, const char *asn,
                             const wf_facts_input *in, pf_err *err)
{
    struct facts_ctx x = {.who = who, .in = in};
    if (wf_parse_asn(asn, "asn", &x.asn, err) || check_irr(in->irr_as_set, err))
        return err->kind;
    return in_tx(env, who, facts_set_tx, &x, err);
}

static pf_kind check_irr(const char *irr, pf_err *err)
{
    if (irr == NULL || irr[0] == '\0')
        return PF_OK;
    size_t n = strlen(irr);
    bool ok = n <= 100;
    for (size_t i = 0; ok && i < n; i++)
        ok = (irr[i] >= 'A' && irr[i] <= 'Z') || (irr[i] >= 'a' && irr[i] <= 'z') ||
             (irr[i] >= '0' && irr[i] <= '9') || strchr(":_.-", irr[i]) != NULL;
    if (!ok)
        return pf_fail(err, PF_EINVALID, "bad_irr_as_set", "irr_as_set",
                       "an AS-SET is up to 100 letters, digits and ':_.-', e.g. AS-EXAMPLE or "
                       "RIPE::AS-EXAMPLE");
    return PF_OK;
}

/* Checks one prefix for registration (pure part). */
static pf_kind prefix_check(const char *s, const char *field, wf_cidr *out, pf_err *err)
{
    if (wf_cidr_parse(s, field, out, err))
        return err->kind;
    int max = out->family == 4 ? 24 : 48;
    if (out->len < 8 || out->len > max)
        return pf_fail(err, PF_EINVALID, "bad_prefix_length", field,
                       "%s: a registered prefix is /8 to /%d, because longer ones are filtered "
                       "between networks",
                       out->text, max);
    if (wf_bgp_prefix_is_bogon(out->text))
        return pf_fail(err, PF_EINVALID, "bogon_prefix", field,
                       "%s is a bogon (private, shared, loopback, link-local, multicast or "
                       "reserved space: docs/bgp.md lists them), never routed between networks",
                       out->text);
    return PF_OK;
}

/* Adds one checked prefix in the open transaction. */
static pf_kind prefix_add_one(db_conn *c, const struct facts_ctx *x, long long nid,
                              const wf_cidr *p, pf_err *err)
{
    bool taken;
    long long other;
    char theirs[64];
    if (db_prefix_conflict(c, nid, p->text, &taken, &other, theirs, err))
        return err->kind;
    if (taken && !(x->force && x->who->role == WF_ROLE_OPERATOR))
        return pf_fail(err, PF_ECONFLICT, "prefix_of_other_network", "cidr",
                       "%s overlaps %s, registered by AS%lld: a network registers only its own "
                       "space (an operator may force it with --force)",
                       p->text, theirs, other);
    bool added;
    if (db_prefix_insert(c, nid, p->text, &added, err))
        return err->kind;
    if (!added)
        return PF_OK;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", x->asn);
    return wf_audit(c, x->who, "network.prefix_added", "network", ids, 0, NULL,
                    json_pack("{ss,sb}", "prefix", p->text, "forced", taken), err);
}

static pf_kind prefix_remove_one(db_conn *c, const struct facts_ctx *x, long long nid,
                                 const char *text, bool must_exist, pf_err *err)
{
    bool removed;
    if (db_prefix_delete(c, nid, text, &removed, err))
        return err->kind;
    if (!removed)
        return must_exist ? pf_fail(err, PF_ENOTFOUND, "unknown_prefix", "cidr",
                                    "AS%lld has not registered %s", x->asn, text)
                          : PF_OK;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", x->asn);
    return wf_audit(c, x->who, "network.prefix_removed", "network", ids, 0,
                    json_pack("{ss}", "prefix", text), NULL, err);
}

static pf_kind prefix_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct facts_ctx *x = vctx;
    json_t *facts;
    long long nid;
    if (facts_for_change(c, x, &facts, &nid, err))
        return err->kind;
    pf_kind k = PF_OK;
    if (x->replace) {
        /* drop what is not in the new set, then add what is new */
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(facts, "prefixes"), i, v) {
            bool keep = false;
            for (size_t j = 0; j < x->n && !keep; j++)
                keep = strcmp(x->prefixes[j].text, json_string_value(v)) == 0;
            if (!keep && (k = prefix_remove_one(c, x, nid, json_string_value(v), false, err)))
                break;
        }
    }
    for (size_t i = 0; k == PF_OK && i < x->n; i++)
        k = x->remove ? prefix_remove_one(c, x, nid, x->prefixes[i].text, true, err)
                      : prefix_add_one(c, x, nid, &x->prefixes[i], err);
    json_decref(facts);
    return k;
}

pf_kind wf_network_prefix_add(const wf_env *env, const wf_actor *who, const char *asn,
                              const char *cidr, bool force, pf_err *err)
{
    wf_cidr p;
    struct facts_ctx x = {.who = who, .prefixes = &p, .n = 1, .force = force};
    if (wf_parse_asn(asn, "asn", &x.asn, err) || prefix_check(cidr, "cidr", &p, err))
        return err->kind;
    if (force && who->role != WF_ROLE_OPERATOR)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", "force",
                       "only an exchange operator may force a prefix another network registered");
    return in_tx(env, who, prefix_tx, &x, err);
}

pf_kind wf_network_prefix_remove(const wf_env *env, const wf_actor *who, const char *asn,
                                 const char *cidr, pf_err *err)
{
    wf_cidr p;
    struct facts_ctx x = {.who = who, .prefixes = &p, .n = 1, .remove = true};
    if (wf_parse_asn(asn, "asn", &x.asn, err) || wf_cidr_parse(cidr, "cidr", &p, err))
        return err->kind;
    return in_tx(env, who, prefix_tx, &x, err);
}

#define WF_MAX_PREFIXES 1000

/* The facts, then the whole prefix set, in one transaction. */
static pf_kind update_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct facts_ctx *x = vctx;
    const wf_facts_input *in = x->in;
    json_t *facts;
    long long nid;
    if (facts_for_change(c, x, &facts, &nid, err)) /* also when nothing is to change */
        return err->kind;
    json_decref(facts);
    if (in && (in->max_prefix4 || in->max_prefix6 || in->irr_as_set) && facts_set_tx(c, x, err))
        return err->kind;
    return x->replace ? prefix_tx(c, x, err) : PF_OK;
}

static pf_kind check_irr(const char *irr, pf_err *err);

pf_kind wf_network_update(const wf_env *env, const wf_actor *who, const char *asn,
                          const wf_facts_input *facts, const char *const *cidrs, size_t n,
                          bool replace_prefixes, bool force, pf_err *err)
{
    static const wf_facts_input none = {0};
    struct facts_ctx x = {.who = who, .in = facts ? facts : &none, .replace = replace_prefixes,
                          .force = force};
    if (wf_parse_asn(asn, "asn", &x.asn, err))
        return err->kind;
    if (n > WF_MAX_PREFIXES)
        return pf_fail(err, PF_EINVALID, "too_many_prefixes", "prefixes",
                       "at most %d registered prefixes per network", WF_MAX_PREFIXES);
    if (force && who->role != WF_ROLE_OPERATOR)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", "force",
                       "only an exchange operator may force a prefix another network registered");
    wf_cidr *p = calloc(n ? n : 1, sizeof *p);
    if (p == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    pf_kind k = PF_OK;
    for (size_t i = 0; k == PF_OK && i < n; i++)
        k = prefix_check(cidrs[i], "prefixes", &p[i], err);
    if (k == PF_OK)
        k = check_irr(x.in->irr_as_set, err);
    x.prefixes = p;
    x.n = n;
    if (k == PF_OK)
        k = in_tx(env, who, update_tx, &x, err);
    free(p);
    return k;
}

pf_kind wf_network_prefix_replace(const wf_env *env, const wf_actor *who, const char *asn,
                                  const char *const *cidrs, size_t n, bool force, pf_err *err)
{
    return wf_network_update(env, who, asn, NULL, cidrs, n, true, force, err);
}

/* -------------------------------------------- in a request's transaction */

static pf_kind audit_bgp(const wf_env *env, const wf_actor *who, long long id, const char *action,
                         json_t *before, json_t *after, pf_err *err)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    return wf_audit(env->db, who, action, "request", ids, id, before, after, err);
}

pf_kind wf_bgp_approved(const wf_env *env, const wf_actor *who, long long id, bool *exhausted,
                        int *family, pf_err *err)
{
    json_t *got;
    if (db_bgp_allocate(env->db, id, &got, err))
        return err->kind;
    return wf_bgp_approved_with(env, who, id, got, exhausted, family, err);
}

pf_kind wf_bgp_approved_with(const wf_env *env, const wf_actor *who, long long id, json_t *got,
                             bool *exhausted, int *family, pf_err *err)
{
    *exhausted = false;
    json_t *ex = json_object_get(got, "exhausted");
    if (ex) {
        *exhausted = true;
        *family = (int)json_integer_value(ex);
        json_decref(got);
        return PF_OK;
    }
    pf_kind k = PF_OK;
    if (json_array_size(json_object_get(got, "new")) > 0) {
        json_t *after = json_pack("{sO*sO*}", "ipv4", json_object_get(got, "ipv4"), "ipv6",
                                  json_object_get(got, "ipv6"));
        k = audit_bgp(env, who, id, "bgp.allocated", NULL, after, err);
    }
    if (k == PF_OK && json_is_true(json_object_get(got, "md5"))) {
        unsigned char nonce[WF_BGP_NONCE_LEN], sealed[DB_BGP_SEALED_MAX];
        size_t len;
        bool has;
        k = db_bgp_secret_get(env->db, id, nonce, sealed, &len, &has, err);
        if (k == PF_OK && !has) {
            char secret[WF_BGP_SECRET_MAX];
            wf_bgp_secret_generate(secret);
            k = wf_bgp_secret_seal(env->key_dir, secret, nonce, sealed, &len, err);
            sodium_memzero(secret, sizeof secret);
            if (k == PF_OK)
                k = db_bgp_secret_put(env->db, id, nonce, sealed, len, err);
            /* the event says a secret exists, never what it is */
            if (k == PF_OK)
                k = audit_bgp(env, who, id, "bgp.secret_created", NULL,
                              json_pack("{sb}", "md5", 1), err);
        }
    }
    json_decref(got);
    return k;
}

pf_kind wf_bgp_released(const wf_env *env, const wf_actor *who, long long id, pf_err *err)
{
    json_t *gone;
    if (db_bgp_release(env->db, id, &gone, err))
        return err->kind;
    pf_kind k = json_object_size(gone) > 0
                    ? audit_bgp(env, who, id, "bgp.released", json_incref(gone), NULL, err)
                    : PF_OK;
    json_decref(gone);
    return k;
}

/* ---------------------------------------------------------------- reads */

struct session_ctx {
    const wf_env *env;
    const wf_actor *who;
    long long id;
    json_t *session;
    bool has_secret;
    char secret[WF_BGP_SECRET_MAX];
};

static pf_kind session_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct session_ctx *x = vctx;
    if (db_bgp_session(c, x->id, &x->session, err))
        return err->kind;
    unsigned char nonce[WF_BGP_NONCE_LEN], sealed[DB_BGP_SEALED_MAX];
    size_t len = 0;
    if (db_bgp_secret_get(c, x->id, nonce, sealed, &len, &x->has_secret, err))
        return err->kind;
    if (x->has_secret)
        return wf_bgp_secret_open(x->env->key_dir, nonce, sealed, len, x->secret, err);
    return PF_OK;
}

/* The caller's side of the session, or an error for one who may not see
 * its secret. */
static pf_kind party_side(const wf_actor *who, const json_t *s, const char **side, pf_err *err)
{
    long long rn = json_integer_value(json_object_get(json_object_get(s, "requester"), "network_id"));
    if (who->role == WF_ROLE_OPERATOR) {
        *side = NULL;
        return PF_OK;
    }
    if (who->role != WF_ROLE_ADMIN)
        return pf_fail(err, PF_EFORBIDDEN, "admins_only", NULL,
                       "the BGP configuration holds the session's secret: only admins of the "
                       "two networks may read it");
    *side = who->network_id == rn ? "requester" : "peer";
    return PF_OK;
}

static pf_kind read_session(const wf_env *env, const wf_actor *who, long long id,
                            struct session_ctx *x, pf_err *err)
{
    memset(x, 0, sizeof *x);
    x->env = env;
    x->who = who;
    x->id = id;
    db_scope scope = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &scope, session_tx, x, err);
    if (k != PF_OK) {
        json_decref(x->session);
        x->session = NULL;
        sodium_memzero(x->secret, sizeof x->secret);
    }
    return k;
}

pf_kind wf_bgp_secret_for(const wf_env *env, const wf_actor *who, long long id,
                          char out[WF_BGP_SECRET_MAX], bool *has, pf_err *err)
{
    *has = false;
    out[0] = '\0';
    if (who->role != WF_ROLE_OPERATOR && who->role != WF_ROLE_ADMIN)
        return PF_OK;
    struct session_ctx x;
    if (read_session(env, who, id, &x, err))
        return err->kind;
    *has = x.has_secret;
    if (x.has_secret)
        memcpy(out, x.secret, WF_BGP_SECRET_MAX);
    sodium_memzero(x.secret, sizeof x.secret);
    json_decref(x.session);
    return PF_OK;
}

/* The prefixes of a network's facts of one family, as render input. */
static void prefixes_of(const json_t *facts, int family, const char **buf, size_t cap,
                        wf_bgp_prefixes *out)
{
    out->cidr = buf;
    out->n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(facts, "prefixes"), i, v) {
        const char *s = json_string_value(v);
        if (s && (strchr(s, ':') != NULL) == (family == 6) && out->n < cap)
            buf[out->n++] = s;
    }
}

/* "100.64.0.0/31" -> the lower and upper address texts. */
static bool split_block(const char *block, char lo[64], char hi[64], int *plen)
{
    wf_cidr c;
    pf_err e;
    if (block == NULL || wf_cidr_parse(block, "block", &c, &e) != PF_OK)
        return false;
    const char *slash = strchr(c.text, '/');
    snprintf(lo, 64, "%.*s", (int)(slash - c.text), c.text);
    c.addr[(c.family == 4 ? 4 : 16) - 1] |= 1;
    if (inet_ntop(c.family == 4 ? AF_INET : AF_INET6, c.addr, hi, 64) == NULL)
        return false;
    *plen = c.len;
    return true;
}

pf_kind wf_bgp_config(const wf_env *env, const wf_actor *who, long long id, const char *side,
                      const char *daemon, char **out, pf_err *err)
{
    *out = NULL;
    wf_bgp_daemon d;
    if (daemon == NULL || !wf_bgp_daemon_parse(daemon, &d))
        return pf_fail(err, PF_EINVALID, "unknown_daemon", "daemon",
                       "unknown daemon \"%s\": peerflow writes configuration for %s",
                       daemon ? daemon : "", wf_bgp_daemon_list());
    if (side && strcmp(side, "requester") != 0 && strcmp(side, "peer") != 0)
        return pf_fail(err, PF_EINVALID, "bad_side", "side", "side is requester or peer");
    struct session_ctx x;
    if (read_session(env, who, id, &x, err))
        return err->kind;
    const char *mine;
    pf_kind k = party_side(who, x.session, &mine, err);
    if (k == PF_OK && mine == NULL && side == NULL)
        k = pf_fail(err, PF_EINVALID, "side_required", "side",
                    "an operator names the side: requester or peer");
    if (k == PF_OK && mine != NULL && side != NULL && strcmp(side, mine) != 0)
        k = pf_fail(err, PF_EFORBIDDEN, "not_your_side", "side",
                    "you are the %s of request %lld: its %s's configuration is theirs", mine, id,
                    side);
    const char *v4 = json_string_value(json_object_get(x.session, "ipv4"));
    const char *v6 = json_string_value(json_object_get(x.session, "ipv6"));
    if (k == PF_OK && v4 == NULL && v6 == NULL)
        k = pf_fail(err, PF_ECONFLICT, "no_addresses", NULL,
                    "no addresses yet: the circuit is not approved (request %lld is %s)", id,
                    json_string_value(json_object_get(x.session, "state")));
    if (k != PF_OK) {
        json_decref(x.session);
        sodium_memzero(x.secret, sizeof x.secret);
        return k;
    }
    bool requester = strcmp(side ? side : mine, "requester") == 0;
    const json_t *local = json_object_get(x.session, requester ? "requester" : "peer");
    const json_t *remote = json_object_get(x.session, requester ? "peer" : "requester");
    char lo4[64], hi4[64], lo6[64], hi6[64];
    int l4 = 0, l6 = 0;
    wf_bgp_session s = {
        .request_id = id,
        .local_asn = json_integer_value(json_object_get(local, "asn")),
        .remote_asn = json_integer_value(json_object_get(remote, "asn")),
        .local_name = json_string_value(json_object_get(local, "name")),
        .remote_name = json_string_value(json_object_get(remote, "name")),
        .md5_secret = x.has_secret ? x.secret : NULL,
        .max_prefix4 = (int)json_integer_value(json_object_get(remote, "max_prefix4")),
        .max_prefix6 = (int)json_integer_value(json_object_get(remote, "max_prefix6")),
    };
    if (split_block(v4, lo4, hi4, &l4))
        s.v4 = (wf_bgp_family){true, requester ? lo4 : hi4, requester ? hi4 : lo4, l4};
    if (split_block(v6, lo6, hi6, &l6))
        s.v6 = (wf_bgp_family){true, requester ? lo6 : hi6, requester ? hi6 : lo6, l6};
    const char *b[4][WF_MAX_PREFIXES];
    prefixes_of(remote, 4, b[0], WF_MAX_PREFIXES, &s.import4);
    prefixes_of(remote, 6, b[1], WF_MAX_PREFIXES, &s.import6);
    prefixes_of(local, 4, b[2], WF_MAX_PREFIXES, &s.export4);
    prefixes_of(local, 6, b[3], WF_MAX_PREFIXES, &s.export6);
    k = wf_bgp_render(d, &s, out, err);
    json_decref(x.session);
    sodium_memzero(x.secret, sizeof x.secret);
    return k;
}
