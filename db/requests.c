/* db_requests: see requests.h. */
#include "db/requests.h"
#include "db/db_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt ins_request = {
    "pf_request_insert",
    "INSERT INTO peering_requests (requester_network_id, requester_port_id, requester_vlan,"
    " peer_network_id, peer_port_id, peer_vlan, bandwidth_mbps, message, created_by,"
    " expires_at, suggested_peer_port_id, suggested_peer_vlan, bgp_ipv4, bgp_ipv6, bgp_md5)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10), $11, $12,"
    " $13, $14, $15)"
    " RETURNING id",
    15};

/* The lock and the count are two statements, as in db_request_lock: a
 * count in the statement that waited for the lock would use the snapshot
 * from before the wait and miss the submission it waited for (8 at once
 * with room for 3 let 6 through). FOR NO KEY UPDATE does not conflict
 * with the foreign-key locks a request's insert takes on networks. */
static const db_stmt quota_lock = {
    "pf_request_quota_lock",
    "SELECT 1 FROM networks WHERE id = $1 FOR NO KEY UPDATE", 1};

static const db_stmt quota = {
    "pf_request_quota",
    "SELECT (SELECT count(*) FROM peering_requests r JOIN request_states s ON s.state = r.state"
    "         WHERE r.requester_network_id = $1 AND NOT s.terminal),"
    "       h.n, coalesce(ceil(extract(epoch FROM h.oldest + interval '1 hour' - now())), 0)::integer"
    " FROM (SELECT count(*) AS n, min(r.created_at) AS oldest FROM peering_requests r"
    "   WHERE r.requester_network_id = $1 AND r.created_at > now() - interval '1 hour') h",
    1};

/* The row lock and the decisions are two statements on purpose: under READ
 * COMMITTED a statement that waited for the lock re-reads the locked row,
 * but its subqueries keep the snapshot taken before the wait, so a
 * decision committed by the transaction we waited for would be missed
 * (both sides approving at once left requests pending forever). The
 * second statement takes a fresh snapshot, after the lock is ours. */
static const db_stmt lock_request = {
    "pf_request_lock",
    "SELECT r.id, r.requester_network_id, r.requester_port_id, r.requester_vlan,"
    " r.peer_network_id, r.peer_port_id, r.peer_vlan, r.bandwidth_mbps, r.state, r.version,"
    " r.expires_at < now(), r.suggested_peer_port_id, r.suggested_peer_vlan"
    " FROM peering_requests r WHERE r.id = $1"
    " AND ($2::bigint IS NULL OR $2 IN (r.requester_network_id, r.peer_network_id))"
    " FOR UPDATE OF r",
    2};

static const db_stmt request_decisions = {
    "pf_request_decisions",
    "SELECT coalesce(bool_or(side = 'requester'), false),"
    " coalesce(bool_or(side = 'peer'), false),"
    " coalesce(bool_or(side = 'requester' AND decision = 'approve'), false),"
    " coalesce(bool_or(side = 'peer' AND decision = 'approve'), false)"
    " FROM approvals WHERE request_id = $1",
    1};

static const db_stmt set_state = {
    "pf_request_set_state",
    "UPDATE peering_requests SET state = $2 WHERE id = $1 RETURNING version", 2};

/* The summary's columns (pf_request_summary) of r after the change. */
static const db_stmt set_state_summary = {
    "pf_request_set_state_summary",
    "WITH r AS (UPDATE peering_requests SET state = $2 WHERE id = $1 RETURNING *)"
    " SELECT r.id, r.state, rn.id, pn.id, rn.asn, pn.asn, rn.name, pn.name, rp.name, pp.name,"
    " r.requester_vlan, r.peer_vlan, array_to_json(rn.contacts), array_to_json(pn.contacts),"
    " r.message, r.version"
    " FROM r"
    " JOIN networks rn ON rn.id = r.requester_network_id"
    " JOIN ports rp ON rp.id = r.requester_port_id"
    " JOIN networks pn ON pn.id = r.peer_network_id"
    " LEFT JOIN ports pp ON pp.id = r.peer_port_id",
    2};

/* The peer's port the request names, for the decision (the lock's third
 * statement: the row as the lock left it). */
static const db_stmt named_peer_port = {
    "pf_request_named_peer_port",
    "SELECT p.id, p.network_id, p.switch_id, p.ofport, p.name, p.mode, p.speed_mbps"
    " FROM peering_requests r"
    " JOIN ports p ON p.id = coalesce(r.peer_port_id, r.suggested_peer_port_id)"
    " WHERE r.id = $1",
    1};

