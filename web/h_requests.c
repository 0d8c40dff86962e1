/* Handlers of peering requests - the same for pages and the JSON API:
 * list, the new-request form, create, show, and the decisions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pf_table.h"
#include "web/http.h"
#include "workflow/queries.h"
#include "workflow/requests.h"
#include "workflow/validate.h"

void web_h_request_list(web_ctx *ctx)
{
    pf_err err = {0};
    json_t *state = json_object_get(ctx->query, "state");
    const char *st = json_is_string(state) && json_string_length(state) ? json_string_value(state)
                                                                         : NULL;
    /* pages of 50 by id: ?before=ID (the last id of the page before) */
    long long before = 0;
    json_t *b = json_object_get(ctx->query, "before");
    if (json_is_string(b) && json_string_length(b) &&
        wf_parse_int(json_string_value(b), "before", 1, INT64_MAX, &before, &err) != PF_OK) {
        web_error(ctx, &err);
        return;
    }
    json_t *doc;
    if (wf_request_page(&ctx->env, &ctx->session.actor, st, before, 50, &doc, &err)) {
        web_error(ctx, &err);
        return;
    }
    json_object_set_new(doc, "state", st ? json_string(st) : json_null());
    json_object_set_new(doc, "paged", json_boolean(before > 0));
    /* the filter's choices, the current one selected */
    static const char *const states[] = {"pending",        "approved",  "provisioning",
                                         "active",         "failed",    "decommissioning",
                                         "decommissioned", "rejected",  "cancelled",
                                         "expired",        NULL};
    json_t *opts = json_array();
    for (int i = 0; states[i]; i++)
        json_array_append_new(opts, json_pack("{ss,sb}", "name", states[i], "selected",
                                              st && strcmp(st, states[i]) == 0));
    json_object_set_new(doc, "states", opts);
    web_view(ctx, 200, "requests", doc);
}

/* A JSON value as a CSV cell: text as it is, numbers in decimal, null
 * (and a missing field) as NULL - an empty cell. */
