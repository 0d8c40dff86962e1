/* wf_requests: see requests.h and docs/lifecycle.md. */
#include "workflow/requests.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/bgp.h"
#include "db/directory.h"
#include "db/fabric.h"
#include "db/provision.h"
#include "db/queue.h"
#include "db/requests.h"
#include "workflow/bgp.h"
#include "workflow/changes.h"
#include "workflow/notify.h"
#include "workflow/validate.h"

/* ------------------------------------------------------------ helpers */

static const char *article(wf_role r)
{
    return (r == WF_ROLE_ADMIN || r == WF_ROLE_ENGINEER || r == WF_ROLE_OPERATOR) ? "an" : "a";
}

pf_kind wf_sm_error(wf_sm_result r, wf_event ev, const char *state, const wf_actor *who,
                    pf_err *err)
{
    const char *what = wf_event_name(ev);
    switch (r) {
    case WF_SM_OK:
        return PF_OK;
    case WF_SM_E_ROLE:
        return pf_fail(err, PF_EFORBIDDEN, "role_not_allowed", NULL,
                       "%s %s may not %s requests%s", article(who->role), wf_role_name(who->role),
                       what,
                       (ev == WF_EV_APPROVE || ev == WF_EV_REJECT || ev == WF_EV_APPROVE_FINAL) &&
                               (who->role == WF_ROLE_ENGINEER || who->role == WF_ROLE_VIEWER)
                           ? ": ask an admin of your network"
                           : "");
    case WF_SM_E_SIDE:
        return pf_fail(err, PF_EFORBIDDEN, "wrong_side", NULL,
                       ev == WF_EV_CANCEL ? "only the requesting network may cancel a request"
                                          : "your network may not %s this request",
                       what);
    case WF_SM_E_TERMINAL:
        return pf_fail(err, PF_ECONFLICT, "request_closed", NULL,
                       "the request is %s and closed: it cannot %s any more", state, what);
    case WF_SM_E_WRONG_STATE:
        return pf_fail(err, PF_ECONFLICT, "illegal_transition", NULL,
                       "cannot %s a request that is %s", what, state);
    case WF_SM_E_INVALID:
        break;
    }
    return pf_fail(err, PF_EINTERNAL, "invalid_argument", NULL, "internal error in the state machine");
}

static wf_side side_of(const wf_actor *who, const db_request *r)
{
    if (who->role == WF_ROLE_OPERATOR || who->role == WF_ROLE_SYSTEM)
        return WF_SIDE_NONE;
    if (who->network_id == r->requester_network_id)
        return WF_SIDE_REQUESTER;
    if (who->network_id == r->peer_network_id)
        return WF_SIDE_PEER;
    return WF_SIDE_NONE;
}

/* Appends "request.<action>" with before/after (stolen JSON objects). */
static pf_kind audit_request(const wf_env *env, const wf_actor *who, long long id,
                             const char *action, json_t *before, json_t *after, pf_err *err)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    return wf_audit(env->db, who, action, "request", ids, id, before, after, err);
}

static json_t *state_json(const char *state, int version)
{
    return json_pack("{ss,si}", "state", state, "version", version);
}

static pf_kind check_vlan_for_port(const db_port *p, int vlan, const char *field, pf_err *err)
{
    if (strcmp(p->mode, "trunk") == 0 && vlan == 0)
        return pf_fail(err, PF_EINVALID, "vlan_required", field,
                       "port %s is a trunk (802.1Q): give the VLAN to use on it (1..4094)",
                       p->name);
    if (strcmp(p->mode, "access") == 0 && vlan != 0)
        return pf_fail(err, PF_EINVALID, "vlan_not_allowed", field,
                       "port %s is an access port (untagged): it takes no VLAN", p->name);
    if (vlan != 0)
        return wf_check_vlan(vlan, field, err);
    return PF_OK;
}

/* The peer's port: the one named, else the one already on the request,
 * else the network's only port. */