static const db_stmt set_peer_endpoint = {
    "pf_request_set_peer",
    "UPDATE peering_requests SET peer_port_id = $2, peer_vlan = $3 WHERE id = $1"
    " RETURNING version", 3};

static const db_stmt ins_approval = {
    "pf_approval_insert",
    "INSERT INTO approvals (request_id, network_id, side, decision, user_id, via, contact,"
    " token_id, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'hex'), $9)",
    9};

static const db_stmt summary = {
    "pf_request_summary",
    "SELECT r.id, r.state, rn.id, pn.id, rn.asn, pn.asn, rn.name, pn.name, rp.name, pp.name,"
    " r.requester_vlan, r.peer_vlan, array_to_json(rn.contacts), array_to_json(pn.contacts),"
    " r.message"
    " FROM peering_requests r"
    " JOIN networks rn ON rn.id = r.requester_network_id"
    " JOIN ports rp ON rp.id = r.requester_port_id"
    " JOIN networks pn ON pn.id = r.peer_network_id"
    " LEFT JOIN ports pp ON pp.id = r.peer_port_id"
    " WHERE r.id = $1 AND ($2::bigint IS NULL OR $2 IN (r.requester_network_id, r.peer_network_id))",
    2};

static const db_stmt next_expired = {
    "pf_request_next_expired",
    "SELECT id FROM peering_requests WHERE state = 'pending' AND expires_at < now()"
    " AND id <> ALL ($1::bigint[])"
    " ORDER BY expires_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
    1};

/* One endpoint of a request as JSON. */
#define ENDPOINT_JSON(net, port, vlan)                                                   \
    "json_build_object('asn', " net ".asn, 'name', " net ".name, 'port', " port ".name,"  \
    " 'switch', (SELECT s.name FROM switches s WHERE s.id = " port ".switch_id),"        \
    " 'mode', " port ".mode, 'vlan', " vlan ")"

/* The request as JSON (one column), and the FROM and WHERE that name it:
 * pf_request_get, and pf_request_view that adds the reader's side. */
#define REQUEST_JSON \
    "json_build_object(" \
    " 'id', r.id, 'state', r.state, 'version', r.version," \
    " 'requester', " ENDPOINT_JSON("rn", "rp", "r.requester_vlan") "," \
    " 'peer', " ENDPOINT_JSON("pn", "pp", "r.peer_vlan") "," \
    " 'suggested_peer', CASE WHEN r.suggested_peer_port_id IS NOT NULL THEN json_build_object(" \
    "   'port', (SELECT p.name FROM ports p WHERE p.id = r.suggested_peer_port_id)," \
    "   'vlan', r.suggested_peer_vlan) END," \
    " 'bandwidth_mbps', r.bandwidth_mbps, 'message', r.message," \
    " 'bgp', json_build_object(" \
    "   'ipv4', (SELECT json_build_object('requester_ip', host(a.net), 'peer_ip'," \
    "       host(a.net::inet + 1), 'prefix_length', masklen(a.net))" \
    "     FROM circuit_addresses a WHERE a.request_id = r.id AND a.family = 4)," \
    "   'ipv6', (SELECT json_build_object('requester_ip', host(a.net), 'peer_ip'," \
    "       host(a.net::inet + 1), 'prefix_length', masklen(a.net))" \
    "     FROM circuit_addresses a WHERE a.request_id = r.id AND a.family = 6)," \
    "   'md5', r.bgp_md5, 'requested', json_build_object('ipv4', r.bgp_ipv4, 'ipv6', r.bgp_ipv6))," \
    " 'failure', CASE WHEN r.failure_code IS NOT NULL THEN json_build_object(" \
    "   'code', r.failure_code, 'message', r.failure_message) END," \
    " 'created_at', r.created_at, 'updated_at', r.updated_at, 'expires_at', r.expires_at," \
    " 'approved_at', r.approved_at, 'active_at', r.active_at, 'closed_at', r.closed_at," \
    " 'approvals', coalesce((SELECT json_agg(json_build_object(" \
    "     'side', a.side, 'asn', n.asn, 'decision', a.decision, 'via', a.via," \
    "     'user', a.user_email, 'contact', a.contact, 'reason', a.reason, 'at', a.at)" \
    "     ORDER BY a.at)" \
    "   FROM approvals a JOIN networks n ON n.id = a.network_id" \
    "   WHERE a.request_id = r.id), '[]'::json)," \
    " 'circuit', (SELECT json_build_object('id', c.id, 'state', c.state, 'path', c.path," \
    "     'error', c.error, 'cookie'," \
    "     '0x' || lpad(to_hex(x'5046000000000000'::bigint | c.id), 16, '0'))" \
    "   FROM circuits c WHERE c.request_id = r.id)," \
    " 'changes', coalesce((SELECT json_agg(json_build_object(" \
    "     'id', ch.id, 'state', ch.state, 'side', ch.side, 'old_bandwidth_mbps'," \
    "     ch.old_bandwidth_mbps, 'bandwidth_mbps', ch.bandwidth_mbps, 'reason', ch.reason," \
    "     'decided_by', ch.decided_by, 'error', ch.error, 'created_at', ch.created_at," \
    "     'decided_at', ch.decided_at, 'applied_at', ch.applied_at) ORDER BY ch.id)" \
    "   FROM request_changes ch WHERE ch.request_id = r.id), '[]'::json)," \
    /* the history as reports.request_history gives it: one rule for what \
     * a network sees of it (where a link was used from is the operators') */ \
    " 'history', coalesce((SELECT json_agg(json_build_object(" \
    "     'seq', h.seq, 'at', h.at, 'actor', h.actor, 'actor_kind', h.actor_kind," \
    "     'action', h.action, 'before', h.before, 'after', h.after) ORDER BY h.seq)" \
    "   FROM reports.request_history h WHERE h.request_id = r.id), '[]'::json))"