static const char *cell(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

/* GET /requests.csv and /api/v1/requests.csv: every request the actor
 * sees (?state= filters, ?before= starts below an id, as the list), as
 * RFC 4180 CSV - the list's report. Read in pages of 1000 so a long list
 * is never one large query; each page is its own snapshot, which for ids
 * that only grow (the list goes down from the newest) loses nothing. */
void web_h_request_list_csv(web_ctx *ctx)
{
    pf_err err = {0};
    json_t *state = json_object_get(ctx->query, "state");
    const char *st = json_is_string(state) && json_string_length(state) ? json_string_value(state)
                                                                         : NULL;
    long long before = 0;
    json_t *b = json_object_get(ctx->query, "before");
    if (json_is_string(b) && json_string_length(b) &&
        wf_parse_int(json_string_value(b), "before", 1, INT64_MAX, &before, &err) != PF_OK) {
        web_error(ctx, &err);
        return;
    }
    static const char *const cols[] = {
        "id",           "state",         "requester_asn", "requester_network",
        "requester_port", "requester_vlan", "peer_asn",     "peer_network",
        "peer_port",    "peer_vlan",     "created_at",    "updated_at"};
    enum { NCOLS = sizeof cols / sizeof cols[0] };
    pf_table *t = pf_table_new(NCOLS);
    for (int i = 0; t && i < NCOLS; i++)
        pf_table_set_name(t, i, cols[i]);
    bool oom = t == NULL;
    for (;;) {
        json_t *doc;
        if (wf_request_page(&ctx->env, &ctx->session.actor, st, before, 1000, &doc, &err)) {
            pf_table_free(t);
            web_error(ctx, &err);
            return;
        }
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(doc, "requests"), i, r) {
            char nb[NCOLS][24];
            const json_t *rq = json_object_get(r, "requester"), *pe = json_object_get(r, "peer");
            const json_t *v[NCOLS] = {
                json_object_get(r, "id"),         json_object_get(r, "state"),
                json_object_get(rq, "asn"),       json_object_get(rq, "name"),
                json_object_get(rq, "port"),      json_object_get(rq, "vlan"),
                json_object_get(pe, "asn"),       json_object_get(pe, "name"),
                json_object_get(pe, "port"),      json_object_get(pe, "vlan"),
                json_object_get(r, "created_at"), json_object_get(r, "updated_at")};
            const char *row[NCOLS];
            for (int c = 0; c < NCOLS; c++)
                row[c] = cell(v[c], nb[c], sizeof nb[c]);
            if (!oom && !pf_table_add_row(t, row))
                oom = true;
        }
        json_t *next = json_object_get(doc, "next_before");
        before = json_is_integer(next) ? (long long)json_integer_value(next) : 0;
        json_decref(doc);
        if (before == 0 || oom)
            break;
    }
    if (oom) {
        pf_table_free(t);
        pf_fail(&err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        web_error(ctx, &err);
        return;
    }
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    pf_table_write_csv(t, f);
    fclose(f);
    pf_table_free(t);
    snprintf(ctx->extra_header_name, sizeof ctx->extra_header_name, "Content-Disposition");
    /* the state in the file name only when it is a plain word (a header) */
    bool word = st && strlen(st) < 32 && strspn(st, "abcdefghijklmnopqrstuvwxyz_") == strlen(st);
    snprintf(ctx->extra_header_value, sizeof ctx->extra_header_value,
             "%s; filename=\"peerflow-requests%s%s.csv\"", ctx->is_api ? "inline" : "attachment",
             word ? "-" : "", word ? st : "");
    web_text(ctx, 200, "text/csv; charset=utf-8", buf, blen);
}

/* The form's view: my ports, the directory, typed values, field errors. */
static void new_form(web_ctx *ctx, int status, json_t *values, const pf_err *failed)
{
    pf_err err = {0};
    json_t *ports, *networks;
    if (wf_my_ports(&ctx->env, &ctx->session.actor, &ports, &err) ||
        wf_networks(&ctx->env, &ctx->session.actor, &networks, &err)) {
        json_decref(values);
        web_error(ctx, &err);
        return;
    }
    /* mark the port chosen before, so the form keeps it */
    const char *chosen = json_string_value(json_object_get(values, "port"));
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        json_object_set_new(p, "selected", json_boolean(chosen && strcmp(chosen, name) == 0));
    }
    /* the peer's port is chosen from the peers' ports, grouped by network;
     * the one typed before stays chosen (for that peer only) */
    const char *peer_asn = json_string_value(json_object_get(values, "peer_asn"));
    const char *peer_port = json_string_value(json_object_get(values, "peer_port"));
    json_t *n;
    json_array_foreach(networks, i, n) {
        json_t *nports = json_object_get(n, "ports");
        json_object_set_new(n, "has_ports", json_boolean(json_array_size(nports) > 0));
        char asn[24];
        snprintf(asn, sizeof asn, "%lld", (long long)json_integer_value(json_object_get(n, "asn")));
        bool this_peer = peer_asn && strcmp(peer_asn, asn) == 0;
        size_t j;
        json_array_foreach(nports, j, p) {
            const char *name = json_string_value(json_object_get(p, "name"));
            json_object_set_new(p, "selected", json_boolean(this_peer && peer_port && name &&
                                                            strcmp(peer_port, name) == 0));
        }
    }
    json_t *errors = json_object();
    if (failed) {
        /* an unknown field has no place on the form: its error goes on top */
        bool on_top = failed->field[0] == '\0' || strcmp(failed->code, "unknown_field") == 0;
        json_object_set_new(errors, on_top ? "form" : failed->field,
                            json_string(failed->message));
        if (on_top)
            json_object_set_new(errors, "any", json_true());
    }
    json_t *view = json_pack("{so,so,so,so}", "ports", ports, "networks", networks, "values",
                             values ? values : json_object(), "errors", errors);
    web_view(ctx, status, "request_new", view);
}

void web_h_request_new(web_ctx *ctx)
{
    new_form(ctx, 200, NULL, NULL);
}

/* The fields of a submission (POST /requests, the form and the API). */
static const char *const submit_fields[] = {
    "port",    "vlan",     "peer_asn", "peer_port", "peer_vlan", "bandwidth_mbps",
    "message", "bgp_ipv4", "bgp_ipv6", "bgp_md5",   NULL};

