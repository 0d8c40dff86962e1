-- Changing a live circuit (docs/lifecycle.md, "Changes"): an admin of
-- either side asks to change the bandwidth cap of an active circuit, the
-- other side approves or rejects like a request (web, API, a signed link
-- in mail), and the provisioner changes the meter in place. The request
-- stays active throughout; the change has a small lifecycle of its own:
--
--   pending -> approved -> applied | failed
--   pending -> rejected | cancelled (the circuit left active: the change
--              is moot, or its requester withdrew it)

CREATE TABLE request_changes (
  id                  bigserial PRIMARY KEY,
  request_id          bigint NOT NULL REFERENCES peering_requests (id),
  side                text NOT NULL CHECK (side IN ('requester', 'peer')),  -- who asked
  network_id          bigint NOT NULL REFERENCES networks (id),
  requested_by        bigint REFERENCES users (id),
  old_bandwidth_mbps  integer NOT NULL CHECK (old_bandwidth_mbps > 0),
  bandwidth_mbps      integer NOT NULL
                      CONSTRAINT request_changes_bandwidth CHECK (bandwidth_mbps > 0),
  state               text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'approved', 'applied', 'failed', 'rejected',
                                       'cancelled')),
  reason              text CONSTRAINT request_changes_reason_len CHECK (length(reason) <= 2000),
  decided_by          text,            -- the user or contact who decided
  error               text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  decided_at          timestamptz,
  applied_at          timestamptz,
  CONSTRAINT request_changes_differs CHECK (bandwidth_mbps <> old_bandwidth_mbps)
);
-- one open change per circuit: a second is refused until the first ends
CREATE UNIQUE INDEX request_changes_one_open ON request_changes (request_id)
  WHERE state IN ('pending', 'approved');

-- The database's own copy of the change's transitions.
CREATE FUNCTION request_changes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.state <> OLD.state AND NOT (
       (OLD.state = 'pending' AND NEW.state IN ('approved', 'rejected', 'cancelled'))
    OR (OLD.state = 'approved' AND NEW.state IN ('applied', 'failed', 'cancelled'))) THEN
    RAISE EXCEPTION 'illegal state change of change %: % -> %', OLD.id, OLD.state, NEW.state
      USING ERRCODE = 'check_violation', CONSTRAINT = 'request_changes_illegal_transition';
  END IF;
  IF TG_OP = 'UPDATE' AND (NEW.request_id <> OLD.request_id OR NEW.side <> OLD.side
                           OR NEW.bandwidth_mbps <> OLD.bandwidth_mbps) THEN
    RAISE EXCEPTION 'a change''s circuit, side and bandwidth are fixed when it is asked'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'request_changes_immutable';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER request_changes_guard BEFORE UPDATE ON request_changes
  FOR EACH ROW EXECUTE FUNCTION request_changes_guard();

ALTER TABLE request_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_changes_party ON request_changes
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));

-- A link mailed for a change decides the change, not the request.
ALTER TABLE approval_tokens ADD COLUMN change_id bigint REFERENCES request_changes (id);

-- The provisioner's job that applies an approved change is kind 'modify'
-- (jobs.kind, migrations/0013_meters.sql).

GRANT SELECT, INSERT, UPDATE ON request_changes TO peerflow_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO peerflow_app;
