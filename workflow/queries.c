/* wf_queries: see queries.h. */
#include "workflow/queries.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/bgp.h"
#include "db/directory.h"
#include "db/fabric.h"
#include "db/views.h"
#include "db/reports.h"
#include "db/requests.h"
#include "workflow/state_machine.h"

struct get_ctx {
    const wf_actor *who;
    long long id;
    const char *state;
    int limit;
    const char *name;
    json_t *json;
    pf_table *table;
    long long stamp;
};

static pf_kind get_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_request_get_json(c, x->id, &x->json, err);
}

static pf_kind list_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_request_list_json(c, x->state, x->id, x->limit, &x->json, err);
}

static pf_kind report_list_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_report_list(c, &x->table, err);
}

static pf_kind report_run_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_report_run(c, x->name, x->id, &x->table, err);
}

pf_kind wf_request_get(const wf_env *env, const wf_actor *who, long long id, json_t **out,
                       pf_err *err)
{
    struct get_ctx x = {.id = id};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, get_tx, &x, err);
    *out = k == PF_OK ? x.json : NULL;
    return k;
}

static bool side_decided(json_t *req, const char *side, bool *approved)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(req, "approvals"), i, a) {
        if (strcmp(json_string_value(json_object_get(a, "side")), side) == 0) {
            if (approved)
                *approved = strcmp(json_string_value(json_object_get(a, "decision")), "approve") == 0;
            return true;
        }
    }
    return false;
}