static pf_kind resolve_peer_port(db_conn *c, long long network_id, const char *name,
                                 long long current, const db_port *known, int vlan,
                                 const char *port_field, const char *vlan_field, db_port *out,
                                 pf_err *err)
{
    if (name != NULL && *name) {
        /* only "not found" is the user's mistake: a lost connection stays
         * a 503 that db_run_tx can retry */
        pf_kind k = db_port_by_name(c, network_id, name, out, err);
        if (k == PF_ENOTFOUND)
            return pf_fail(err, PF_EINVALID, "unknown_port", port_field,
                           "the peer network has no port named '%s'", name);
        if (k != PF_OK)
            return k;
    } else if (current && known && known->id == current) {
        *out = *known; /* read with the request's lock */
    } else if (current) {
        if (db_port_by_id(c, current, out, err))
            return err->kind;
    } else {
        /* every port, however many: the list in the error is the whole
         * choice, and one port among many is never taken for the only one */
        db_port *ports;
        int n;
        if (db_ports_of_network_all(c, network_id, &ports, &n, err))
            return err->kind;
        if (n == 0) {
            free(ports);
            return pf_fail(err, PF_EINVALID, "peer_has_no_port", port_field,
                           "the peer network has no port on the fabric yet: the exchange "
                           "operators must add one before it can peer");
        }
        if (n > 1) {
            char list[300] = "";
            int shown = 0;
            for (; shown < n; shown++) {
                if (strlen(list) + strlen(ports[shown].name) + 2 >= sizeof list)
                    break;
                strcat(list, shown ? ", " : "");
                strcat(list, ports[shown].name);
            }
            if (shown < n)
                pf_fail(err, PF_EINVALID, "peer_port_required", port_field,
                        "the peer network has several ports (%d: %s and %d more): choose "
                        "one by name",
                        n, list, n - shown);
            else
                pf_fail(err, PF_EINVALID, "peer_port_required", port_field,
                        "the peer network has several ports (%d: %s): choose one", n, list);
            free(ports);
            return PF_EINVALID;
        }
        *out = ports[0];
        free(ports);
    }
    return check_vlan_for_port(out, vlan, vlan_field, err);
}

/* Moves the request to its approved state. The caller appends its
 * decision's audit event, then calls after_approved: the events stay in
 * the order they happened. */
static pf_kind become_approved(const wf_env *env, long long id, int *version,
                               db_request_summary *s, json_t **allocation, pf_err *err)
{
    return db_request_approve(env->db, id, version, s, allocation, err);
}

/* Records the link addresses become_approved allocated (workflow/bgp.h;
 * takes allocation), then the job and the mail of an approval; or, when a
 * pool had no free block, the request fails at once (it keeps its ports;
 * an operator adds a pool and retries it). */
static pf_kind after_approved(const wf_env *env, const wf_actor *who, long long id, int *version,
                              const db_request_summary *s, json_t *allocation, pf_err *err)
{
    bool exhausted;
    int family = 0;
    if (wf_bgp_approved_with(env, who, id, allocation, &exhausted, &family, err))
        return err->kind;
    if (!exhausted) {
        /* the summary of the state change: the addresses are not in a mail */
        if (db_job_enqueue(env->db, "provision", id, err) ||
            wf_notify_summary(env, s, "request_approved", WF_NOTIFY_BOTH, NULL, err))
            return err->kind;
        return PF_OK;
    }
    char why[200];
    snprintf(why, sizeof why,
             "no free IPv%d link addresses: every IPv%d pool is full (an operator adds a pool "
             "with peerflow pool add, then retries the request)",
             family, family);
    wf_actor sys = wf_actor_system("allocator");
    wf_state to;
    wf_sm_result sr = wf_sm_step(WF_S_APPROVED, WF_EV_PROV_FAILED, sys.role, WF_SIDE_NONE, &to);
    if (sr != WF_SM_OK)
        return wf_sm_error(sr, WF_EV_PROV_FAILED, "approved", &sys, err);
    int before = *version;
    json_t *after = state_json("failed", 0);
    if (db_request_set_state(env->db, id, "failed", version, err) ||
        db_request_set_failure(env->db, id, "pool_exhausted", why, err)) {
        json_decref(after);
        return err->kind;
    }
    json_object_set_new(after, "version", json_integer(*version));
    json_object_set_new(after, "code", json_string("pool_exhausted"));
    json_object_set_new(after, "detail", json_string(why));
    if (audit_request(env, &sys, id, "request.state_changed", state_json("approved", before),
                      after, err) ||
        wf_notify(env, id, "request_failed", WF_NOTIFY_BOTH, why, err))
        return err->kind;
    return PF_OK;
}

/* ------------------------------------------------------------- submit */

/* The per-network submission limits (wf_env): a clear 429 with the time
 * to wait. The count runs under the network row's lock, so concurrent
 * submissions cannot all pass the check at once. */
