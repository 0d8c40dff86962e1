/* db_views: see views.h. */
#include "db/views.h"
#include "db/db_internal.h"

#define CARD "json_build_object('id', c.id, 'state', c.state, 'version', c.version," \
             " 'requester', c.requester, 'peer', c.peer, 'created_at', c.created_at," \
             " 'updated_at', c.updated_at, 'expires_at', c.expires_at," \
             " 'requester_decided', c.requester_decided, 'peer_decided', c.peer_decided," \
             " 'mine', CASE WHEN $1::bigint IS NULL THEN NULL" \
             "   WHEN c.requester_network_id = $1 THEN 'requester' ELSE 'peer' END)"

/* Two statements: a network's dashboard names its network explicitly so
 * PostgreSQL can use the per-network indexes (row-level security alone
 * would make it scan every open request and filter). Each list picks its
 * 100 ids first and only then builds their cards: the requester and peer
 * halves are each an ordered scan of an index on (network, state, id)
 * that stops at 100 (migrations/0019_dashboard.sql), merged, so a network
 * with thousands of requests costs what one with a hundred does. */
#define HALVES(as_requester, as_peer, order)                                                \
    "(SELECT id FROM ((SELECT r.id FROM peering_requests r WHERE r.requester_network_id = $1" \
    " AND " as_requester " ORDER BY r.id " order " LIMIT 100) UNION ALL (SELECT r.id FROM"    \
    " peering_requests r WHERE r.peer_network_id = $1 AND " as_peer " ORDER BY r.id " order   \
    " LIMIT 100)) u ORDER BY id " order " LIMIT 100)"
#define MINE_IDS(where, order) HALVES(where, where, order)
#define ALL_IDS(where, order) \
    "(SELECT r.id FROM peering_requests r WHERE " where " ORDER BY r.id " order " LIMIT 100)"
#define OPEN_STATES "r.state IN ('pending', 'approved', 'provisioning', 'failed', 'decommissioning')"
#define LIST(ids, order)                                                                   \
    "coalesce((SELECT json_agg(" CARD " ORDER BY c.id " order ") FROM request_cards c"      \
    " WHERE c.id IN " ids "), '[]'::json)"
/* the requester's half of "waiting" asks for no requester decision, the
 * peer's half for no peer decision: one condition per half */
#define UNDECIDED(side) \
    "NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.side = '" side "')"

static const db_stmt dashboard_network = {
    "pf_view_dashboard_network",
    "SELECT json_build_object("
    " 'waiting', " LIST(HALVES("r.state = 'pending' AND " UNDECIDED("requester"),
                               "r.state = 'pending' AND " UNDECIDED("peer"), ""), "") ","
    " 'open', " LIST(MINE_IDS(OPEN_STATES, "DESC"), "DESC") ","
    " 'active', " LIST(MINE_IDS("r.state = 'active'", "DESC"), "DESC") ")",
    1};

static const db_stmt dashboard_operator = {
    "pf_view_dashboard_operator",
    "SELECT json_build_object("
    " 'waiting', " LIST(ALL_IDS("r.state = 'failed'", ""), "") ","
    " 'open', " LIST(ALL_IDS(OPEN_STATES, "DESC"), "DESC") ","
    " 'active', " LIST(ALL_IDS("r.state = 'active'", "DESC"), "DESC") ")",
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
    "   'a', sa.name || ':' || l.a_port, 'b', sb.name || ':' || l.b_port,"
    "   'a_switch', sa.name, 'b_switch', sb.name,"
    "   'circuits', (SELECT count(DISTINCT lv.circuit_id) FROM link_vlans lv"
    "     WHERE lv.link_id = l.id),"
    "   'vlans', coalesce((SELECT json_agg(lv.vlan ORDER BY lv.vlan) FROM link_vlans lv"
    "     WHERE lv.link_id = l.id), '[]'::json)) ORDER BY l.id)"
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
    " 'outbox_pending', (SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
    "   AND dead_at IS NULL),"
    " 'outbox_dead', (SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL),"
    " 'jobs_pending', (SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')),"
    " 'switches', coalesce((SELECT json_object_agg(name, conn_state) FROM switches), '{}'::json),"
    /* the live mastership leases (migrations/0016) */
    " 'masters', coalesce((SELECT json_object_agg(s.name, m.worker) FROM switch_masters m"
    "   JOIN switches s ON s.id = m.switch_id WHERE m.worker <> '' AND m.expires_at > now()),"
    "   '{}'::json),"
    /* traffic counters of circuits on the fabric (migrations/0012) */
    " 'circuits', coalesce((SELECT json_agg(json_build_object('circuit', t.circuit_id,"
    "   'request', c.request_id, 'direction', t.direction, 'bytes', t.bytes_total,"
    "   'packets', t.packets_total) ORDER BY t.circuit_id, t.direction)"
    "   FROM traffic_counters t JOIN circuits c ON c.id = t.circuit_id"
    "   WHERE c.state <> 'removed'), '[]'::json),"
    /* meter drops of capped circuits, once a meter was read (0018) */
    " 'drops', coalesce((SELECT json_agg(json_build_object('circuit', m.circuit_id,"
    "   'request', c.request_id, 'direction', CASE m.end_side WHEN 'a' THEN 'a_to_b'"
    "   ELSE 'b_to_a' END, 'packets', m.dropped_packets_total)"
    "   ORDER BY m.circuit_id, m.end_side)"
    "   FROM circuit_meters m JOIN circuits c ON c.id = m.circuit_id"
    "   WHERE c.state <> 'removed' AND m.drops_sampled_at IS NOT NULL), '[]'::json))",
    0};

/* The VLANs held on each port of a network (request_endpoints: what open
 * and active requests reserve), {"port name": [vlan, ...]}; 0 is an
 * access port's untagged use. */
static const db_stmt port_vlans = {
    "pf_view_port_vlans",
    "SELECT coalesce(json_object_agg(p.name, coalesce((SELECT json_agg(e.vlan ORDER BY e.vlan)"
    "   FROM request_endpoints e WHERE e.port_id = p.id), '[]'::json)), '{}'::json)"
    " FROM ports p WHERE p.network_id = $1",
    1};

static pf_kind one_json(db_conn *c, const db_stmt *s, const char *const *p, json_t **out,
                        pf_err *err)
{
    PGresult *r = db_exec(c, s, p, err);
    if (r == NULL)
        return err->kind;
    return db_json_take(r, out, err);
}

pf_kind db_dashboard_json(db_conn *c, long long network_id, json_t **out, pf_err *err)
{
    if (network_id == 0) {
        const char *none[1] = {NULL}; /* no network: 'mine' is null */
        return one_json(c, &dashboard_operator, none, out, err);
    }
    char b[24];
    const char *p[1] = {db_fmt_ll(b, network_id)};
    return one_json(c, &dashboard_network, p, out, err);
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

pf_kind db_port_vlans_json(db_conn *c, long long network_id, json_t **out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, network_id)};
    return one_json(c, &port_vlans, p, out, err);
}
