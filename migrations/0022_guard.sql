-- The request's guard (0001_core.sql) checked both endpoints on every
-- update of a request, also the many that change neither. So a port an
-- operator turned from access to trunk (or back) made every later update
-- of the requests on it fail - a cancel or a decommission refused with
-- "a VLAN is required" - and each decision paid two port lookups per
-- update (no gain measurable under `make bench`, within its noise). It
-- now checks an endpoint when it is set: at insert, and when its port or
-- VLAN changes. Everything else is as it was.
CREATE OR REPLACE FUNCTION peering_requests_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.state <> 'pending' THEN
      RAISE EXCEPTION 'a peering request starts in state pending, not %', NEW.state
        USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_illegal_transition';
    END IF;
    NEW.version := 1;
  ELSE
    IF NEW.id <> OLD.id OR NEW.requester_network_id <> OLD.requester_network_id
       OR NEW.peer_network_id <> OLD.peer_network_id OR NEW.created_at <> OLD.created_at THEN
      RAISE EXCEPTION 'a peering request''s parties and identity never change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_immutable';
    END IF;
    IF NEW.state <> OLD.state AND NOT EXISTS (
         SELECT 1 FROM request_transitions
          WHERE from_state = OLD.state AND to_state = NEW.state) THEN
      RAISE EXCEPTION 'illegal state change of request %: % -> %', OLD.id, OLD.state, NEW.state
        USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_illegal_transition';
    END IF;
    IF NEW.state = 'pending' AND (SELECT terminal FROM request_states WHERE state = OLD.state) THEN
      RAISE EXCEPTION 'request % is closed', OLD.id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_illegal_transition';
    END IF;
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    IF NEW.state <> OLD.state THEN
      IF NEW.state = 'approved' THEN NEW.approved_at := now(); END IF;
      IF NEW.state = 'active' AND NEW.active_at IS NULL THEN NEW.active_at := now(); END IF;
      IF (SELECT terminal FROM request_states WHERE state = NEW.state) THEN
        NEW.closed_at := now();
      END IF;
    END IF;
  END IF;
  -- an endpoint is checked when it is set: at insert, and when its port
  -- or VLAN changes (a decision that leaves both alone checks nothing)
  IF TG_OP = 'INSERT' OR NEW.requester_port_id IS DISTINCT FROM OLD.requester_port_id
     OR NEW.requester_vlan IS DISTINCT FROM OLD.requester_vlan THEN
    PERFORM check_request_endpoint(NEW.requester_port_id, NEW.requester_vlan,
                                   NEW.requester_network_id, 'requester');
  END IF;
  IF NEW.peer_port_id IS NOT NULL AND (TG_OP = 'INSERT'
     OR NEW.peer_port_id IS DISTINCT FROM OLD.peer_port_id
     OR NEW.peer_vlan IS DISTINCT FROM OLD.peer_vlan) THEN
    PERFORM check_request_endpoint(NEW.peer_port_id, NEW.peer_vlan, NEW.peer_network_id, 'peer');
  END IF;
  RETURN NEW;
END
$$;