static pf_kind view_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    /* run again after a reconnect (db_run_read): start from nothing */
    json_decref(x->json);
    x->json = NULL;
    /* the reader's side comes with the request: one statement, one round trip */
    int side_no = 0;
    if (db_request_view_json(c, x->id, x->who->network_id, &x->json, &side_no, &x->stamp, err))
        return err->kind;
    wf_side side = side_no == 1 ? WF_SIDE_REQUESTER : side_no == 2 ? WF_SIDE_PEER : WF_SIDE_NONE;
    wf_state st;
    if (!wf_state_parse(json_string_value(json_object_get(x->json, "state")), &st))
        return pf_fail(err, PF_EINTERNAL, "bad_state", NULL, "unknown request state");
    bool req_ok = false, peer_ok = false;
    bool mine_decided = side_decided(x->json, side == WF_SIDE_PEER ? "peer" : "requester", NULL);
    side_decided(x->json, "requester", &req_ok);
    side_decided(x->json, "peer", &peer_ok);
    bool other_ok = side == WF_SIDE_PEER ? req_ok : peer_ok;
    static const struct {
        const char *name;
        wf_event ev;
    } actions[] = {{"approve", WF_EV_APPROVE}, {"reject", WF_EV_REJECT},
                   {"cancel", WF_EV_CANCEL},   {"decommission", WF_EV_DECOMMISSION},
                   {"retry", WF_EV_RETRY}};
    json_t *can = json_array(), *can_map = json_object();
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        wf_event ev = actions[i].ev == WF_EV_APPROVE ? wf_sm_approve_event(other_ok) : actions[i].ev;
        wf_state to;
        bool decision = ev == WF_EV_APPROVE || ev == WF_EV_APPROVE_FINAL || ev == WF_EV_REJECT;
        if (decision && (side == WF_SIDE_NONE || mine_decided))
            continue;
        if (wf_sm_step(st, ev, x->who->role, side, &to) == WF_SM_OK) {
            json_array_append_new(can, json_string(actions[i].name));
            json_object_set_new(can_map, actions[i].name, json_true());
        }
    }
    /* changes of a live circuit (workflow/changes.h): the open one, and
     * what this user may do about it */
    bool admin = x->who->role == WF_ROLE_ADMIN && side != WF_SIDE_NONE;
    json_t *open = NULL;
    size_t ci;
    json_t *ch;
    json_array_foreach(json_object_get(x->json, "changes"), ci, ch) {
        const char *cs = json_string_value(json_object_get(ch, "state"));
        if (cs && (strcmp(cs, "pending") == 0 || strcmp(cs, "approved") == 0))
            open = ch;
    }
    bool capped = json_integer_value(json_object_get(x->json, "bandwidth_mbps")) > 0;
    if (admin && st == WF_S_ACTIVE && capped && open == NULL) {
        json_array_append_new(can, json_string("modify"));
        json_object_set_new(can_map, "modify", json_true());
    }
    if (open != NULL) {
        bool mine = strcmp(json_string_value(json_object_get(open, "side")),
                           wf_side_name(side == WF_SIDE_NONE ? WF_SIDE_REQUESTER : side)) == 0 &&
                    side != WF_SIDE_NONE;
        bool pending = strcmp(json_string_value(json_object_get(open, "state")), "pending") == 0;
        json_object_set_new(open, "can_decide", json_boolean(admin && pending && !mine));
        json_object_set_new(open, "can_cancel", json_boolean(admin && pending && mine));
        /* inside the template's open_change section {{id}} is the change's */
        json_object_set(open, "request_id", json_object_get(x->json, "id"));
        json_object_set(x->json, "open_change", open);
    }
    json_object_set_new(x->json, "actions", can);
    json_object_set_new(x->json, "can", can_map);
    json_object_set_new(x->json, "my_side",
                        side == WF_SIDE_NONE ? json_null() : json_string(wf_side_name(side)));
    /* The peer picks its port when it approves, unless one is set. */
    bool needs_port = side == WF_SIDE_PEER && st == WF_S_PENDING && !mine_decided &&
                      json_is_null(json_object_get(json_object_get(x->json, "peer"), "port"));
    if (needs_port) {
        db_port *ports; /* every port: the choice is never cut short */
        int n;
        if (db_ports_of_network_all(c, x->who->network_id, &ports, &n, err))
            return err->kind;
        json_t *used;
        if (db_port_vlans_json(c, x->who->network_id, &used, err)) {
            free(ports);
            return err->kind;
        }
        json_t *mine = json_array();
        for (int i = 0; i < n; i++) {
            bool trunk = strcmp(ports[i].mode, "trunk") == 0;
            char free_text[200];
            wf_port_free_text(trunk, json_object_get(used, ports[i].name), free_text,
                              sizeof free_text);
            json_array_append_new(mine, json_pack("{ss,ss,sb,ss}", "name", ports[i].name, "mode",
                                                  ports[i].mode, "trunk", trunk, "free",
                                                  free_text));
        }
        json_decref(used);
        free(ports);
        json_object_set_new(x->json, "my_ports", mine);
        json_object_set_new(x->json, "needs_port", json_true());
    }
    return PF_OK;
}

pf_kind wf_request_view(const wf_env *env, const wf_actor *who, long long id, json_t **out,
                        pf_err *err)
{
    long long stamp;
    bool reusable;
    return wf_request_view_stamped(env, who, id, out, &stamp, &reusable, err);
}

static pf_kind stamp_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_request_stamp(c, x->id, &x->stamp, err);
}

pf_kind wf_request_stamp(const wf_env *env, const wf_actor *who, long long id, long long *stamp,
                         pf_err *err)
{
    struct get_ctx x = {.who = who, .id = id};
    db_scope s = wf_actor_scope(who);
    /* a network's remembered token: the check and the stamp are one
     * statement; a lost connection goes the usual way (it reconnects) */
    if (s.check_token && !s.operator && who->network_id != 0) {
        pf_kind k = db_request_stamp_for_token(env->db, &s, id, stamp, err);
        if (k != PF_EUNAVAIL)
            return k;
    }
    pf_kind k = db_run_read(env->db, &s, stamp_tx, &x, err);
    *stamp = k == PF_OK ? x.stamp : 0;
    return k;
}