#define REQUEST_FROM \
" FROM peering_requests r" \
    " JOIN networks rn ON rn.id = r.requester_network_id" \
    " JOIN ports rp ON rp.id = r.requester_port_id" \
    " JOIN networks pn ON pn.id = r.peer_network_id" \
    " LEFT JOIN ports pp ON pp.id = r.peer_port_id" \
    " WHERE r.id = $1 AND ($2::bigint IS NULL OR $2 IN (r.requester_network_id, r.peer_network_id))"

static const db_stmt get_request = {
    "pf_request_get", "SELECT " REQUEST_JSON REQUEST_FROM, 2};

/* The request's stamp (migrations/0020_request_touches.sql). */
#define REQUEST_STAMP "(SELECT count(*) FROM request_touches t WHERE t.request_id = r.id)"

/* The side of network $3 (the reader's, 0 for none) in the same
 * statement: 1 requester, 2 peer, 0 neither (the view needs no second
 * round trip to find it); and the stamp, in the JSON's snapshot. */
static const db_stmt view_request = {
    "pf_request_view",
    "SELECT " REQUEST_JSON ", CASE WHEN r.requester_network_id = $3 THEN 1"
    " WHEN r.peer_network_id = $3 THEN 2 ELSE 0 END, " REQUEST_STAMP REQUEST_FROM,
    3};

static const db_stmt request_stamp = {
    "pf_request_stamp",
    "SELECT " REQUEST_STAMP " FROM peering_requests r"
    " WHERE r.id = $1 AND ($2::bigint IS NULL OR $2 IN (r.requester_network_id, r.peer_network_id))",
    2};

static const db_stmt list_requests = {
    "pf_request_list",
    "SELECT json_build_object('requests', coalesce(json_agg(x ORDER BY x.id DESC), '[]'::json))"
    " FROM (SELECT c.id, c.state, c.version, c.created_at, c.updated_at, c.expires_at,"
    "   c.requester, c.peer FROM request_cards c"
    "  WHERE ($1::text IS NULL OR c.state = $1)"
    "   AND ($3::bigint IS NULL OR $3 IN (c.requester_network_id, c.peer_network_id))"
    "   AND ($4::bigint IS NULL OR c.id < $4)"
    "  ORDER BY c.id DESC LIMIT $2) x",
    4};

/* The one answer for a request that does not exist or that the caller's
 * network is not a party to: the two are never told apart. */
