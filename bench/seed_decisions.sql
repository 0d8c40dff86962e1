-- Benchmark data for API reads and decisions: two networks, 8 trunk ports
-- each, :n pending requests whose requester side has approved, each on its
-- own (port, VLAN) pair at both ends. Run as the schema owner.
INSERT INTO networks (asn, name, policy, contacts) VALUES
  (65001, 'Bench Requester', 'open', '{noc@r.example}'),
  (65002, 'Bench Peer', 'selective', '{noc@p.example}');
INSERT INTO switches (name, dpid) VALUES ('bs1', '00000000000000b1');
INSERT INTO ports (network_id, switch_id, ofport, name, mode)
SELECT n.id, s.id, g + CASE n.asn WHEN 65001 THEN 0 ELSE 100 END,
       CASE n.asn WHEN 65001 THEN 'r' ELSE 'p' END || g, 'trunk'
  FROM networks n, switches s, generate_series(1, 8) g
 WHERE n.asn IN (65001, 65002) AND s.name = 'bs1';
INSERT INTO peering_requests (requester_network_id, requester_port_id, requester_vlan,
                              peer_network_id, peer_port_id, peer_vlan)
SELECT r.id, rp.id, i % 4000 + 1, p.id, pp.id, i % 4000 + 1
  FROM generate_series(0, :n - 1) i
  JOIN networks r ON r.asn = 65001
  JOIN networks p ON p.asn = 65002
  JOIN ports rp ON rp.network_id = r.id AND rp.name = 'r' || (i / 4000 + 1)
  JOIN ports pp ON pp.network_id = p.id AND pp.name = 'p' || (i / 4000 + 1);
INSERT INTO approvals (request_id, network_id, side, decision, via, user_id)
SELECT r.id, r.requester_network_id, 'requester', 'approve', 'api',
       (SELECT id FROM users WHERE email = 'admin@r.example')
  FROM peering_requests r;
ANALYZE;