pf_kind wf_request_view_stamped(const wf_env *env, const wf_actor *who, long long id,
                                json_t **out, long long *stamp, bool *reusable, pf_err *err)
{
    struct get_ctx x = {.who = who, .id = id};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, view_tx, &x, err);
    json_t *bgp = k == PF_OK ? json_object_get(x.json, "bgp") : NULL;
    bool addressed = bgp && (json_is_object(json_object_get(bgp, "ipv4")) ||
                             json_is_object(json_object_get(bgp, "ipv6")));
    bool may_config = who->role == WF_ROLE_ADMIN || who->role == WF_ROLE_OPERATOR;
    /* the secret, for the two networks' admins (and operators) only */
    if (addressed && may_config && json_is_true(json_object_get(bgp, "md5"))) {
        char secret[WF_BGP_SECRET_MAX];
        bool has;
        k = wf_bgp_secret_for(env, who, id, secret, &has, err);
        if (k == PF_OK && has)
            json_object_set_new(bgp, "md5_secret", json_string(secret));
        sodium_memzero(secret, sizeof secret);
    }
    if (k == PF_OK && addressed && may_config)
        json_object_set_new(json_object_get(x.json, "can"), "bgp_config", json_true());
    if (k != PF_OK) {
        json_decref(x.json);
        x.json = NULL;
    }
    *out = x.json;
    *stamp = x.stamp;
    *reusable = k == PF_OK && json_object_get(x.json, "my_ports") == NULL &&
                json_object_get(bgp, "md5_secret") == NULL;
    return k;
}

pf_kind wf_request_list(const wf_env *env, const wf_actor *who, const char *state, int limit,
                        json_t **out, pf_err *err)
{
    wf_state st;
    if (state != NULL && !wf_state_parse(state, &st))
        return pf_fail(err, PF_EINVALID, "bad_state", "state",
                       "unknown state '%.40s': use pending, approved, provisioning, active, "
                       "failed, decommissioning, decommissioned, rejected, cancelled or expired",
                       state);
    pf_kind k = wf_request_page(env, who, state, 0, limit, out, err);
    if (k == PF_OK)
        json_object_del(*out, "next_before"); /* the CLI's output stays as it was */
    return k;
}

pf_kind wf_request_page(const wf_env *env, const wf_actor *who, const char *state,
                        long long before, int limit, json_t **out, pf_err *err)
{
    wf_state st;
    *out = NULL;
    if (state != NULL && !wf_state_parse(state, &st))
        return pf_fail(err, PF_EINVALID, "bad_state", "state",
                       "unknown state '%.40s': use pending, approved, provisioning, active, "
                       "failed, decommissioning, decommissioned, rejected, cancelled or expired",
                       state);
    if (limit <= 0)
        limit = 100;
    /* one more than asked: whether there is a next page */
    struct get_ctx x = {.state = state, .id = before, .limit = limit + 1};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, list_tx, &x, err);
    if (k)
        return k;
    json_t *list = json_object_get(x.json, "requests");
    bool more = json_array_size(list) > (size_t)limit;
    if (more)
        json_array_remove(list, (size_t)limit);
    json_t *last = json_array_get(list, json_array_size(list) - 1);
    json_object_set_new(x.json, "next_before",
                        more && last ? json_copy(json_object_get(last, "id")) : json_null());
    *out = x.json;
    return PF_OK;
}

pf_kind wf_report_list(const wf_env *env, const wf_actor *who, pf_table **out, pf_err *err)
{
    struct get_ctx x = {0};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, report_list_tx, &x, err);
    *out = k == PF_OK ? x.table : NULL;
    return k;
}

pf_kind wf_report_run(const wf_env *env, const wf_actor *who, const char *name,
                      long long request_id, pf_table **out, pf_err *err)
{
    struct get_ctx x = {.name = name, .id = request_id};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, report_run_tx, &x, err);
    *out = k == PF_OK ? x.table : NULL;
    return k;
}

