-- Operator reports: plain SQL views in the schema "reports", runnable from
-- psql (SELECT * FROM reports.open_requests), from `peerflow report NAME`
-- and from the web. security_invoker makes them run with the reader's
-- rights, so row-level security applies: a network's user sees only rows
-- of requests it is a party of. The view comment is the description that
-- `peerflow report list` prints.

CREATE SCHEMA reports;
GRANT USAGE ON SCHEMA reports TO peerflow_app;

CREATE VIEW reports.open_requests WITH (security_invoker = true) AS
SELECT r.id AS request_id,
       rn.asn AS requester_asn, rn.name AS requester,
       pn.asn AS peer_asn, pn.name AS peer,
       r.state,
       date_trunc('second', now() - r.created_at) AS age,
       CASE
         WHEN r.state = 'pending' THEN
           CASE
             WHEN NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.side = 'requester')
              AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.side = 'peer')
               THEN 'both'
             WHEN NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.side = 'peer')
               THEN 'peer'
             ELSE 'requester'
           END
         WHEN r.state IN ('approved', 'provisioning', 'decommissioning') THEN 'provisioner'
         WHEN r.state = 'failed' THEN 'operator'
         ELSE 'nobody'
       END AS waiting_on,
       r.created_at, r.expires_at
  FROM peering_requests r
  JOIN networks rn ON rn.id = r.requester_network_id
  JOIN networks pn ON pn.id = r.peer_network_id
 WHERE r.state IN ('pending', 'approved', 'provisioning', 'failed', 'decommissioning')
 ORDER BY r.created_at;
COMMENT ON VIEW reports.open_requests IS 'open requests by age and the side they wait on';

CREATE VIEW reports.approval_times WITH (security_invoker = true) AS
SELECT to_char(date_trunc('month', r.created_at), 'YYYY-MM') AS month,
       count(*) AS requests,
       count(r.approved_at) AS approved,
       count(r.active_at) AS activated,
       make_interval(secs => round(percentile_cont(0.5) WITHIN GROUP
         (ORDER BY extract(epoch FROM r.approved_at - r.created_at)))::double precision) AS median_to_approval,
       make_interval(secs => round(percentile_cont(0.9) WITHIN GROUP
         (ORDER BY extract(epoch FROM r.approved_at - r.created_at)))::double precision) AS p90_to_approval,
       make_interval(secs => round(percentile_cont(0.5) WITHIN GROUP
         (ORDER BY extract(epoch FROM r.active_at - r.created_at)))::double precision) AS median_to_active,
       make_interval(secs => round(percentile_cont(0.9) WITHIN GROUP
         (ORDER BY extract(epoch FROM r.active_at - r.created_at)))::double precision) AS p90_to_active
  FROM peering_requests r
 GROUP BY 1
 ORDER BY 1;
COMMENT ON VIEW reports.approval_times IS 'time from submission to approval and to active, median and p90, per month';

CREATE VIEW reports.active_circuits_by_network WITH (security_invoker = true) AS
SELECT n.asn, n.name,
       count(r.id) AS active_circuits
  FROM networks n
  LEFT JOIN peering_requests r
         ON r.state = 'active' AND n.id IN (r.requester_network_id, r.peer_network_id)
 GROUP BY n.id, n.asn, n.name
 ORDER BY active_circuits DESC, n.asn;
COMMENT ON VIEW reports.active_circuits_by_network IS 'active circuits per network';

CREATE VIEW reports.active_circuits_by_switch WITH (security_invoker = true) AS
SELECT s.name AS switch, s.dpid,
       count(DISTINCT r.id) AS active_circuits
  FROM switches s
  LEFT JOIN (
        SELECT p.switch_id, e.request_id
          FROM request_endpoints e JOIN ports p ON p.id = e.port_id
        UNION
        SELECT f.switch_id, c.request_id
          FROM flows f JOIN circuits c ON c.id = f.circuit_id
       ) used ON used.switch_id = s.id
  LEFT JOIN peering_requests r ON r.id = used.request_id AND r.state = 'active'
 GROUP BY s.id, s.name, s.dpid
 ORDER BY active_circuits DESC, s.name;
COMMENT ON VIEW reports.active_circuits_by_switch IS 'active circuits per switch (at either end or in transit)';