static pf_kind check_quota(const wf_env *env, const wf_actor *who, pf_err *err)
{
    int max_open = env->max_open_requests > 0 ? env->max_open_requests
                                              : WF_DEFAULT_MAX_OPEN_REQUESTS;
    int max_hour = env->max_submissions_per_hour > 0 ? env->max_submissions_per_hour
                                                     : WF_DEFAULT_MAX_SUBMISSIONS_PER_HOUR;
    db_submit_quota q;
    if (db_request_quota(env->db, who->network_id, &q, err))
        return err->kind;
    if (q.open >= max_open) {
        pf_fail(err, PF_ELIMIT, "too_many_open_requests", NULL,
                "your network has %lld open requests, the most this exchange allows: wait "
                "until some are decided, or cancel those you no longer need",
                q.open);
        err->retry_after = 3600;
        return err->kind;
    }
    if (q.last_hour >= max_hour) {
        int wait = q.hour_frees_in > 0 ? q.hour_frees_in : 60;
        pf_fail(err, PF_ELIMIT, "too_many_submissions", NULL,
                "your network submitted %lld requests in the last hour, the most this exchange "
                "allows: try again in %d minute%s",
                q.last_hour, (wait + 59) / 60, (wait + 59) / 60 == 1 ? "" : "s");
        err->retry_after = wait;
        return err->kind;
    }
    return PF_OK;
}

struct submit_ctx {
    const wf_env *env;
    const wf_actor *who;
    const wf_submit_input *in;
    long long id;
};

static pf_kind submit_validate(const wf_submit_input *in, pf_err *err)
{
    if (in->port == NULL || in->port[0] == '\0')
        return pf_fail(err, PF_EINVALID, "missing", "port",
                       "port is required: the name of your port on the fabric");
    if (in->vlan != 0 && wf_check_vlan(in->vlan, "vlan", err))
        return err->kind;
    if (in->peer_vlan != 0 && wf_check_vlan(in->peer_vlan, "peer_vlan", err))
        return err->kind;
    if (in->peer_vlan != 0 && (in->peer_port == NULL || in->peer_port[0] == '\0'))
        return pf_fail(err, PF_EINVALID, "peer_vlan_needs_port", "peer_vlan",
                       "peer_vlan needs peer_port: name the peer's trunk port too");
    if (wf_check_asn(in->peer_asn, "peer_asn", err))
        return err->kind;
    if (in->bandwidth_mbps < 0)
        return pf_fail(err, PF_EINVALID, "bad_bandwidth", "bandwidth_mbps",
                       "bandwidth_mbps must be a positive number of Mbit/s");
    if (in->message != NULL && strlen(in->message) > WF_MESSAGE_MAX)
        return pf_fail(err, PF_EINVALID, "message_too_long", "message",
                       "the message is at most %d characters", WF_MESSAGE_MAX);
    if (in->bgp_md5 && in->no_bgp_ipv4 && in->no_bgp_ipv6)
        return pf_fail(err, PF_EINVALID, "md5_without_session", "bgp_md5",
                       "bgp_md5 is the secret of a BGP session, and this request opts out of "
                       "both: keep bgp_ipv4 or bgp_ipv6");
    return PF_OK;
}