static pf_kind dashboard_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    pf_kind k = db_dashboard_json(c, x->who->network_id, &x->json, err);
    if (k == PF_OK)
        wf_dashboard_words(x->json, x->who->role);
    return k;
}

/* "AS64501 B Net" of a card's side. */
static void net_name(const json_t *card, const char *side, char *buf, size_t cap)
{
    const json_t *n = json_object_get(card, side);
    snprintf(buf, cap, "AS%lld %s", (long long)json_integer_value(json_object_get(n, "asn")),
             json_string_value(json_object_get(n, "name")) ? json_string_value(json_object_get(n, "name")) : "");
}

static void card_words(json_t *card, wf_role role, bool waiting)
{
    const char *state = json_string_value(json_object_get(card, "state"));
    const char *mine = json_string_value(json_object_get(card, "mine"));
    bool peer_port = json_is_string(json_object_get(json_object_get(card, "peer"), "port"));
    bool rq_done = json_is_true(json_object_get(card, "requester_decided"));
    bool peer_done = json_is_true(json_object_get(card, "peer_decided"));
    bool decider = role == WF_ROLE_ADMIN;
    char req[160], peer[160], text[400];
    net_name(card, "requester", req, sizeof req);
    net_name(card, "peer", peer, sizeof peer);
    if (state == NULL)
        return;
    if (strcmp(state, "pending") == 0 && waiting && mine && strcmp(mine, "peer") == 0)
        snprintf(text, sizeof text,
                 peer_port ? "%s asks to peer with you on the port it suggested: %s approve "
                             "or reject it."
                           : "%s asks to peer with you: %s choose your port (and a VLAN on a "
                             "trunk), then approve or reject it.",
                 req, decider ? "" : "an admin of your network must");
    else if (strcmp(state, "pending") == 0 && waiting && mine)
        snprintf(text, sizeof text,
                 "Your network's own approval, before %s is asked: %s approve it, or cancel "
                 "it.",
                 peer, decider ? "" : "an admin of your network must");
    else if (strcmp(state, "pending") == 0)
        snprintf(text, sizeof text, "Waiting on %s's decision.",
                 !rq_done ? req : !peer_done ? peer : "the last");
    else if (strcmp(state, "approved") == 0)
        snprintf(text, sizeof text, "Both approved: the exchange is building the circuit.");
    else if (strcmp(state, "provisioning") == 0)
        snprintf(text, sizeof text, "Being installed on the switches; active in seconds.");
    else if (strcmp(state, "failed") == 0)
        snprintf(text, sizeof text,
                 role == WF_ROLE_OPERATOR
                     ? "Provisioning failed: the request page says why; fix the fabric, "
                       "then retry it or decommission it."
                     : "Provisioning failed: the exchange's operators are told; you may "
                       "decommission it.");
    else if (strcmp(state, "decommissioning") == 0)
        snprintf(text, sizeof text, "Being removed from the switches.");
    else
        return;
    /* the "%s " of a decider is empty: no double space, capital first */
    char *dbl;
    while ((dbl = strstr(text, ":  ")) != NULL)
        memmove(dbl + 2, dbl + 3, strlen(dbl + 3) + 1);
    json_object_set_new(card, "needs", json_string(text));
}

void wf_dashboard_words(json_t *dashboard, wf_role role)
{
    const char *lists[] = {"waiting", "open"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *card;
        json_array_foreach(json_object_get(dashboard, lists[l]), i, card)
            card_words(card, role, l == 0);
    }
}

static pf_kind networks_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_networks_json(c, &x->json, err);
}

static pf_kind fabric_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_fabric_json(c, &x->json, err);
}

static pf_kind my_ports_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    db_port *ports;
    int n;
    if (db_ports_of_network_all(c, x->who->network_id, &ports, &n, err))
        return err->kind;
    x->json = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(x->json, json_pack("{ss,ss,si,sb}", "name", ports[i].name, "mode",
                                                 ports[i].mode, "speed_mbps",
                                                 ports[i].speed_mbps, "trunk",
                                                 strcmp(ports[i].mode, "trunk") == 0));
    free(ports);
    return PF_OK;
}

