-- The IETF Peering API (docs/peering-api.md) and the PeeringDB import
-- (docs/peeringdb.md).
--
--   peering_requests.session_id  the Peering API's session id of a request
--   networks.peeringdb_*         where a network's facts came from
--   networks.peeringdb_pinned    the fields its admins keep out of imports
--   peeringdb_sync               the incremental sync's cursor (one row)

-- Every request is a session of the Peering API, also those filed on the
-- web: one id, given when the row is made, never reused.
ALTER TABLE peering_requests
  ADD COLUMN session_id uuid NOT NULL DEFAULT gen_random_uuid()
    CONSTRAINT peering_requests_session_id_key UNIQUE;

ALTER TABLE networks
  ADD COLUMN peeringdb_net_id bigint,
  -- PeeringDB's "updated" of the last row applied, as it sent it
  ADD COLUMN peeringdb_updated text,
  ADD COLUMN peeringdb_pinned text[] NOT NULL DEFAULT '{}'
    CONSTRAINT networks_peeringdb_pinned
    CHECK (peeringdb_pinned <@ ARRAY['name', 'policy', 'irr_as_set', 'max_prefix4',
                                     'max_prefix6', 'contacts']::text[]);

-- The sync asks PeeringDB for what changed since its last successful run.
CREATE TABLE peeringdb_sync (
  id        boolean PRIMARY KEY DEFAULT true CHECK (id),
  since     bigint NOT NULL DEFAULT 0,  -- Unix time of the last complete sync
  synced_at timestamptz
);
INSERT INTO peeringdb_sync DEFAULT VALUES;

GRANT SELECT ON peeringdb_sync TO peerflow_app;
GRANT UPDATE ON peeringdb_sync TO peerflow_worker;

-- A request as a Peering API session, seen from network p_me (one of its
-- two parties): local_* is p_me's side. Security invoker: row-level
-- security decides what the caller sees, as for every other read.
CREATE FUNCTION pf_papi_session(r peering_requests, p_me bigint) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'session_id', r.session_id,
    'request_id', r.id,
    'local_asn', CASE WHEN mine THEN rn.asn ELSE pn.asn END,
    'peer_asn', CASE WHEN mine THEN pn.asn ELSE rn.asn END,
    'local_ip', CASE WHEN mine THEN host(a.net) ELSE host(broadcast(a.net)) END,
    'peer_ip', CASE WHEN mine THEN host(broadcast(a.net)) ELSE host(a.net) END,
    'local_ipv6', CASE WHEN mine THEN host(a6.net) ELSE host(broadcast(a6.net)) END,
    'peer_ipv6', CASE WHEN mine THEN host(broadcast(a6.net)) ELSE host(a6.net) END,
    'peer_type', 'private',
    'location', CASE WHEN lp.name IS NULL THEN NULL
                ELSE json_build_object('id', 'pf:port:' || lp.name, 'type', 'private') END,
    'vlan', CASE WHEN mine THEN r.requester_vlan ELSE r.peer_vlan END,
    'md5', r.bgp_md5,
    'bgp_ipv4', r.bgp_ipv4,
    'bgp_ipv6', r.bgp_ipv6,
    'side', CASE WHEN mine THEN 'requester' ELSE 'peer' END,
    'peerflow_state', r.state)
  FROM (SELECT r.requester_network_id = p_me AS mine) m
  JOIN networks rn ON rn.id = r.requester_network_id
  JOIN networks pn ON pn.id = r.peer_network_id
  LEFT JOIN ports lp ON lp.id = CASE WHEN m.mine THEN r.requester_port_id ELSE r.peer_port_id END
  LEFT JOIN circuit_addresses a ON a.request_id = r.id AND a.family = 4
  LEFT JOIN circuit_addresses a6 ON a6.request_id = r.id AND a6.family = 6
$$;
GRANT EXECUTE ON FUNCTION pf_papi_session(peering_requests, bigint) TO peerflow_app;