CREATE VIEW reports.vlan_use_by_port WITH (security_invoker = true) AS
SELECT n.asn, p.name AS port, s.name AS switch, p.ofport, p.mode,
       count(r.id) AS live_requests,
       coalesce(array_to_string(array_agg(e.vlan ORDER BY e.vlan)
                FILTER (WHERE e.vlan > 0 AND r.id IS NOT NULL), ','), '') AS vlans
  FROM ports p
  JOIN networks n ON n.id = p.network_id
  JOIN switches s ON s.id = p.switch_id
  LEFT JOIN request_endpoints e ON e.port_id = p.id
  LEFT JOIN peering_requests r ON r.id = e.request_id
 GROUP BY n.asn, p.id, p.name, s.name, p.ofport, p.mode
 ORDER BY n.asn, p.name;
COMMENT ON VIEW reports.vlan_use_by_port IS 'VLANs held by live requests on each member port';

CREATE VIEW reports.vlan_use_by_link WITH (security_invoker = true) AS
SELECT l.id AS link,
       sa.name || ':' || l.a_port AS a, sb.name || ':' || l.b_port AS b,
       count(v.vlan) AS transport_vlans,
       coalesce(array_to_string(array_agg(v.vlan ORDER BY v.vlan) FILTER (WHERE v.vlan IS NOT NULL), ','), '') AS vlans
  FROM links l
  JOIN switches sa ON sa.id = l.a_switch_id
  JOIN switches sb ON sb.id = l.b_switch_id
  LEFT JOIN link_vlans v ON v.link_id = l.id
 GROUP BY l.id, sa.name, sb.name
 ORDER BY l.id;
COMMENT ON VIEW reports.vlan_use_by_link IS 'transport VLANs used by circuits on each inter-switch link';

CREATE VIEW reports.failed_provisioning WITH (security_invoker = true) AS
SELECT r.id AS request_id, rn.asn AS requester_asn, pn.asn AS peer_asn,
       r.state, c.id AS circuit, c.attempts,
       coalesce(c.error,
                (SELECT e.after ->> 'detail' FROM audit_events e
                  WHERE e.request_id = r.id AND e.after ->> 'state' = 'failed'
                  ORDER BY e.seq DESC LIMIT 1)) AS error,
       r.updated_at
  FROM peering_requests r
  JOIN networks rn ON rn.id = r.requester_network_id
  JOIN networks pn ON pn.id = r.peer_network_id
  LEFT JOIN circuits c ON c.request_id = r.id
 WHERE r.state = 'failed' OR c.error IS NOT NULL
 ORDER BY r.updated_at DESC;
COMMENT ON VIEW reports.failed_provisioning IS 'requests whose provisioning failed, with the error';

CREATE VIEW reports.request_history WITH (security_invoker = true) AS
SELECT e.request_id, e.seq, e.at, e.actor_kind, e.actor_label AS actor,
       e.action, e.before, e.after
  FROM audit_events e
 WHERE e.request_id IS NOT NULL
 ORDER BY e.request_id, e.seq;
COMMENT ON VIEW reports.request_history IS 'the full history of each request from the audit log (filter with --request ID)';

CREATE VIEW reports.approvals WITH (security_invoker = true) AS
SELECT a.request_id, a.side, n.asn, n.name AS network, a.decision, a.via,
       coalesce(u.email, a.contact, 'peering policy') AS who, a.at
  FROM approvals a
  JOIN networks n ON n.id = a.network_id
  LEFT JOIN users u ON u.id = a.user_id
 ORDER BY a.request_id, a.at;
COMMENT ON VIEW reports.approvals IS 'who approved or rejected what, and how (web, email link, api, auto-policy)';

CREATE VIEW reports.switches WITH (security_invoker = true) AS
SELECT s.name, s.dpid, coalesce(s.endpoint, 'listener') AS endpoint, s.conn_state,
       (SELECT count(*) FROM ports p WHERE p.switch_id = s.id) AS member_ports,
       (SELECT count(*) FROM links l WHERE s.id IN (l.a_switch_id, l.b_switch_id)) AS links
  FROM switches s
 ORDER BY s.name;
COMMENT ON VIEW reports.switches IS 'the fabric''s switches, their OpenFlow endpoint and connection state';

GRANT SELECT ON ALL TABLES IN SCHEMA reports TO peerflow_app;