static pf_kind submit_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct submit_ctx *x = vctx;
    const wf_env *env = x->env;
    const wf_actor *who = x->who;
    const wf_submit_input *in = x->in;
    db_port mine, theirs = {0};
    db_network self, peer;

    if (db_network_by_id(c, who->network_id, &self, err) || check_quota(env, who, err))
        return err->kind;
    pf_kind k = db_port_by_name(c, who->network_id, in->port, &mine, err);
    if (k == PF_ENOTFOUND) /* only that: a lost connection stays a 503 */
        return pf_fail(err, PF_EINVALID, "unknown_port", "port",
                       "your network has no port named '%s'", in->port);
    if (k != PF_OK)
        return k;
    if (check_vlan_for_port(&mine, in->vlan, "vlan", err))
        return err->kind;
    k = db_network_by_asn(c, in->peer_asn, &peer, err);
    if (k == PF_ENOTFOUND)
        return pf_fail(err, PF_EINVALID, "unknown_asn", "peer_asn",
                       "no network with ASN %lld is on this exchange", in->peer_asn);
    if (k != PF_OK)
        return k;
    if (peer.id == who->network_id)
        return pf_fail(err, PF_EINVALID, "peer_is_self", "peer_asn",
                       "AS%lld is your own network: pick another network to peer with",
                       peer.asn);
    /* An auto-approving peer decides now, so its port must be known now;
     * anyone else's port is only suggested: the peer reserves it by
     * approving with it, the requester never can. */
    if ((in->peer_port && *in->peer_port) || peer.auto_approve) {
        if (resolve_peer_port(c, peer.id, in->peer_port, 0, NULL, in->peer_vlan, "peer_port",
                              "peer_vlan", &theirs, err))
            return err->kind;
    }
    bool chosen = theirs.id != 0 && peer.auto_approve;

    db_request r = {.requester_network_id = who->network_id,
                    .requester_port_id = mine.id,
                    .requester_vlan = in->vlan,
                    .peer_network_id = peer.id,
                    .peer_port_id = chosen ? theirs.id : 0,
                    .peer_vlan = chosen ? in->peer_vlan : 0,
                    .suggested_peer_port_id = chosen ? 0 : theirs.id,
                    .suggested_peer_vlan = chosen || !theirs.id ? 0 : in->peer_vlan,
                    .bandwidth_mbps = in->bandwidth_mbps,
                    .no_bgp_ipv4 = in->no_bgp_ipv4,
                    .no_bgp_ipv6 = in->no_bgp_ipv6,
                    .bgp_md5 = in->bgp_md5};
    int ttl = env->request_ttl_seconds > 0 ? env->request_ttl_seconds : WF_DEFAULT_TTL_SECONDS;
    if (db_request_insert(c, &r, in->message, who->user_id, ttl, &x->id, err))
        return err->kind;
    long long id = x->id;
    json_t *after = json_pack("{ss,si,s{sI,ss,si},s{sI,ss?,si},si,ss?}", "state", "pending",
                              "version", 1, "requester", "asn", (json_int_t)self.asn, "port",
                              mine.name, "vlan", in->vlan, "peer", "asn", (json_int_t)peer.asn,
                              "port", chosen ? theirs.name : NULL, "vlan", r.peer_vlan,
                              "bandwidth_mbps", in->bandwidth_mbps, "message", in->message);
    if (after != NULL && r.suggested_peer_port_id)
        json_object_set_new(after, "suggested_peer",
                            json_pack("{ss,si}", "port", theirs.name, "vlan", in->peer_vlan));
    if (audit_request(env, who, id, "request.submitted", NULL, after, err))
        return err->kind;

    /* The requester's side: an admin's submission is its approval. */
    bool req_ok = who->role == WF_ROLE_ADMIN;
    if (req_ok) {
        db_approval a = {.request_id = id, .network_id = who->network_id, .side = "requester",
                         .decision = "approve", .user_id = who->user_id, .via = who->via};
        if (db_approval_insert(c, &a, err) ||
            audit_request(env, who, id, "request.approved", NULL,
                          json_pack("{ss,ss,ss}", "side", "requester", "via", who->via, "state",
                                    "pending"),
                          err))
            return err->kind;
    } else if (wf_notify(env, id, "approval_needed", WF_NOTIFY_REQUESTER, NULL, err)) {
        return err->kind;
    }

    /* The peer's side: its policy may approve at once. */
    if (peer.auto_approve) {
        wf_actor policy = wf_actor_system("auto-policy");
        policy.network_id = peer.id;
        db_approval a = {.request_id = id, .network_id = peer.id, .side = "peer",
                         .decision = "approve", .via = "auto-policy"};
        if (db_approval_insert(c, &a, err) ||
            audit_request(env, &policy, id, "request.approved", NULL,
                          json_pack("{ss,ss,ss}", "side", "peer", "via", "auto-policy", "state",
                                    "pending"),
                          err) ||
            wf_notify(env, id, "auto_approved", WF_NOTIFY_PEER, NULL, err))
            return err->kind;
    } else if (wf_notify(env, id, "approval_needed", WF_NOTIFY_PEER, NULL, err)) {
        return err->kind;
    }

    if (req_ok && peer.auto_approve) {
        int v;
        db_request_summary s;
        json_t *allocation;
        if (become_approved(env, id, &v, &s, &allocation, err))
            return err->kind;
        k = audit_request(env, who, id, "request.state_changed", state_json("pending", 1),
                          state_json("approved", v), err);
        if (k == PF_OK)
            k = after_approved(env, who, id, &v, &s, json_incref(allocation), err);
        json_decref(allocation);
        db_request_summary_clear(&s);
        return k;
    }
    return PF_OK;
}

