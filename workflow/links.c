/* wf_links: see links.h. */
#include "workflow/links.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/changes.h"
#include "db/directory.h"
#include "db/fabric.h"
#include "db/requests.h"
#include "db/tokens.h"
#include "workflow/changes.h"
#include "workflow/requests.h"

/* Everything a link's transaction learns while checking it. */
struct checked {
    wf_token tok;         /* decoded and verified */
    db_token row;         /* its row */
    db_request req;       /* its request, row-locked */
    wf_side side;
    db_change change;     /* the change it decides (row.change_id), row-locked */
};

static pf_kind not_issued(pf_err *err)
{
    return pf_fail(err, PF_ENOTFOUND, "token_unknown", "token",
                   "this approval link is not known here (never issued, or withdrawn): ask "
                   "for a new one");
}

/* A link for a change of a live circuit: the change must still be
 * pending and the link's network the side that did not ask for it. */
static pf_kind check_change(db_conn *c, struct checked *k, pf_err *err)
{
    if (db_change_lock(c, k->req.id, k->row.change_id, &k->change, err))
        return err->kind == PF_ENOTFOUND ? not_issued(err) : err->kind;
    k->side = k->row.network_id == k->req.requester_network_id ? WF_SIDE_REQUESTER
              : k->row.network_id == k->req.peer_network_id    ? WF_SIDE_PEER
                                                               : WF_SIDE_NONE;
    if (k->side == WF_SIDE_NONE || strcmp(wf_side_name(k->side), k->change.side) == 0)
        return not_issued(err);
    if (strcmp(k->change.state, "pending") != 0)
        return pf_fail(err, PF_ECONFLICT, "token_change_decided", "token",
                       "change %lld of request #%lld is %s, no longer waiting for a decision: "
                       "this link no longer works",
                       k->change.id, k->req.id, k->change.state);
    if (strcmp(k->req.state, "active") != 0)
        return pf_fail(err, PF_ECONFLICT, "token_request_closed", "token",
                       "request #%lld is %s: its change can no longer be decided", k->req.id,
                       k->req.state);
    return PF_OK;
}

/* The checks both GET and POST make, inside the transaction. */
static pf_kind check_in_tx(db_conn *c, struct checked *k, pf_err *err)
{
    if (db_token_get(c, k->tok.id, true, &k->row, err))
        return err->kind == PF_ENOTFOUND ? not_issued(err) : err->kind;
    const db_token *r = &k->row;
    char key_hex[WF_KEY_ID_HEX];
    wf_key_id_hex(k->tok.key_id, key_hex);
    /* The row must be the one this exact token was issued for. The hash
     * alone proves that; the fields are compared too so that a wrong row
     * can never be acted on. */
    if (!r->bound || strcmp(r->key_id, key_hex) != 0 || r->request_id != k->tok.request_id ||
        r->network_id != k->tok.network_id || r->actions != k->tok.actions ||
        r->expires != k->tok.expires)
        return not_issued(err);
    if (r->used)
        return pf_fail(err, PF_ECONFLICT, "token_used", "token",
                       "this approval link has already been used: each link works once");
    if (db_request_lock(c, r->request_id, &k->req, err))
        return err->kind == PF_ENOTFOUND ? not_issued(err) : err->kind;
    if (r->change_id != 0)
        return check_change(c, k, err);
    if (strcmp(k->req.state, "pending") != 0)
        return pf_fail(err, PF_ECONFLICT, "token_request_closed", "token",
                       "request #%lld is %s, no longer waiting for a decision: this link no "
                       "longer works",
                       k->req.id, k->req.state);
    k->side = r->network_id == k->req.requester_network_id ? WF_SIDE_REQUESTER
              : r->network_id == k->req.peer_network_id    ? WF_SIDE_PEER
                                                           : WF_SIDE_NONE;
    if (k->side == WF_SIDE_NONE)
        return not_issued(err);
    if (k->side == WF_SIDE_REQUESTER ? k->req.requester_decided : k->req.peer_decided)
        return pf_fail(err, PF_ECONFLICT, "already_decided", NULL,
                       "your network has already decided on request #%lld (with another "
                       "contact's link or in peerflow): nothing more to do",
                       k->req.id);
    return PF_OK;
}

/* Decodes the token and compares its hash with the row's: done outside
 * the transaction for the signature, inside for the hash. */
static pf_kind decode(wf_keyring *keys, const char *text, struct checked *k, pf_err *err)
{
    memset(k, 0, sizeof *k);
    return wf_token_decode(keys, text, (long long)time(NULL), &k->tok, err);
}

static bool hash_matches(const char *text, const db_token *row)
{
    unsigned char h[WF_TOKEN_HASH_BYTES];
    wf_token_hash(text, h);
    return sodium_memcmp(h, row->hash, sizeof h) == 0;
}

