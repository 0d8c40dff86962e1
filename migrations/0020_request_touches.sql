-- What makes a cached answer to GET /api/v1/requests/ID safe to serve
-- again (web/read_cache.c, docs/performance.md): every transaction that
-- changes anything the request's JSON is built from leaves one row here,
-- written by a trigger in that same transaction. The number of a request's
-- rows (its "stamp") therefore grows with every committed change and with
-- nothing else: serve keeps an answer with the stamp read in the same
-- statement (the same snapshot) as the answer, and serves it again only
-- while a fresh read of the stamp - under the reader's own scope and
-- row-level security, in the read's one round trip - gives the same number.
--
-- Insert-only, one row per (request, transaction): writers never wait on
-- each other here (no row is updated, so no row lock), and the count
-- cannot come back to an old value. Rows are never deleted: a request
-- gains one per write transaction over its life (a few dozen at most),
-- about 60 bytes each.
--
-- The request's JSON is built from (db/requests.c, REQUEST_JSON):
-- peering_requests, its two networks and ports (and the suggested port),
-- the ports' switches, approvals, circuits, circuit_addresses,
-- request_changes, audit_events (the history) and request_bgp_secrets (the
-- secret shown to admins). Each has a trigger below; a new source of the
-- JSON needs one too (tests/integration/test_read_cache.c checks the list).
CREATE TABLE request_touches (
  request_id           bigint NOT NULL,
  xact                 xid8 NOT NULL DEFAULT pg_current_xact_id(),
  requester_network_id bigint NOT NULL,
  peer_network_id      bigint NOT NULL,
  PRIMARY KEY (request_id, xact)
);
-- readable by the two parties (and operators), like the request itself;
-- written only by the triggers' SECURITY DEFINER functions
ALTER TABLE request_touches ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_touches_party ON request_touches FOR SELECT
  USING (pf_is_operator() OR requester_network_id = pf_network() OR peer_network_id = pf_network());
GRANT SELECT ON request_touches TO peerflow_app;

-- one row for this transaction, once. A decision writes several rows of
-- the sources (the request, an approval, audit events, addresses): the
-- first call inserts, and notes the request in a transaction-local
-- setting, so the later ones cost one comparison (the setting goes back
-- with a rolled-back savepoint, as the row does)
CREATE FUNCTION pf_touch_request(p_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_id IS NULL OR current_setting('peerflow.touched', true) = p_id::text THEN
    RETURN;
  END IF;
  INSERT INTO request_touches (request_id, requester_network_id, peer_network_id)
  SELECT r.id, r.requester_network_id, r.peer_network_id FROM peering_requests r
   WHERE r.id = p_id
  ON CONFLICT DO NOTHING;
  PERFORM set_config('peerflow.touched', p_id::text, true);
END
$$;
REVOKE ALL ON FUNCTION pf_touch_request(bigint) FROM PUBLIC;

-- the request row itself: its parties are on the row
CREATE FUNCTION pf_touch_request_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF current_setting('peerflow.touched', true) = NEW.id::text THEN
    RETURN NULL;
  END IF;
  INSERT INTO request_touches (request_id, requester_network_id, peer_network_id)
  VALUES (NEW.id, NEW.requester_network_id, NEW.peer_network_id)
  ON CONFLICT DO NOTHING;
  PERFORM set_config('peerflow.touched', NEW.id::text, true);
  RETURN NULL;
END
$$;
CREATE TRIGGER peering_requests_touch AFTER INSERT OR UPDATE ON peering_requests
  FOR EACH ROW EXECUTE FUNCTION pf_touch_request_row();

-- a row of a table with a request_id: the request before and after (the
-- comparison with the noted request first: no call when it is the same)
CREATE FUNCTION pf_touch_request_child() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  noted text := current_setting('peerflow.touched', true);
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND noted IS DISTINCT FROM OLD.request_id::text THEN
    PERFORM pf_touch_request(OLD.request_id);
  END IF;
  IF (TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.request_id IS DISTINCT FROM OLD.request_id))
     AND noted IS DISTINCT FROM NEW.request_id::text THEN
    PERFORM pf_touch_request(NEW.request_id);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER approvals_touch AFTER INSERT OR UPDATE OR DELETE ON approvals
  FOR EACH ROW EXECUTE FUNCTION pf_touch_request_child();
CREATE TRIGGER circuits_touch AFTER INSERT OR UPDATE OR DELETE ON circuits
  FOR EACH ROW EXECUTE FUNCTION pf_touch_request_child();
CREATE TRIGGER circuit_addresses_touch AFTER INSERT OR UPDATE OR DELETE ON circuit_addresses
  FOR EACH ROW EXECUTE FUNCTION pf_touch_request_child();
CREATE TRIGGER request_changes_touch AFTER INSERT OR UPDATE OR DELETE ON request_changes
  FOR EACH ROW EXECUTE FUNCTION pf_touch_request_child();
CREATE TRIGGER request_bgp_secrets_touch AFTER INSERT OR UPDATE OR DELETE ON request_bgp_secrets
  FOR EACH ROW EXECUTE FUNCTION pf_touch_request_child();
-- the audit log is append-only (0001): inserts are all there is
CREATE TRIGGER audit_events_touch AFTER INSERT ON audit_events
  FOR EACH ROW WHEN (NEW.request_id IS NOT NULL) EXECUTE FUNCTION pf_touch_request_child();

-- names shown in the JSON: a network's ASN and name, a port's name, mode
-- and switch, a switch's name (rare changes: each touches every request
-- that shows it)
CREATE FUNCTION pf_touch_requests_of_network() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO request_touches (request_id, requester_network_id, peer_network_id)
  SELECT r.id, r.requester_network_id, r.peer_network_id FROM peering_requests r
   WHERE r.requester_network_id = NEW.id OR r.peer_network_id = NEW.id
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER networks_touch AFTER UPDATE OF asn, name ON networks
  FOR EACH ROW WHEN (OLD.asn IS DISTINCT FROM NEW.asn OR OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION pf_touch_requests_of_network();

CREATE FUNCTION pf_touch_requests_of_port() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO request_touches (request_id, requester_network_id, peer_network_id)
  SELECT r.id, r.requester_network_id, r.peer_network_id FROM peering_requests r
   WHERE NEW.id IN (r.requester_port_id, r.peer_port_id, r.suggested_peer_port_id)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER ports_touch AFTER UPDATE OF name, mode, switch_id ON ports
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.mode IS DISTINCT FROM NEW.mode
                     OR OLD.switch_id IS DISTINCT FROM NEW.switch_id)
  EXECUTE FUNCTION pf_touch_requests_of_port();

CREATE FUNCTION pf_touch_requests_of_switch() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO request_touches (request_id, requester_network_id, peer_network_id)
  SELECT r.id, r.requester_network_id, r.peer_network_id
    FROM peering_requests r JOIN ports p
      ON p.id IN (r.requester_port_id, r.peer_port_id, r.suggested_peer_port_id)
   WHERE p.switch_id = NEW.id
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER switches_touch AFTER UPDATE OF name ON switches
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION pf_touch_requests_of_switch();

-- the requests that exist already: a first touch each, so every request
-- has a stamp of at least 1
INSERT INTO request_touches (request_id, requester_network_id, peer_network_id)
SELECT id, requester_network_id, peer_network_id FROM peering_requests;