/* Reads the submission; false with err on a malformed or unknown field. */
static bool read_submit(web_ctx *ctx, wf_submit_input *in, pf_err *err)
{
    long long peer = 0, vlan, peer_vlan, bw;
    bool v4, v6;
    json_t *pv = ctx->input ? json_object_get(ctx->input, "peer_asn") : NULL;
    if (!web_input_only(ctx, submit_fields, err) ||
        !web_input_text(ctx, "port", 64, &in->port, err) ||
        !web_input_text(ctx, "peer_port", 64, &in->peer_port, err) ||
        !web_input_text(ctx, "message", WF_MESSAGE_MAX, &in->message, err) ||
        !web_input_int(ctx, "vlan", -100000, 100000, &vlan, err) ||
        !web_input_int(ctx, "peer_vlan", -100000, 100000, &peer_vlan, err) ||
        !web_input_int(ctx, "bandwidth_mbps", 1, 100000000, &bw, err) ||
        !web_input_bool(ctx, "bgp_ipv4", true, &v4, err) ||
        !web_input_bool(ctx, "bgp_ipv6", true, &v6, err) ||
        !web_input_bool(ctx, "bgp_md5", false, &in->bgp_md5, err))
        return false;
    in->no_bgp_ipv4 = !v4;
    in->no_bgp_ipv6 = !v6;
    if (json_is_integer(pv)) {
        peer = json_integer_value(pv);
        if (wf_check_asn(peer, "peer_asn", err))
            return false;
    } else if (json_is_string(pv) && json_string_length(pv) > 0) {
        if (wf_parse_asn(json_string_value(pv), "peer_asn", &peer, err))
            return false;
    } else if (pv != NULL && !json_is_null(pv) && !json_is_string(pv)) {
        pf_fail(err, PF_EINVALID, "wrong_type", "peer_asn", "peer_asn must be an AS number");
        return false;
    } else {
        pf_fail(err, PF_EINVALID, "missing", "peer_asn",
                "peer_asn is required: the AS number of the network to peer with");
        return false;
    }
    if ((vlan && wf_check_vlan(vlan, "vlan", err)) ||
        (peer_vlan && wf_check_vlan(peer_vlan, "peer_vlan", err)))
        return false;
    in->peer_asn = peer;
    in->vlan = (int)vlan;
    in->peer_vlan = (int)peer_vlan;
    in->bandwidth_mbps = (int)bw;
    return true;
}

void web_h_request_create(web_ctx *ctx)
{
    pf_err err = {0};
    if (ctx->input == NULL) {
        pf_fail(&err, PF_EINVALID, ctx->input_malformed ? "malformed_json" : "missing", NULL,
                ctx->input_malformed ? "the body is not a JSON object (or a form): fix its syntax"
                                     : "send the request's fields (port, peer_asn, ...)");
        web_error(ctx, &err);
        return;
    }
    wf_submit_input in = {0};
    long long id = 0;
    if (!read_submit(ctx, &in, &err) ||
        wf_request_submit(&ctx->env, &ctx->session.actor, &in, &id, &err)) {
        if (ctx->is_api || err.kind == PF_EFORBIDDEN) {
            web_error(ctx, &err);
            return;
        }
        /* the form again, the typed values kept, the error beside its field */
        json_t *values = json_deep_copy(ctx->input);
        json_object_del(values, "csrf");
        /* the selects and the checkbox as they were */
        json_object_set_new(values, "bgp_ipv4_off", json_boolean(in.no_bgp_ipv4));
        json_object_set_new(values, "bgp_ipv6_off", json_boolean(in.no_bgp_ipv6));
        json_object_set_new(values, "bgp_md5_on", json_boolean(in.bgp_md5));
        new_form(ctx, web_status_for(&err), values, &err);
        return;
    }
    if (!ctx->is_api) {
        char loc[64];
        snprintf(loc, sizeof loc, "/requests/%lld", id);
        web_redirect(ctx, loc);
        return;
    }
    json_t *view;
    if (wf_request_view(&ctx->env, &ctx->session.actor, id, &view, &err)) {
        web_error(ctx, &err);
        return;
    }
    snprintf(ctx->extra_header_name, sizeof ctx->extra_header_name, "Location");
    snprintf(ctx->extra_header_value, sizeof ctx->extra_header_value, "/api/v1/requests/%lld", id);
    web_view(ctx, 201, "request", view);
}

/* The request page, with an optional error of a refused decision. */
void web_request_page(web_ctx *ctx, long long id, int status, const pf_err *failed)
{
    pf_err err = {0};
    json_t *view;
    if (wf_request_view(&ctx->env, &ctx->session.actor, id, &view, &err)) {
        web_error(ctx, &err);
        return;
    }
    if (failed)
        json_object_set_new(view, "error", json_string(failed->message));
    web_traffic_decorate(ctx, id, view);
    web_view(ctx, status, "request", view);
}

/* GET /api/v1/requests/ID: the answer kept for this reader, when the
 * database confirms in the read's one round trip (token check and scope
 * included) that nothing it shows has changed since (web/read_cache.h);
 * otherwise the view, kept for the next read when it may be. */
