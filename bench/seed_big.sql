-- Benchmark data for page renders and reports: 200 networks with a trunk
-- port each, 100,000 requests (70% rejected, 10% cancelled, 10% active,
-- 10% pending) with the approvals their states need, and 1,000,000 audit
-- rows. Run as the schema owner. The
-- audit rows are filler with zero hashes: this database's chain does not
-- verify, which the render and report timings do not depend on.
INSERT INTO networks (asn, name, policy, contacts)
SELECT 65100 + g, 'Bench Net ' || g, 'selective', ARRAY['noc' || g || '@bench.example']
  FROM generate_series(0, 199) g;
INSERT INTO switches (name, dpid) VALUES ('big1', '00000000000000c1');
INSERT INTO ports (network_id, switch_id, ofport, name, mode)
SELECT n.id, s.id, n.asn - 65099, 't1', 'trunk'
  FROM networks n, switches s WHERE n.asn >= 65100 AND s.name = 'big1';
INSERT INTO peering_requests (requester_network_id, requester_port_id, requester_vlan,
                              peer_network_id, created_at)
SELECT rn.id, rp.id, i / 200 + 1, pn.id, now() - make_interval(mins => i)
  FROM generate_series(0, 99999) i
  JOIN networks rn ON rn.asn = 65100 + i % 200
  JOIN ports rp ON rp.network_id = rn.id
  JOIN networks pn ON pn.asn = 65100 + (i + 1) % 200;
-- the decisions the database asks for before approved / rejected
-- (0006: an approve per side, a reject on record)
INSERT INTO approvals (request_id, network_id, side, decision, via)
SELECT r.id, r.peer_network_id, 'peer', CASE WHEN r.id % 10 < 7 THEN 'reject' ELSE 'approve' END,
       'auto-policy'
  FROM peering_requests r WHERE r.id % 10 < 7 OR r.id % 10 = 8;
INSERT INTO approvals (request_id, network_id, side, decision, via)
SELECT r.id, r.requester_network_id, 'requester', 'approve', 'auto-policy'
  FROM peering_requests r WHERE r.id % 10 = 8;
UPDATE peering_requests SET state = 'rejected' WHERE id % 10 < 7 AND requester_network_id IN
  (SELECT id FROM networks WHERE asn >= 65100);
UPDATE peering_requests SET state = 'cancelled' WHERE id % 10 = 7;
UPDATE peering_requests SET state = 'approved' WHERE id % 10 = 8;
UPDATE peering_requests SET state = 'provisioning' WHERE id % 10 = 8;
UPDATE peering_requests SET state = 'active' WHERE id % 10 = 8;
INSERT INTO audit_events (seq, at, actor_kind, actor_label, network_id, action, object_type,
                          object_id, request_id, after, prev_hash, hash)
SELECT g, now() - make_interval(secs => 1000000 - g), 'user', 'bench@bench.example', NULL,
       'request.submitted', 'request', (g % 100000 + 1)::text, g % 100000 + 1,
       '{"state":"pending"}', '\x0000000000000000000000000000000000000000000000000000000000000000',
       '\x0000000000000000000000000000000000000000000000000000000000000000'
  FROM generate_series((SELECT seq + 1 FROM audit_head), (SELECT seq FROM audit_head) + 1000000) g;
UPDATE audit_head SET seq = (SELECT max(seq) FROM audit_events);
ANALYZE;