static pf_kind run_json(const wf_env *env, const wf_actor *who, db_tx_fn fn, json_t **out,
                        pf_err *err)
{
    struct get_ctx x = {.who = who};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, fn, &x, err);
    *out = k == PF_OK ? x.json : NULL;
    return k;
}

static pf_kind gauges_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_gauges_json(c, &x->json, err);
}

pf_kind wf_gauges(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err)
{
    if (who->role != WF_ROLE_OPERATOR && who->role != WF_ROLE_SYSTEM)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", NULL,
                       "the exchange's metrics are for its operators only");
    return run_json(env, who, gauges_tx, out, err);
}

pf_kind wf_dashboard(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err)
{
    return run_json(env, who, dashboard_tx, out, err);
}

pf_kind wf_networks(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err)
{
    return run_json(env, who, networks_tx, out, err);
}

pf_kind wf_fabric(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err)
{
    if (who->role != WF_ROLE_OPERATOR)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", NULL,
                       "only exchange operators see the fabric");
    return run_json(env, who, fabric_tx, out, err);
}

pf_kind wf_my_ports(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err)
{
    if (who->network_id == 0) {
        *out = json_array();
        return PF_OK;
    }
    return run_json(env, who, my_ports_tx, out, err);
}

pf_kind wf_audit_verify(const wf_env *env, const wf_actor *who, db_audit_verdict *v,
                        pf_err *err)
{
    if (who->role != WF_ROLE_OPERATOR && who->role != WF_ROLE_SYSTEM)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", NULL,
                       "only exchange operators may verify the audit log");
    return db_audit_verify(env->db, v, err);
}

struct user_ctx {
    const char *email;
    db_user u;
};

static pf_kind user_tx(db_conn *c, void *v, pf_err *err)
{
    struct user_ctx *x = v;
    return db_user_by_email(c, x->email, &x->u, err);
}

pf_kind wf_actor_for_user(const wf_env *env, const char *email, const char *via, wf_actor *out,
                          pf_err *err)
{
    struct user_ctx x = {.email = email};
    db_scope s = db_scope_system();
    if (db_run_read(env->db, &s, user_tx, &x, err))
        return err->kind;
    if (x.u.disabled)
        return pf_fail(err, PF_EFORBIDDEN, "user_disabled", "email", "user %s is disabled", email);
    memset(out, 0, sizeof *out);
    if (!wf_role_parse(x.u.role, &out->role))
        return pf_fail(err, PF_EINTERNAL, "bad_role", NULL, "user %s has unknown role %s", email,
                       x.u.role);
    out->user_id = x.u.id;
    out->network_id = x.u.network_id;
    out->via = via;
    snprintf(out->label, sizeof out->label, "%s", x.u.email);
    return PF_OK;
}

void wf_port_free_text(bool trunk, const json_t *used, char *buf, size_t cap)
{
    size_t n = json_array_size(used);
    if (!trunk) {
        snprintf(buf, cap, "%s", n ? "in use" : "free");
        return;
    }
    /* the gaps between the used VLANs, within 1..4094 */
    size_t len = 0;
    int next = 1, ranges = 0;
    for (size_t i = 0; i <= n && len < cap; i++) {
        int v = i < n ? (int)json_integer_value(json_array_get(used, i)) : 4095;
        if (v < next)
            continue;
        if (v > next) {
            int last = v - 1;
            len += (size_t)snprintf(buf + len, cap - len, last > next ? "%s%d–%d" : "%s%d",
                                    ranges ? ", " : "VLANs ", next, last);
            ranges++;
        }
        next = v + 1;
    }
    if (ranges == 0)
        snprintf(buf, cap, "no VLAN free");
    else if (len < cap)
        snprintf(buf + len, cap - len, " free");
}