pf_kind wf_request_submit(const wf_env *env, const wf_actor *who, const wf_submit_input *in,
                          long long *id, pf_err *err)
{
    wf_state to;
    wf_sm_result r = wf_sm_step(WF_S_NONE, WF_EV_SUBMIT, who->role,
                                who->network_id ? WF_SIDE_REQUESTER : WF_SIDE_NONE, &to);
    if (r != WF_SM_OK)
        return wf_sm_error(r, WF_EV_SUBMIT, "new", who, err);
    if (submit_validate(in, err))
        return err->kind;
    /* the secret is made when the request is approved: refuse now what
     * could not be done then */
    if (in->bgp_md5 && (env->key_dir == NULL || env->key_dir[0] == '\0'))
        return pf_fail(err, PF_EINVALID, "no_key_dir", "bgp_md5",
                       "this exchange cannot keep BGP session secrets (no PEERFLOW_KEY_DIR is "
                       "configured): submit without bgp_md5, or ask the operators");
    struct submit_ctx x = {.env = env, .who = who, .in = in};
    db_scope scope = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &scope, submit_tx, &x, err);
    if (k == PF_OK)
        *id = x.id;
    return k;
}

/* ----------------------------------------------------------- decisions */

enum decision_kind { D_APPROVE, D_REJECT, D_CANCEL, D_DECOMMISSION };

struct decide_ctx {
    const wf_env *env;
    const wf_actor *who;
    long long id;
    enum decision_kind kind;
    const wf_decision_input *in;
};

/* Locks the request and runs the checks every decision shares. */
static pf_kind lock_and_check(struct decide_ctx *x, db_request *r, wf_side *side, pf_err *err)
{
    if (db_request_lock(x->env->db, x->id, r, err))
        return err->kind;
    *side = side_of(x->who, r);
    if (*side == WF_SIDE_NONE && x->who->role != WF_ROLE_OPERATOR &&
        x->who->role != WF_ROLE_SYSTEM)
        return pf_fail(err, PF_ENOTFOUND, "unknown_request", "id",
                       "no request %lld (or it is not visible to your network)", x->id);
    if (x->in && x->in->version != 0 && x->in->version != r->version)
        return pf_fail(err, PF_ECONFLICT, "stale_version", "version",
                       "request %lld changed since you loaded it (version %d, you sent %d): "
                       "reload it and decide again",
                       x->id, r->version, x->in->version);
    return PF_OK;
}