static pf_kind not_visible(long long id, pf_err *err)
{
    return pf_fail(err, PF_ENOTFOUND, "unknown_request", "id",
                   "no request %lld (or it is not visible to your network)", id);
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* Fills out from the summary's 15 columns of row 0 (takes r). */
static pf_kind summary_from_result(PGresult *r, db_request_summary *out, pf_err *err)
{
    out->id = db_ll(r, 0, 0);
    copy(out->state, sizeof out->state, db_val(r, 0, 1));
    out->requester_network_id = db_ll(r, 0, 2);
    out->peer_network_id = db_ll(r, 0, 3);
    out->requester_asn = db_ll(r, 0, 4);
    out->peer_asn = db_ll(r, 0, 5);
    out->requester_name = strdup(db_val(r, 0, 6) ? db_val(r, 0, 6) : "");
    out->peer_name = strdup(db_val(r, 0, 7) ? db_val(r, 0, 7) : "");
    copy(out->requester_port, sizeof out->requester_port, db_val(r, 0, 8));
    copy(out->peer_port, sizeof out->peer_port, db_val(r, 0, 9));
    out->requester_vlan = (int)db_ll(r, 0, 10);
    out->peer_vlan = (int)db_ll(r, 0, 11);
    out->requester_contacts = strdup(db_val(r, 0, 12) ? db_val(r, 0, 12) : "[]");
    out->peer_contacts = strdup(db_val(r, 0, 13) ? db_val(r, 0, 13) : "[]");
    out->message = strdup(db_val(r, 0, 14) ? db_val(r, 0, 14) : "");
    PQclear(r);
    if (!out->requester_name || !out->peer_name || !out->requester_contacts ||
        !out->peer_contacts || !out->message) {
        db_request_summary_clear(out);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    return PF_OK;
}

pf_kind db_request_summary_get(db_conn *c, long long id, db_request_summary *out,
                               pf_err *err)
{
    char b[24], nb[24];
    const char *p[2] = {db_fmt_ll(b, id), db_scope_param(c, nb)};
    memset(out, 0, sizeof *out);
    PGresult *r = db_exec_one(c, &summary, p, "unknown_request", "no such request", err);
    if (r == NULL)
        return err->kind;
    return summary_from_result(r, out, err);
}

pf_kind db_request_set_state_summary(db_conn *c, long long id, const char *state,
                                     int *new_version, db_request_summary *out, pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, id), state};
    memset(out, 0, sizeof *out);
    PGresult *r = db_exec_one(c, &set_state_summary, p, "unknown_request", "no such request",
                              err);
    if (r == NULL)
        return err->kind;
    if (new_version)
        *new_version = (int)db_ll(r, 0, 15);
    return summary_from_result(r, out, err);
}

pf_kind db_request_approve(db_conn *c, long long id, int *new_version,
                           db_request_summary *out, json_t **allocation, pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, id), "approved"};
    /* the allocation goes in the pipeline of the state change that allows it */
    const db_stmt *const st[2] = {&set_state_summary, &db_bgp_allocate_stmt};
    const char *const *const ps[2] = {p, p};
    PGresult *res[2];
    memset(out, 0, sizeof *out);
    *allocation = NULL;
    if (db_exec_pipelined(c, 2, st, ps, res, err))
        return err->kind;
    if (PQntuples(res[0]) != 1 || PQntuples(res[1]) != 1) {
        PQclear(res[0]);
        PQclear(res[1]);
        return pf_fail(err, PF_ENOTFOUND, "unknown_request", NULL, "no such request");
    }
    if (db_json_take(res[1], allocation, err)) {
        PQclear(res[0]);
        return err->kind;
    }
    if (new_version)
        *new_version = (int)db_ll(res[0], 0, 15);
    pf_kind k = summary_from_result(res[0], out, err);
    if (k != PF_OK) {
        json_decref(*allocation);
        *allocation = NULL;
    }
    return k;
}

void db_request_summary_clear(db_request_summary *s)
{
    free(s->requester_name);
    free(s->peer_name);
    free(s->requester_contacts);
    free(s->peer_contacts);
    free(s->message);
    s->requester_name = s->peer_name = s->requester_contacts = s->peer_contacts = s->message =
        NULL;
}