static json_t *actions_json(unsigned actions)
{
    json_t *a = json_array();
    if (actions & WF_TOKEN_APPROVE)
        json_array_append_new(a, json_string("approve"));
    if (actions & WF_TOKEN_REJECT)
        json_array_append_new(a, json_string("reject"));
    return a;
}

/* ---------------------------------------------------------------- view */

struct view_ctx {
    const wf_env *env;
    const char *text;
    struct checked k;
    json_t *view;
};

static pf_kind view_tx(db_conn *c, void *v, pf_err *err)
{
    struct view_ctx *x = v;
    json_decref(x->view);
    x->view = NULL;
    if (check_in_tx(c, &x->k, err))
        return err->kind;
    if (!hash_matches(x->text, &x->k.row))
        return not_issued(err);
    json_t *req = NULL;
    if (db_request_get_json(c, x->k.req.id, &req, err))
        return err->kind;
    json_object_del(req, "history"); /* the audit trail is for the web UI */
    json_object_del(req, "circuit");
    db_network net;
    if (db_network_by_id(c, x->k.row.network_id, &net, err)) {
        json_decref(req);
        return err->kind;
    }
    json_t *ports = json_array();
    bool choose = false, ask_vlan = false;
    json_t *only = json_null();
    if (x->k.side == WF_SIDE_PEER && x->k.req.peer_port_id == 0 && x->k.row.change_id == 0) {
        /* The port is the peer's to give: all its ports, however many, and
         * a VLAN field whenever the port may be a trunk (a trunk as the
         * only port included: without it that link could never approve). */
        db_port *p;
        int n = 0;
        if (db_ports_of_network_all(c, net.id, &p, &n, err)) {
            json_decref(req);
            json_decref(ports);
            return err->kind;
        }
        for (int i = 0; i < n; i++) {
            bool trunk = strcmp(p[i].mode, "trunk") == 0;
            json_array_append_new(ports, json_pack("{ss,ss,sb}", "name", p[i].name, "mode",
                                                   p[i].mode, "trunk", trunk));
            ask_vlan = ask_vlan || trunk;
        }
        choose = n > 1;
        if (n == 1) {
            json_decref(only);
            only = json_pack("{ss,ss}", "name", p[0].name, "mode", p[0].mode);
        }
        free(p);
    }
    x->view = json_pack("{so,ss,s{sI,ss},ss,so,sI,sb,so,so,sb}", "request", req, "side",
                        wf_side_name(x->k.side), "network", "asn", (json_int_t)net.asn, "name",
                        net.name, "contact", x->k.row.contact, "actions",
                        actions_json(x->k.row.actions), "token_expires_at",
                        (json_int_t)x->k.row.expires, "choose_port", choose, "ports", ports,
                        "only_port", only, "ask_vlan", ask_vlan);
    if (x->view == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    if (x->k.row.change_id != 0)
        json_object_set_new(x->view, "change",
                            json_pack("{sI,ss,si,si}", "id", (json_int_t)x->k.change.id, "side",
                                      x->k.change.side, "old_bandwidth_mbps",
                                      x->k.change.old_bandwidth_mbps, "bandwidth_mbps",
                                      x->k.change.bandwidth_mbps));
    return PF_OK;
}

pf_kind wf_token_view(const wf_env *env, wf_keyring *keys, const char *token, json_t **view,
                      pf_err *err)
{
    *view = NULL;
    struct view_ctx x = {.env = env, .text = token};
    if (decode(keys, token, &x.k, err))
        return err->kind;
    wf_token tok = x.k.tok;
    db_scope scope = db_scope_network(tok.network_id, 0);
    pf_kind rc = db_run_tx(env->db, &scope, view_tx, &x, err);
    if (rc != PF_OK) {
        json_decref(x.view);
        return rc;
    }
    *view = x.view;
    return PF_OK;
}

/* -------------------------------------------------------------- decide */

struct decide_ctx {
    const wf_env *env;
    const wf_token_decision *d;
    struct checked k;
};

static pf_kind decide_tx(db_conn *c, void *v, pf_err *err)
{
    struct decide_ctx *x = v;
    const wf_token_decision *d = x->d;
    wf_token tok = x->k.tok;
    memset(&x->k, 0, sizeof x->k);
    x->k.tok = tok;
    if (check_in_tx(c, &x->k, err))
        return err->kind;
    if (!hash_matches(d->token, &x->k.row))
        return not_issued(err);
    if (d->decision == NULL || d->decision[0] == '\0')
        return pf_fail(err, PF_EINVALID, "no_decision", "decision",
                       "choose approve or reject: nothing was decided");
    unsigned action = wf_token_action(d->decision);
    if (action == 0)
        return pf_fail(err, PF_EINVALID, "bad_decision", "decision",
                       "the decision is approve or reject, not '%.40s'", d->decision);
    if ((x->k.row.actions & action) == 0)
        return pf_fail(err, PF_EFORBIDDEN, "token_action_not_allowed", "decision",
                       "this link does not allow you to %s", d->decision);

    wf_actor who = {.role = WF_ROLE_CONTACT,
                    .network_id = x->k.row.network_id,
                    .via = "email",
                    .token_id = x->k.row.id};
    snprintf(who.label, sizeof who.label, "%s", x->k.row.contact);
    if (x->k.row.change_id != 0) {
        if ((d->port && *d->port) || d->vlan)
            return pf_fail(err, PF_EINVALID, "unknown_field", d->port && *d->port ? "port" : "vlan",
                           "a change is approved or rejected as it is: it takes no port or VLAN");
        if (wf_change_decide_in_tx(x->env, &who, x->k.req.id, x->k.row.change_id,
                                   action == WF_TOKEN_APPROVE, d->reason, err))
            return err->kind;
    } else {
        wf_decision_input in = {.port = d->port, .vlan = d->vlan, .reason = d->reason};
        if (wf_request_decide_in_tx(x->env, &who, x->k.req.id, action == WF_TOKEN_APPROVE, &in,
                                    err))
            return err->kind;
    }
    if (db_token_mark_used(c, x->k.row.id, err))
        return err->kind;

    char idhex[2 * WF_TOKEN_ID_BYTES + 1];
    sodium_bin2hex(idhex, sizeof idhex, x->k.row.id, WF_TOKEN_ID_BYTES);
    json_t *after = json_pack("{ss,ss,ss,ss?,ss?,ss}", "decision", d->decision, "contact",
                              x->k.row.contact, "token_id", idhex, "client_addr",
                              d->client_addr, "user_agent", d->user_agent, "side",
                              wf_side_name(x->k.side));
    if (after == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    if (x->k.row.change_id != 0)
        json_object_set_new(after, "change", json_integer(x->k.row.change_id));
    return wf_audit(c, &who, "token.used", "approval_token", idhex, x->k.req.id, NULL, after,
                    err);
}

pf_kind wf_token_decide(const wf_env *env, wf_keyring *keys, const wf_token_decision *d,
                        pf_err *err)
{
    struct decide_ctx x = {.env = env, .d = d};
    if (decode(keys, d->token, &x.k, err))
        return err->kind;
    db_scope scope = db_scope_network(x.k.tok.network_id, 0);
    return db_run_tx(env->db, &scope, decide_tx, &x, err);
}

/* ------------------------------------------------------------ delivery */

/* The message goes to the token's contact alone, for its request and
 * side: compared exactly (the contact was copied from the same list the
 * recipients were, in one transaction). */
static bool for_its_contact(const db_token *row, const wf_link_delivery *d)
{
    json_t *rcpt = json_loads(d->recipients ? d->recipients : "", 0, NULL);
    const char *only = json_array_size(rcpt) == 1
                           ? json_string_value(json_array_get(rcpt, 0))
                           : NULL;
    bool ok = only != NULL && strcmp(only, row->contact) == 0 &&
              row->request_id == d->request_id && row->network_id == d->network_id;
    json_decref(rcpt);
    return ok;
}

pf_kind wf_link_token_for_delivery(const wf_env *env, wf_keyring *keys,
                                   const wf_link_delivery *d, char text[WF_TOKEN_TEXT_MAX],
                                   pf_err *err)
{
    const unsigned char *token_id = d->token_id;
    db_token row;
    if (db_token_get(env->db, token_id, false, &row, err))
        return err->kind;
    if (!for_its_contact(&row, d))
        return pf_fail(err, PF_EFORBIDDEN, "link_not_for_recipient", "recipients",
                       "refused to sign the approval link: the message's recipients, request "
                       "or network are not the token's (it was issued to one contact of "
                       "request #%lld); the outbox row was changed - nothing was sent",
                       row.request_id);
    wf_token t = {.request_id = row.request_id,
                  .network_id = row.network_id,
                  .actions = row.actions,
                  .expires = row.expires};
    memcpy(t.id, row.id, WF_TOKEN_ID_BYTES);
    unsigned char h[WF_TOKEN_HASH_BYTES];
    pf_err ignored;
    /* Already bound: the same key gives the same text (Ed25519 is
     * deterministic), so a retry resends exactly the link of the first
     * attempt. If that key was revoked meanwhile, bind the current one. */
    if (row.bound && wf_key_id_parse(row.key_id, t.key_id) &&
        wf_token_encode(keys, &t, false, text, &ignored) == PF_OK) {
        wf_token_hash(text, h);
        if (sodium_memcmp(h, row.hash, sizeof h) == 0)
            return PF_OK;
    }
    if (wf_token_encode(keys, &t, true, text, err))
        return err->kind;
    wf_token_hash(text, h);
    char key_hex[WF_KEY_ID_HEX];
    wf_key_id_hex(t.key_id, key_hex);
    if (db_token_bind(env->db, token_id, key_hex, h, err)) {
        sodium_memzero(text, WF_TOKEN_TEXT_MAX);
        return err->kind;
    }
    return PF_OK;
}