static pf_kind decide_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct decide_ctx *x = vctx;
    const wf_env *env = x->env;
    const wf_actor *who = x->who;
    db_request r;
    wf_side side = WF_SIDE_NONE;
    if (lock_and_check(x, &r, &side, err))
        return err->kind;
    wf_state from, to;
    if (!wf_state_parse(r.state, &from))
        return pf_fail(err, PF_EINTERNAL, "bad_state", NULL, "unknown state %s", r.state);

    bool approve = x->kind == D_APPROVE;
    bool mine_decided = side == WF_SIDE_REQUESTER ? r.requester_decided : r.peer_decided;
    bool other_approved = side == WF_SIDE_REQUESTER ? r.peer_approved : r.requester_approved;
    wf_event ev = approve                ? wf_sm_approve_event(other_approved)
                  : x->kind == D_REJECT  ? WF_EV_REJECT
                  : x->kind == D_CANCEL  ? WF_EV_CANCEL
                                         : WF_EV_DECOMMISSION;
    wf_sm_result sr = wf_sm_step(from, ev, who->role, side, &to);
    if (sr != WF_SM_OK)
        return wf_sm_error(sr, ev, r.state, who, err);
    if (from == WF_S_PENDING && r.past_expiry)
        return pf_fail(err, PF_ECONFLICT, "request_expired", NULL,
                       "request %lld has passed its expiry and is closing: submit a new one",
                       x->id);
    if ((approve || x->kind == D_REJECT) && mine_decided)
        return pf_fail(err, PF_ECONFLICT, "already_decided", NULL,
                       "your network has already decided on request %lld", x->id);
    const char *reason = x->in ? x->in->reason : NULL;
    if (reason != NULL && strlen(reason) > WF_MESSAGE_MAX)
        return pf_fail(err, PF_EINVALID, "reason_too_long", "reason",
                       "the reason is at most %d characters", WF_MESSAGE_MAX);

    json_t *after = json_object();
    int version = r.version;
    bool touched = false; /* the request row was updated (version bumped) */
    if (approve || x->kind == D_REJECT) {
        if (approve && side == WF_SIDE_PEER) {
            db_port p;
            const char *port = x->in ? x->in->port : NULL;
            int vlan = x->in ? x->in->vlan : 0;
            /* Nothing given: take the port and VLAN the request names, the
             * requester's suggestion until the peer has chosen. */
            long long current = r.peer_port_id ? r.peer_port_id : r.suggested_peer_port_id;
            if ((port == NULL || *port == '\0') && vlan == 0)
                vlan = r.peer_port_id ? r.peer_vlan : r.suggested_peer_vlan;
            if (resolve_peer_port(c, r.peer_network_id, port, current, &r.named_peer_port,
                                  vlan, "port", "vlan", &p, err)) {
                json_decref(after);
                return err->kind;
            }
            if (p.id != r.peer_port_id || vlan != r.peer_vlan) {
                if (db_request_set_peer_endpoint(c, r.id, p.id, vlan, &version, err)) {
                    json_decref(after);
                    return err->kind;
                }
                touched = true;
            }
            json_object_set_new(after, "port", json_string(p.name));
            json_object_set_new(after, "vlan", json_integer(vlan));
        }
        db_approval a = {.request_id = r.id,
                         .network_id = side == WF_SIDE_REQUESTER ? r.requester_network_id
                                                                 : r.peer_network_id,
                         .side = wf_side_name(side),
                         .decision = approve ? "approve" : "reject",
                         .user_id = who->user_id,
                         .via = who->via,
                         .contact = who->role == WF_ROLE_CONTACT ? who->label : NULL,
                         .token_id = who->token_id,
                         .reason = reason};
        if (db_approval_insert(c, &a, err)) {
            json_decref(after);
            return err->kind;
        }
        json_object_set_new(after, "side", json_string(wf_side_name(side)));
        json_object_set_new(after, "via", json_string(who->via));
    }

    const char *mail = NULL;
    bool approved = false;
    db_request_summary summary = {0};
    json_t *allocation = NULL;
    if (to == from) {
        /* a decision that leaves the state (one side approved) is still a
         * change: touching the row bumps the version, so a client holding
         * the old version learns that the other side moved */
        if (!touched && db_request_set_state(c, r.id, r.state, &version, err)) {
            json_decref(after);
            return err->kind;
        }
    } else {
        if (to == WF_S_APPROVED) {
            if (become_approved(env, r.id, &version, &summary, &allocation, err)) {
                json_decref(after);
                return err->kind;
            }
            approved = true;
        } else {
            if (db_request_set_state(c, r.id, wf_state_name(to), &version, err)) {
                json_decref(after);
                return err->kind;
            }
            if (to == WF_S_DECOMMISSIONING && (db_job_enqueue(c, "teardown", r.id, err) ||
                                               wf_change_cancel_open(env, who, r.id, err))) {
                json_decref(after);
                return err->kind;
            }
            mail = to == WF_S_REJECTED          ? "request_rejected"
                   : to == WF_S_CANCELLED       ? "request_cancelled"
                   : to == WF_S_DECOMMISSIONING ? "request_decommissioning"
                                                : NULL;
        }
    }
    json_object_set_new(after, "state", json_string(wf_state_name(to)));
    json_object_set_new(after, "version", json_integer(version));
    if (reason)
        json_object_set_new(after, "reason", json_string(reason));
    static const char *const actions[] = {"request.approved", "request.rejected",
                                          "request.cancelled", "request.decommission_requested"};
    pf_kind k = audit_request(env, who, r.id, actions[x->kind], state_json(r.state, r.version),
                              after, err);
    if (k == PF_OK && approved)
        k = after_approved(env, who, r.id, &version, &summary, json_incref(allocation), err);
    json_decref(allocation);
    db_request_summary_clear(&summary);
    if (k == PF_OK && mail)
        k = wf_notify(env, r.id, mail, WF_NOTIFY_BOTH, reason, err);
    return k;
}

static pf_kind decide(const wf_env *env, const wf_actor *who, long long id,
                      enum decision_kind kind, const wf_decision_input *in, pf_err *err)
{
    if (in != NULL && in->vlan != 0 && wf_check_vlan(in->vlan, "vlan", err))
        return err->kind;
    struct decide_ctx x = {.env = env, .who = who, .id = id, .kind = kind, .in = in};
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, decide_tx, &x, err);
}