pf_kind db_request_insert(db_conn *c, const db_request *r, const char *message,
                          long long created_by, int expiry_seconds, long long *id, pf_err *err)
{
    char b[11][24];
    const char *p[15] = {
        db_fmt_ll(b[0], r->requester_network_id), db_fmt_ll(b[1], r->requester_port_id),
        db_fmt_id(b[2], r->requester_vlan),       db_fmt_ll(b[3], r->peer_network_id),
        db_fmt_id(b[4], r->peer_port_id),         db_fmt_id(b[5], r->peer_vlan),
        db_fmt_id(b[6], r->bandwidth_mbps),       message && *message ? message : NULL,
        db_fmt_id(b[7], created_by),              db_fmt_ll(b[8], expiry_seconds),
        db_fmt_id(b[9], r->suggested_peer_port_id), db_fmt_id(b[10], r->suggested_peer_vlan),
        r->no_bgp_ipv4 ? "false" : "true",        r->no_bgp_ipv6 ? "false" : "true",
        r->bgp_md5 ? "true" : "false",
    };
    PGresult *res = db_exec(c, &ins_request, p, err);
    if (res == NULL)
        return err->kind;
    *id = db_ll(res, 0, 0);
    PQclear(res);
    return PF_OK;
}

pf_kind db_request_lock(db_conn *c, long long id, db_request *out, pf_err *err)
{
    char b[24], nb[24];
    const char *p[2] = {db_fmt_ll(b, id), db_scope_param(c, nb)};
    /* three statements in one round trip: the later ones still start
     * after the first has the lock, each with its own snapshot */
    const db_stmt *const st[3] = {&lock_request, &request_decisions, &named_peer_port};
    const char *const *const ps[3] = {p, p, p};
    PGresult *res[3];
    if (db_exec_pipelined(c, 3, st, ps, res, err))
        return err->kind;
    PGresult *r = res[0];
    if (PQntuples(r) != 1) {
        PQclear(r);
        PQclear(res[1]);
        PQclear(res[2]);
        return not_visible(id, err);
    }
    memset(out, 0, sizeof *out);
    out->id = db_ll(r, 0, 0);
    out->requester_network_id = db_ll(r, 0, 1);
    out->requester_port_id = db_ll(r, 0, 2);
    out->requester_vlan = (int)db_ll(r, 0, 3);
    out->peer_network_id = db_ll(r, 0, 4);
    out->peer_port_id = db_ll(r, 0, 5);
    out->peer_vlan = (int)db_ll(r, 0, 6);
    out->bandwidth_mbps = (int)db_ll(r, 0, 7);
    snprintf(out->state, sizeof out->state, "%s", db_val(r, 0, 8));
    out->version = (int)db_ll(r, 0, 9);
    out->past_expiry = db_bool(r, 0, 10);
    out->suggested_peer_port_id = db_ll(r, 0, 11);
    out->suggested_peer_vlan = (int)db_ll(r, 0, 12);
    PQclear(r);
    r = res[1];
    out->requester_decided = db_bool(r, 0, 0);
    out->peer_decided = db_bool(r, 0, 1);
    out->requester_approved = db_bool(r, 0, 2);
    out->peer_approved = db_bool(r, 0, 3);
    PQclear(r);
    r = res[2];
    db_port *pp = &out->named_peer_port;
    if (PQntuples(r) == 1) {
        pp->id = db_ll(r, 0, 0);
        pp->network_id = db_ll(r, 0, 1);
        pp->switch_id = db_ll(r, 0, 2);
        pp->ofport = db_ll(r, 0, 3);
        copy(pp->name, sizeof pp->name, db_val(r, 0, 4));
        copy(pp->mode, sizeof pp->mode, db_val(r, 0, 5));
        pp->speed_mbps = (int)db_ll(r, 0, 6);
    }
    PQclear(r);
    return PF_OK;
}

pf_kind db_request_set_state(db_conn *c, long long id, const char *state, int *new_version,
                             pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, id), state};
    PGresult *r = db_exec_one(c, &set_state, p, "unknown_request", "no such request", err);
    if (r == NULL)
        return err->kind;
    if (new_version)
        *new_version = (int)db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

