-- The dashboard's lists (db/views.c) take a network's 100 newest (or
-- oldest) requests in one state: with the id in the index that is an
-- ordered index scan that stops at 100 instead of reading, joining and
-- sorting every request of the network in that state. The other party's
-- network is INCLUDEd because the row-level security policy of
-- peering_requests tests both parties: with it the scan never visits the
-- table. The old indexes were (network, state), a prefix of the new ones.
DROP INDEX peering_requests_requester;
DROP INDEX peering_requests_peer;
CREATE INDEX peering_requests_requester ON peering_requests (requester_network_id, state, id)
  INCLUDE (peer_network_id);
CREATE INDEX peering_requests_peer ON peering_requests (peer_network_id, state, id)
  INCLUDE (requester_network_id);