/* The same decision inside the caller's open transaction (approval links,
 * workflow/links.c: the token is marked used in that transaction). */
pf_kind wf_request_decide_in_tx(const wf_env *env, const wf_actor *who, long long id,
                                bool approve, const wf_decision_input *in, pf_err *err)
{
    if (in != NULL && in->vlan != 0 && wf_check_vlan(in->vlan, "vlan", err))
        return err->kind;
    struct decide_ctx x = {
        .env = env, .who = who, .id = id, .kind = approve ? D_APPROVE : D_REJECT, .in = in};
    return decide_tx(env->db, &x, err);
}

pf_kind wf_request_approve(const wf_env *env, const wf_actor *who, long long id,
                           const wf_decision_input *in, pf_err *err)
{
    return decide(env, who, id, D_APPROVE, in, err);
}

pf_kind wf_request_reject(const wf_env *env, const wf_actor *who, long long id,
                          const wf_decision_input *in, pf_err *err)
{
    return decide(env, who, id, D_REJECT, in, err);
}

pf_kind wf_request_cancel(const wf_env *env, const wf_actor *who, long long id,
                          const wf_decision_input *in, pf_err *err)
{
    return decide(env, who, id, D_CANCEL, in, err);
}

pf_kind wf_request_decommission(const wf_env *env, const wf_actor *who, long long id,
                                const wf_decision_input *in, pf_err *err)
{
    return decide(env, who, id, D_DECOMMISSION, in, err);
}

/* ---------------------------------------------------- provisioner side */

struct prov_ctx {
    const wf_env *env;
    const wf_actor *who;
    long long id;
    wf_event ev;
    const char *detail;
    long long job_id;   /* the job whose result the event is, or 0 */
    const char *worker; /* its holder */
};

static pf_kind provision_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct prov_ctx *x = vctx;
    db_request r;
    if (db_request_lock(c, x->id, &r, err))
        return err->kind;
    wf_state from, to;
    if (!wf_state_parse(r.state, &from))
        return pf_fail(err, PF_EINTERNAL, "bad_state", NULL, "unknown state %s", r.state);
    wf_sm_result sr = wf_sm_step(from, x->ev, x->who->role, WF_SIDE_NONE, &to);
    if (sr != WF_SM_OK)
        return wf_sm_error(sr, x->ev, r.state, x->who, err);
    /* The job ends in the transaction that moves the request (after the
     * request's row lock, the order a retry takes them in too): a request
     * is never failed while its job is still open, so a retry always
     * finds either no job or one it can re-queue. */
    if (x->job_id) {
        bool owned = false;
        bool ok = x->ev != WF_EV_PROV_FAILED;
        if (db_prov_job_finish(c, x->job_id, x->worker, ok, ok ? NULL : x->detail, &owned, err))
            return err->kind;
        if (!owned)
            return pf_fail(err, PF_ECONFLICT, "job_not_owned", NULL,
                           "job %lld is no longer held by %s (taken over or re-queued by a "
                           "retry): its result is not recorded",
                           x->job_id, x->worker);
    }
    /* a retry needs the addresses a pool could not give before */
    if (x->ev == WF_EV_RETRY) {
        bool exhausted;
        int family;
        if (wf_bgp_approved(x->env, x->who, r.id, &exhausted, &family, err))
            return err->kind;
        if (exhausted)
            return pf_fail(err, PF_ECONFLICT, "pool_exhausted", NULL,
                           "request %lld still has no IPv%d link addresses: every IPv%d pool is "
                           "full; add one with peerflow pool add, then retry",
                           r.id, family, family);
    }
    int version;
    if (db_request_set_state(c, r.id, wf_state_name(to), &version, err))
        return err->kind;
    if (to == WF_S_FAILED || x->ev == WF_EV_RETRY) {
        if (db_request_set_failure(c, r.id, to == WF_S_FAILED ? "provisioning_failed" : NULL,
                                   x->detail ? x->detail : "provisioning failed", err))
            return err->kind;
    }
    if (to == WF_S_DECOMMISSIONED && wf_bgp_released(x->env, x->who, r.id, err))
        return err->kind;
    /* a retry makes the open job (if a worker still holds one) run again,
     * or enqueues one: the request never waits in provisioning without */
    if (x->ev == WF_EV_RETRY && db_job_requeue(c, "provision", r.id, err))
        return err->kind;
    json_t *after = state_json(wf_state_name(to), version);
    if (x->detail)
        json_object_set_new(after, "detail", json_string(x->detail));
    if (audit_request(x->env, x->who, r.id,
                      x->ev == WF_EV_RETRY ? "request.retried" : "request.state_changed",
                      state_json(r.state, r.version), after, err))
        return err->kind;
    const char *mail = to == WF_S_ACTIVE           ? "request_active"
                       : to == WF_S_FAILED         ? "request_failed"
                       : to == WF_S_DECOMMISSIONED ? "request_decommissioned"
                                                   : NULL;
    if (mail && wf_notify(x->env, r.id, mail, WF_NOTIFY_BOTH, x->detail, err))
        return err->kind;
    return PF_OK;
}

