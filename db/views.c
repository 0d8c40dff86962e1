/* db_views: see views.h. */
#include "db/views.h"
#include "db/db_internal.h"

#define CARD "json_build_object('id', c.id, 'state', c.state, 'version', c.version," \
             " 'requester', c.requester, 'peer', c.peer, 'created_at', c.created_at," \
             " 'updated_at', c.updated_at, 'expires_at', c.expires_at)"

static const db_stmt dashboard = {
    "pf_view_dashboard",
    "SELECT json_build_object("
    " 'waiting', coalesce((SELECT json_agg(" CARD " ORDER BY c.id) FROM (SELECT * FROM"
    "   request_cards c WHERE CASE WHEN $1::bigint IS NULL THEN c.state = 'failed'"
    "         ELSE c.state = 'pending' AND ((c.requester_network_id = $1 AND NOT c.requester_decided)"
    "              OR (c.peer_network_id = $1 AND NOT c.peer_decided)) END"
    "   ORDER BY c.id LIMIT 100) c), '[]'::json),"
    " 'open', coalesce((SELECT json_agg(" CARD " ORDER BY c.id DESC) FROM (SELECT * FROM"
    "   request_cards c WHERE c.state IN ('pending', 'approved', 'provisioning', 'failed',"
    "   'decommissioning') ORDER BY c.id DESC LIMIT 100) c), '[]'::json),"
    " 'active', coalesce((SELECT json_agg(" CARD " ORDER BY c.id DESC) FROM (SELECT * FROM"
    "   request_cards c WHERE c.state = 'active' ORDER BY c.id DESC LIMIT 100) c), '[]'::json))",
    1};

static const db_stmt networks = {
    "pf_view_networks",
    "SELECT coalesce(json_agg(json_build_object('asn', n.asn, 'name', n.name, 'policy', n.policy,"
    " 'auto_approve', n.auto_approve, 'ports', coalesce((SELECT json_agg(json_build_object("
    "   'name', p.name, 'switch', s.name, 'mode', p.mode, 'speed_mbps', p.speed_mbps)"
    "   ORDER BY p.name) FROM ports p JOIN switches s ON s.id = p.switch_id"
    "   WHERE p.network_id = n.id), '[]'::json)) ORDER BY n.asn), '[]'::json) FROM networks n",
    0};

static const db_stmt fabric = {
    "pf_view_fabric",
    "SELECT json_build_object("
    " 'switches', coalesce((SELECT json_agg(json_build_object('name', s.name, 'dpid', s.dpid,"
    "   'endpoint', coalesce(s.endpoint, 'connects to us'), 'conn_state', s.conn_state,"
    "   'conn_changed_at', s.conn_changed_at, 'conn_error', s.conn_error) ORDER BY s.name)"
    "   FROM switches s), '[]'::json),"
    " 'links', coalesce((SELECT json_agg(json_build_object('id', l.id,"
    "   'a', sa.name || ':' || l.a_port, 'b', sb.name || ':' || l.b_port) ORDER BY l.id)"
    "   FROM links l JOIN switches sa ON sa.id = l.a_switch_id"
    "   JOIN switches sb ON sb.id = l.b_switch_id), '[]'::json),"
    " 'ports', coalesce((SELECT json_agg(json_build_object('asn', n.asn, 'network', n.name,"
    "   'name', p.name, 'switch', s.name, 'ofport', p.ofport, 'mode', p.mode,"
    "   'speed_mbps', p.speed_mbps) ORDER BY s.name, p.ofport)"
    "   FROM ports p JOIN networks n ON n.id = p.network_id"
    "   JOIN switches s ON s.id = p.switch_id), '[]'::json))",
    0};

static const db_stmt gauges = {
    "pf_view_gauges",
    "SELECT json_build_object("
    " 'requests_by_state', (SELECT json_object_agg(s.state, (SELECT count(*) FROM"
    "   peering_requests r WHERE r.state = s.state)) FROM request_states s),"
    " 'outbox_pending', (SELECT count(*) FROM outbox WHERE delivered_at IS NULL),"
    " 'jobs_pending', (SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')),"
    " 'switches', coalesce((SELECT json_object_agg(name, conn_state) FROM switches), '{}'::json))",
    0};

static pf_kind one_json(db_conn *c, const db_stmt *s, const char *const *p, json_t **out,
                        pf_err *err)
{
    PGresult *r = db_exec(c, s, p, err);
    if (r == NULL)
        return err->kind;
    json_error_t je;
    *out = json_loads(db_val(r, 0, 0), 0, &je);
    PQclear(r);
    if (*out == NULL)
        return pf_fail(err, PF_EINTERNAL, "bad_json_from_db", NULL,
                       "internal error: the database returned invalid JSON (%s)", je.text);
    return PF_OK;
}

pf_kind db_dashboard_json(db_conn *c, long long network_id, json_t **out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_id(b, network_id)};
    return one_json(c, &dashboard, p, out, err);
}

pf_kind db_networks_json(db_conn *c, json_t **out, pf_err *err)
{
    return one_json(c, &networks, NULL, out, err);
}

pf_kind db_fabric_json(db_conn *c, json_t **out, pf_err *err)
{
    return one_json(c, &fabric, NULL, out, err);
}

pf_kind db_gauges_json(db_conn *c, json_t **out, pf_err *err)
{
    return one_json(c, &gauges, NULL, out, err);
}