pf_kind db_request_set_peer_endpoint(db_conn *c, long long id, long long port_id, int vlan,
                                     int *new_version, pf_err *err)
{
    char b[3][24];
    const char *p[3] = {db_fmt_ll(b[0], id), db_fmt_ll(b[1], port_id), db_fmt_id(b[2], vlan)};
    PGresult *r = db_exec_one(c, &set_peer_endpoint, p, "unknown_request", "no such request", err);
    if (r == NULL)
        return err->kind;
    if (new_version)
        *new_version = (int)db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

pf_kind db_approval_insert(db_conn *c, const db_approval *a, pf_err *err)
{
    char b[3][24], tok[33];
    if (a->token_id)
        sodium_bin2hex(tok, sizeof tok, a->token_id, 16);
    const char *p[9] = {db_fmt_ll(b[0], a->request_id), db_fmt_ll(b[1], a->network_id),
                        a->side, a->decision, db_fmt_id(b[2], a->user_id), a->via,
                        a->contact, a->token_id ? tok : NULL, a->reason};
    /* the state change that follows reads it (the guard trigger), so it
     * goes out in that statement's pipeline, before it */
    return db_defer(c, &ins_approval, p, err);
}

pf_kind db_request_next_expired(db_conn *c, const long long *skip, size_t n_skip, long long *id,
                                pf_err *err)
{
    /* {1,2,3}: the ids this sweep could not expire */
    size_t cap = 3 + n_skip * 21;
    char *arr = malloc(cap);
    if (arr == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    size_t len = (size_t)snprintf(arr, cap, "{");
    for (size_t i = 0; i < n_skip; i++)
        len += (size_t)snprintf(arr + len, cap - len, "%s%lld", i ? "," : "", skip[i]);
    snprintf(arr + len, cap - len, "}");
    const char *p[1] = {arr};
    PGresult *r = db_exec(c, &next_expired, p, err);
    free(arr);
    if (r == NULL)
        return err->kind;
    *id = PQntuples(r) == 1 ? db_ll(r, 0, 0) : 0;
    PQclear(r);
    return PF_OK;
}


pf_kind db_request_get_json(db_conn *c, long long id, json_t **out, pf_err *err)
{
    char b[24], nb[24];
    const char *p[2] = {db_fmt_ll(b, id), db_scope_param(c, nb)};
    PGresult *r = db_exec(c, &get_request, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return not_visible(id, err);
    }
    return db_json_take(r, out, err);
}

pf_kind db_request_view_json(db_conn *c, long long id, long long my_network_id, json_t **out,
                             int *side, long long *stamp, pf_err *err)
{
    char b[24], nb[24], mb[24];
    const char *p[3] = {db_fmt_ll(b, id), db_scope_param(c, nb), db_fmt_ll(mb, my_network_id)};
    PGresult *r = db_exec(c, &view_request, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return not_visible(id, err);
    }
    *side = (int)db_ll(r, 0, 1);
    *stamp = db_ll(r, 0, 2);
    return db_json_take(r, out, err);
}

static const db_stmt request_stamp_for = {
    "pf_request_stamp_for",
    "SELECT pf_request_stamp_for(decode($1, 'hex'), $2, $3, $4, $5)", 5};

pf_kind db_request_stamp_for_token(db_conn *c, const db_scope *scope, long long id,
                                   long long *stamp, pf_err *err)
{
    char b[24];
    const char *rest[1] = {db_fmt_ll(b, id)};
    PGresult *r = db_exec_token_checked(c, scope, &request_stamp_for, rest, err);
    if (r == NULL)
        return err->kind;
    long long n = PQntuples(r) == 1 ? db_ll(r, 0, 0) : 0;
    PQclear(r);
    if (n <= 0)
        return not_visible(id, err);
    *stamp = n;
    return PF_OK;
}

pf_kind db_request_stamp(db_conn *c, long long id, long long *stamp, pf_err *err)
{
    char b[24], nb[24];
    const char *p[2] = {db_fmt_ll(b, id), db_scope_param(c, nb)};
    PGresult *r = db_exec(c, &request_stamp, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return not_visible(id, err);
    }
    *stamp = db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

pf_kind db_request_list_json(db_conn *c, const char *state, long long before, int limit,
                             json_t **out, pf_err *err)
{
    char b[24], nb[24], bb[24];
    const char *p[4] = {state, db_fmt_ll(b, limit), db_scope_param(c, nb),
                        before > 0 ? db_fmt_ll(bb, before) : NULL};
    PGresult *r = db_exec(c, &list_requests, p, err);
    if (r == NULL)
        return err->kind;
    return db_json_take(r, out, err);
}

pf_kind db_request_quota(db_conn *c, long long network_id, db_submit_quota *out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, network_id)};
    PGresult *r = db_exec_one(c, &quota_lock, p, "unknown_network", "no such network", err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    r = db_exec_one(c, &quota, p, "unknown_network", "no such network", err);
    if (r == NULL)
        return err->kind;
    out->open = db_ll(r, 0, 0);
    out->last_hour = db_ll(r, 0, 1);
    out->hour_frees_in = (int)db_ll(r, 0, 2);
    PQclear(r);
    return PF_OK;
}