static void api_request_show(web_ctx *ctx, long long id)
{
    const wf_actor *who = &ctx->session.actor;
    web_read_key key = {.request_id = id, .user_id = who->user_id,
                        .network_id = who->network_id, .role = (int)who->role};
    web_read_cache *cache = ctx->read_cache;
    pf_err err = {0};
    long long kept, stamp;
    if (cache != NULL && web_read_cache_stamp(cache, &key, &kept)) {
        if (wf_request_stamp(&ctx->env, who, id, &stamp, &err)) {
            web_read_cache_forget(cache, &key);
            web_error(ctx, &err);
            return;
        }
        char *body;
        size_t len;
        if (stamp == kept && web_read_cache_copy(cache, &key, stamp, &body, &len)) {
            web_text(ctx, 200, "application/json", body, len);
            return;
        }
    }
    json_t *view;
    bool reusable;
    if (wf_request_view_stamped(&ctx->env, who, id, &view, &stamp, &reusable, &err)) {
        if (cache != NULL)
            web_read_cache_forget(cache, &key);
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, "request", view);
    if (cache != NULL && reusable && ctx->status == 200 && ctx->body != NULL)
        web_read_cache_put(cache, &key, stamp, ctx->body, ctx->body_len);
}

void web_h_request_show(web_ctx *ctx)
{
    long long id;
    if (!web_param_id(ctx, 0, &id))
        return;
    if (ctx->is_api)
        api_request_show(ctx, id);
    else
        web_request_page(ctx, id, 200, NULL);
}

/* The fields each decision accepts: a field of another action (a port on
 * a reject) is refused, not ignored. */
static const char *const approve_fields[] = {"version", "port", "vlan", "reason", NULL};
static const char *const close_fields[] = {"version", "reason", NULL};
static const char *const retry_fields[] = {"version", NULL};

static const char *const *decision_fields(const char *action)
{
    if (strcmp(action, "approve") == 0)
        return approve_fields;
    if (strcmp(action, "reject") == 0 || strcmp(action, "cancel") == 0 ||
        strcmp(action, "decommission") == 0)
        return close_fields;
    if (strcmp(action, "retry") == 0)
        return retry_fields;
    return NULL;
}

void web_h_request_decide(web_ctx *ctx)
{
    long long id, version = 0, vlan = 0;
    pf_err err = {0};
    if (!web_param_id(ctx, 0, &id))
        return;
    const char *action = ctx->params[1];
    const char *const *fields = decision_fields(action);
    if (fields == NULL) {
        pf_fail(&err, PF_ENOTFOUND, "not_found", NULL,
                "there is no action '%.40s': use approve, reject, cancel, decommission or retry",
                action);
        web_error(ctx, &err);
        return;
    }
    if (ctx->input_malformed) {
        pf_fail(&err, PF_EINVALID, "malformed_json", NULL,
                "the body is not a JSON object: fix its syntax");
        web_error(ctx, &err);
        return;
    }
    wf_decision_input in = {0};
    if (!web_input_only(ctx, fields, &err) ||
        !web_input_int(ctx, "version", 1, 2147483647, &version, &err) ||
        !web_input_int(ctx, "vlan", -100000, 100000, &vlan, &err) ||
        !web_input_text(ctx, "port", 64, &in.port, &err) ||
        !web_input_text(ctx, "reason", WF_MESSAGE_MAX, &in.reason, &err) ||
        (vlan && wf_check_vlan(vlan, "vlan", &err))) {
        if (ctx->is_api)
            web_error(ctx, &err);
        else
            web_request_page(ctx, id, web_status_for(&err), &err);
        return;
    }
    in.version = (int)version;
    in.vlan = (int)vlan;
    pf_kind k;
    const wf_actor *who = &ctx->session.actor;
    if (strcmp(action, "approve") == 0)
        k = wf_request_approve(&ctx->env, who, id, &in, &err);
    else if (strcmp(action, "reject") == 0)
        k = wf_request_reject(&ctx->env, who, id, &in, &err);
    else if (strcmp(action, "cancel") == 0)
        k = wf_request_cancel(&ctx->env, who, id, &in, &err);
    else if (strcmp(action, "decommission") == 0)
        k = wf_request_decommission(&ctx->env, who, id, &in, &err);
    else if (strcmp(action, "retry") == 0)
        k = wf_request_provision_event(&ctx->env, who, id, WF_EV_RETRY, NULL, &err);
    else
        k = pf_fail(&err, PF_ENOTFOUND, "not_found", NULL,
                    "there is no action '%.40s': use approve, reject, cancel, decommission or retry",
                    action);
    if (k != PF_OK) {
        if (ctx->is_api || k == PF_ENOTFOUND)
            web_error(ctx, &err);
        else
            web_request_page(ctx, id, web_status_for(&err), &err);
        return;
    }
    if (!ctx->is_api) {
        char loc[64];
        snprintf(loc, sizeof loc, "/requests/%lld", id);
        web_redirect(ctx, loc);
        return;
    }
    web_request_page(ctx, id, 200, NULL);
}