pf_kind wf_request_provision_event(const wf_env *env, const wf_actor *who, long long id,
                                   wf_event ev, const char *detail, pf_err *err)
{
    struct prov_ctx x = {.env = env, .who = who, .id = id, .ev = ev, .detail = detail};
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, provision_tx, &x, err);
}

pf_kind wf_request_provision_job_event(const wf_env *env, const wf_actor *who, long long id,
                                       wf_event ev, const char *detail, long long job_id,
                                       const char *worker, pf_err *err)
{
    struct prov_ctx x = {.env = env, .who = who, .id = id, .ev = ev, .detail = detail,
                         .job_id = job_id, .worker = worker};
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, provision_tx, &x, err);
}

/* -------------------------------------------------------------- expiry */

struct expire_ctx {
    const wf_env *env;
    const wf_actor *who;
    const long long *skip;
    size_t n_skip;
    long long id; /* the request tried, 0 when none was due */
};

static pf_kind expire_one_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct expire_ctx *x = vctx;
    x->id = 0;
    long long id;
    if (db_request_next_expired(c, x->skip, x->n_skip, &id, err))
        return err->kind;
    if (id == 0)
        return PF_OK;
    x->id = id;
    struct prov_ctx p = {.env = x->env, .who = x->who, .id = id, .ev = WF_EV_EXPIRE};
    if (provision_tx(c, &p, err))
        return err->kind;
    return wf_notify(x->env, id, "request_expired", WF_NOTIFY_BOTH, NULL, err);
}

pf_kind wf_request_expire_sweep(const wf_env *env, int *n, int *n_failed,
                                wf_expire_failed_fn on_fail, void *arg, pf_err *err)
{
    wf_actor sys = wf_actor_system("expiry");
    struct expire_ctx x = {.env = env, .who = &sys};
    db_scope scope = db_scope_system();
    /* a request that cannot expire is skipped for the rest of the sweep,
     * so it does not hold up the ones behind it */
    long long *failed = NULL;
    size_t nf = 0, cap = 0;
    pf_err first = {0};
    pf_kind rc = PF_OK;
    *n = 0;
    for (;;) {
        x.skip = failed;
        x.n_skip = nf;
        pf_err e = {0};
        pf_kind k = db_run_tx(env->db, &scope, expire_one_tx, &x, &e);
        if (k == PF_OK && x.id == 0)
            break;
        if (k == PF_OK) {
            (*n)++;
            continue;
        }
        if (x.id == 0) { /* not one request: the sweep itself failed */
            if (rc == PF_OK)
                first = e;
            rc = k;
            break;
        }
        if (on_fail)
            on_fail(arg, x.id, &e);
        if (rc == PF_OK) {
            rc = k;
            first = e;
            pf_fail(&first, k, e.code, e.field[0] ? e.field : NULL,
                    "request %lld could not expire: %s", x.id, e.message);
        }
        if (nf == cap) {
            size_t nc = cap ? cap * 2 : 8;
            long long *a = realloc(failed, nc * sizeof *a);
            if (a == NULL)
                break;
            failed = a;
            cap = nc;
        }
        failed[nf++] = x.id;
    }
    free(failed);
    if (n_failed)
        *n_failed = (int)nf;
    if (rc != PF_OK && err)
        *err = first;
    return rc;
}

pf_kind wf_request_expire_due(const wf_env *env, int *n, pf_err *err)
{
    return wf_request_expire_sweep(env, n, NULL, NULL, NULL, err);
}
