-- peerflow core schema: the domain of PRODUCT.md as tables whose
-- constraints make bad states unrepresentable. Applied once, in a
-- transaction, by `peerflow migrate` as the schema owner.
--
-- Roles: the owner (the migrating user) owns every table. The application
-- connects as peerflow_app, which gets exactly the privileges below: it can
-- append to the audit log but never UPDATE or DELETE it, and row-level
-- security limits what it sees to the acting network (set per transaction
-- with set_config('peerflow.network_id', ...), see db/db.c).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'peerflow_app') THEN
    CREATE ROLE peerflow_app LOGIN;
  END IF;
END
$$;

-- ---------------------------------------------------------------- networks

CREATE TABLE networks (
  id            bigserial PRIMARY KEY,
  asn           bigint NOT NULL UNIQUE
                CONSTRAINT networks_asn_range
                CHECK (asn BETWEEN 1 AND 4294967294 AND asn NOT IN (23456, 65535)),
  name          text NOT NULL
                CONSTRAINT networks_name_len CHECK (length(name) BETWEEN 1 AND 100),
  policy        text NOT NULL DEFAULT 'selective'
                CONSTRAINT networks_policy
                CHECK (policy IN ('open', 'selective', 'restrictive', 'no')),
  contacts      text[] NOT NULL DEFAULT '{}',
  auto_approve  boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT networks_auto_approve_open CHECK (NOT auto_approve OR policy = 'open')
);
CREATE UNIQUE INDEX networks_name_key ON networks (lower(name));

-- ------------------------------------------------------------------- users

CREATE TABLE users (
  id             bigserial PRIMARY KEY,
  email          text NOT NULL
                 CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  network_id     bigint REFERENCES networks (id),
  role           text NOT NULL
                 CONSTRAINT users_role CHECK (role IN ('operator', 'admin', 'engineer', 'viewer')),
  password_hash  text,
  disabled       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- operators belong to no network, everybody else to exactly one
  CONSTRAINT users_operator_no_network CHECK ((role = 'operator') = (network_id IS NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE api_tokens (
  id            bigserial PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users (id),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- BLAKE2b of the secret; the secret itself is shown once and never stored
  token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

-- ------------------------------------------------------------------ fabric

CREATE TABLE switches (
  id               bigserial PRIMARY KEY,
  name             text NOT NULL UNIQUE
                   CONSTRAINT switches_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  dpid             text NOT NULL UNIQUE
                   CONSTRAINT switches_dpid_format CHECK (dpid ~ '^[0-9a-f]{16}$'),
  endpoint         text
                   CONSTRAINT switches_endpoint_format
                   CHECK (endpoint ~ '^(tcp:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}|unix:/.+)$'),
  conn_state       text NOT NULL DEFAULT 'unknown'
                   CHECK (conn_state IN ('unknown', 'connecting', 'connected', 'disconnected')),
  conn_changed_at  timestamptz,
  conn_error       text,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- An OpenFlow port number is 1..0xffffff00 (OFPP_MAX).
CREATE DOMAIN ofport AS bigint CHECK (VALUE BETWEEN 1 AND 4294967040);
CREATE DOMAIN vlan_id AS integer
  CONSTRAINT vlan_id_range CHECK (VALUE BETWEEN 1 AND 4094);

-- Inter-switch link: a VLAN trunk between (a_switch, a_port) and (b_switch, b_port).
CREATE TABLE links (
  id           bigserial PRIMARY KEY,
  a_switch_id  bigint NOT NULL REFERENCES switches (id),
  a_port       ofport NOT NULL,
  b_switch_id  bigint NOT NULL REFERENCES switches (id),
  b_port       ofport NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT links_not_loop CHECK (a_switch_id <> b_switch_id)
);

-- Member port on a switch.
CREATE TABLE ports (
  id          bigserial PRIMARY KEY,
  network_id  bigint NOT NULL REFERENCES networks (id),
  switch_id   bigint NOT NULL REFERENCES switches (id),
  ofport      ofport NOT NULL,
  name        text NOT NULL
              CONSTRAINT ports_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,62}$'),
  mode        text NOT NULL DEFAULT 'access' CHECK (mode IN ('access', 'trunk')),
  speed_mbps  integer CHECK (speed_mbps > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ports_network_name_key UNIQUE (network_id, name)
);

-- Every switch port has one use: a member port or one end of one link.
-- Both tables claim their ports here, so the unique key is the guarantee.
CREATE TABLE switch_port_uses (
  switch_id  bigint NOT NULL REFERENCES switches (id),
  ofport     ofport NOT NULL,
  port_id    bigint REFERENCES ports (id) ON DELETE CASCADE,
  link_id    bigint REFERENCES links (id) ON DELETE CASCADE,
  CONSTRAINT switch_port_uses_pkey PRIMARY KEY (switch_id, ofport),
  CHECK ((port_id IS NULL) <> (link_id IS NULL))
);

CREATE FUNCTION claim_switch_ports() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'ports' THEN
    INSERT INTO switch_port_uses (switch_id, ofport, port_id)
    VALUES (NEW.switch_id, NEW.ofport, NEW.id);
  ELSE
    INSERT INTO switch_port_uses (switch_id, ofport, link_id)
    VALUES (NEW.a_switch_id, NEW.a_port, NEW.id), (NEW.b_switch_id, NEW.b_port, NEW.id);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER ports_claim AFTER INSERT ON ports
  FOR EACH ROW EXECUTE FUNCTION claim_switch_ports();
CREATE TRIGGER links_claim AFTER INSERT ON links
  FOR EACH ROW EXECUTE FUNCTION claim_switch_ports();

-- ------------------------------------------------------- peering requests

CREATE TABLE request_states (
  state     text PRIMARY KEY,
  terminal  boolean NOT NULL
);
INSERT INTO request_states VALUES
  ('pending', false), ('approved', false), ('provisioning', false),
  ('active', false), ('failed', false), ('decommissioning', false),
  ('rejected', true), ('cancelled', true), ('expired', true),
  ('decommissioned', true);

-- The legal state changes: the database's copy of workflow/state_machine.c.
-- A trigger refuses any UPDATE of a request's state not listed here.
CREATE TABLE request_transitions (
  from_state  text NOT NULL REFERENCES request_states,
  to_state    text NOT NULL REFERENCES request_states,
  PRIMARY KEY (from_state, to_state)
);
INSERT INTO request_transitions VALUES
  ('pending', 'approved'), ('pending', 'rejected'), ('pending', 'cancelled'),
  ('pending', 'expired'),
  ('approved', 'provisioning'),
  ('provisioning', 'active'), ('provisioning', 'failed'),
  ('failed', 'provisioning'), ('failed', 'decommissioning'),
  ('active', 'decommissioning'),
  ('decommissioning', 'decommissioned');

CREATE TABLE peering_requests (
  id                    bigserial PRIMARY KEY,
  requester_network_id  bigint NOT NULL REFERENCES networks (id),
  requester_port_id     bigint NOT NULL REFERENCES ports (id),
  requester_vlan        vlan_id,
  peer_network_id       bigint NOT NULL REFERENCES networks (id),
  peer_port_id          bigint REFERENCES ports (id),
  peer_vlan             vlan_id,
  bandwidth_mbps        integer CONSTRAINT requests_bandwidth_positive CHECK (bandwidth_mbps > 0),
  message               text CONSTRAINT requests_message_len CHECK (length(message) <= 2000),
  state                 text NOT NULL DEFAULT 'pending' REFERENCES request_states,
  version               integer NOT NULL DEFAULT 1,
  created_by            bigint REFERENCES users (id),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL DEFAULT now() + interval '14 days',
  approved_at           timestamptz,
  active_at             timestamptz,
  closed_at             timestamptz,
  CONSTRAINT requests_not_self CHECK (requester_network_id <> peer_network_id),
  CONSTRAINT requests_peer_vlan_needs_port CHECK (peer_vlan IS NULL OR peer_port_id IS NOT NULL)
);
CREATE INDEX peering_requests_requester ON peering_requests (requester_network_id, state);
CREATE INDEX peering_requests_peer ON peering_requests (peer_network_id, state);
CREATE INDEX peering_requests_state ON peering_requests (state, expires_at);

-- The endpoints a live (non-terminal) request holds. An access port carries
-- one cross-connect; a trunk port one per VLAN. The primary key is the
-- guarantee that a (port, VLAN) belongs to at most one live request, which
-- also makes "one live request per port pair" impossible to break. Kept by
-- the trigger below, never written by the application.
CREATE TABLE request_endpoints (
  port_id     bigint NOT NULL REFERENCES ports (id),
  vlan        integer NOT NULL,          -- 0 = untagged (access port)
  request_id  bigint NOT NULL REFERENCES peering_requests (id),
  side        text NOT NULL CHECK (side IN ('requester', 'peer')),
  CONSTRAINT request_endpoints_pkey PRIMARY KEY (port_id, vlan)
);
CREATE INDEX request_endpoints_request ON request_endpoints (request_id);

-- Checks what a CHECK constraint cannot see across tables: each port
-- belongs to its side's network, and a VLAN is given exactly when the port
-- is a trunk.
CREATE FUNCTION check_request_endpoint(p_port bigint, p_vlan integer, p_network bigint, p_side text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  p ports%ROWTYPE;
BEGIN
  SELECT * INTO p FROM ports WHERE id = p_port;
  IF p.network_id <> p_network THEN
    RAISE EXCEPTION 'the % port % does not belong to the % network', p_side, p.name, p_side
      USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_port_network';
  END IF;
  IF p.mode = 'trunk' AND p_vlan IS NULL THEN
    RAISE EXCEPTION 'the % port % is a trunk: a VLAN is required', p_side, p.name
      USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_trunk_needs_vlan';
  END IF;
  IF p.mode = 'access' AND p_vlan IS NOT NULL THEN
    RAISE EXCEPTION 'the % port % is an access port: it takes no VLAN', p_side, p.name
      USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_access_no_vlan';
  END IF;
END
$$;

-- BEFORE trigger: legal transitions only, version and timestamps kept by the
-- database so no writer can forget them.
CREATE FUNCTION peering_requests_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
  PERFORM check_request_endpoint(NEW.requester_port_id, NEW.requester_vlan,
                                 NEW.requester_network_id, 'requester');
  IF NEW.peer_port_id IS NOT NULL THEN
    PERFORM check_request_endpoint(NEW.peer_port_id, NEW.peer_vlan, NEW.peer_network_id, 'peer');
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER peering_requests_guard BEFORE INSERT OR UPDATE ON peering_requests
  FOR EACH ROW EXECUTE FUNCTION peering_requests_guard();

-- AFTER trigger: keep request_endpoints in step with the request.
CREATE FUNCTION peering_requests_endpoints() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  live boolean := NOT (SELECT terminal FROM request_states WHERE state = NEW.state);
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF live AND NEW.requester_port_id = OLD.requester_port_id
       AND NEW.requester_vlan IS NOT DISTINCT FROM OLD.requester_vlan
       AND NEW.peer_port_id IS NOT DISTINCT FROM OLD.peer_port_id
       AND NEW.peer_vlan IS NOT DISTINCT FROM OLD.peer_vlan THEN
      RETURN NULL;
    END IF;
    DELETE FROM request_endpoints WHERE request_id = NEW.id;
  END IF;
  IF live THEN
    INSERT INTO request_endpoints (port_id, vlan, request_id, side)
    VALUES (NEW.requester_port_id, coalesce(NEW.requester_vlan, 0), NEW.id, 'requester');
    IF NEW.peer_port_id IS NOT NULL THEN
      INSERT INTO request_endpoints (port_id, vlan, request_id, side)
      VALUES (NEW.peer_port_id, coalesce(NEW.peer_vlan, 0), NEW.id, 'peer');
    END IF;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER peering_requests_endpoints AFTER INSERT OR UPDATE ON peering_requests
  FOR EACH ROW EXECUTE FUNCTION peering_requests_endpoints();

CREATE TABLE approvals (
  id          bigserial PRIMARY KEY,
  request_id  bigint NOT NULL REFERENCES peering_requests (id),
  network_id  bigint NOT NULL REFERENCES networks (id),
  side        text NOT NULL CHECK (side IN ('requester', 'peer')),
  decision    text NOT NULL CHECK (decision IN ('approve', 'reject')),
  user_id     bigint REFERENCES users (id),
  via         text NOT NULL CHECK (via IN ('web', 'email', 'api', 'auto-policy', 'cli')),
  contact     text,            -- the address an email link was sent to
  token_id    bytea,           -- the approval token used, for 'email'
  reason      text CHECK (length(reason) <= 2000),
  at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT approvals_one_per_side UNIQUE (request_id, side),
  CONSTRAINT approvals_email_has_token CHECK ((via = 'email') = (token_id IS NOT NULL)),
  CONSTRAINT approvals_who CHECK (via IN ('email', 'auto-policy') OR user_id IS NOT NULL)
);

CREATE TABLE approval_tokens (
  id          bytea PRIMARY KEY CHECK (length(id) = 16),
  request_id  bigint NOT NULL REFERENCES peering_requests (id),
  network_id  bigint NOT NULL REFERENCES networks (id),
  contact     text NOT NULL,
  actions     text[] NOT NULL,
  key_id      text NOT NULL,
  token_hash  bytea NOT NULL CHECK (length(token_hash) = 32),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX approval_tokens_request ON approval_tokens (request_id);

-- ------------------------------------------------------ circuits and flows

CREATE TABLE circuits (
  id           bigserial PRIMARY KEY,  -- also the OpenFlow cookie of its flows
  request_id   bigint NOT NULL UNIQUE REFERENCES peering_requests (id),
  state        text NOT NULL DEFAULT 'planned'
               CHECK (state IN ('planned', 'installing', 'installed', 'failed', 'removing', 'removed')),
  path         jsonb NOT NULL DEFAULT '[]',
  error        text,
  attempts     integer NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The transport VLAN a circuit holds on one inter-switch link. The primary
-- key is the guarantee that no two circuits share a VLAN on a link.
CREATE TABLE link_vlans (
  link_id     bigint NOT NULL REFERENCES links (id),
  vlan        vlan_id NOT NULL,
  circuit_id  bigint NOT NULL REFERENCES circuits (id) ON DELETE CASCADE,
  CONSTRAINT link_vlans_pkey PRIMARY KEY (link_id, vlan)
);
CREATE INDEX link_vlans_circuit ON link_vlans (circuit_id);

-- Desired flows: what the provisioner installs and reconciles against.
CREATE TABLE flows (
  id          bigserial PRIMARY KEY,
  circuit_id  bigint NOT NULL REFERENCES circuits (id) ON DELETE CASCADE,
  switch_id   bigint NOT NULL REFERENCES switches (id),
  table_id    smallint NOT NULL DEFAULT 0 CHECK (table_id BETWEEN 0 AND 254),
  priority    integer NOT NULL CHECK (priority BETWEEN 0 AND 65535),
  match       jsonb NOT NULL,
  actions     jsonb NOT NULL,
  cookie      bigint NOT NULL,
  CONSTRAINT flows_unique_match UNIQUE (switch_id, table_id, priority, match)
);
CREATE INDEX flows_circuit ON flows (circuit_id);

-- ------------------------------------------------------- outbox and jobs

CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL,
  request_id       bigint REFERENCES peering_requests (id),
  network_id       bigint REFERENCES networks (id),
  recipients       text[] NOT NULL CHECK (cardinality(recipients) > 0),
  subject          text NOT NULL,
  body             text NOT NULL,
  token_id         bytea REFERENCES approval_tokens (id),
  message_id       text NOT NULL UNIQUE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  last_error       text
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE jobs (
  id           bigserial PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('provision', 'teardown')),
  request_id   bigint NOT NULL REFERENCES peering_requests (id),
  state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  run_after    timestamptz NOT NULL DEFAULT now(),
  locked_by    text,
  locked_at    timestamptz,
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX jobs_due ON jobs (run_after) WHERE state IN ('queued', 'running');
-- one open job of a kind per request: re-enqueueing is idempotent
CREATE UNIQUE INDEX jobs_one_open ON jobs (request_id, kind) WHERE state IN ('queued', 'running');

-- ------------------------------------------------------------- audit log

-- Append-only, hash-chained: hash = BLAKE2b-256(prev_hash || canonical
-- encoding of the row), computed by db/audit.c with libsodium. seq has no
-- gaps; audit_head holds the last seq and hash so that `peerflow audit
-- verify` also notices rows deleted from the end.
CREATE TABLE audit_events (
  seq            bigint PRIMARY KEY CHECK (seq > 0),
  at             timestamptz NOT NULL,
  actor_kind     text NOT NULL CHECK (actor_kind IN ('user', 'email', 'system', 'cli')),
  actor_user_id  bigint,
  actor_label    text NOT NULL,
  network_id     bigint,
  action         text NOT NULL,
  object_type    text NOT NULL,
  object_id      text NOT NULL,
  request_id     bigint,
  -- json, not jsonb: the text is stored exactly as hashed
  before         json,
  after          json,
  prev_hash      bytea NOT NULL CHECK (length(prev_hash) = 32),
  hash           bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_request ON audit_events (request_id, seq) WHERE request_id IS NOT NULL;
CREATE INDEX audit_events_action ON audit_events (action, at);

CREATE TABLE audit_head (
  one   boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq   bigint NOT NULL,
  hash  bytea NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO audit_head VALUES (true, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- ------------------------------------------------- row-level security
--
-- The acting party is set per transaction by db_tx_begin():
--   peerflow.operator   'on' for operators, workers and the CLI
--   peerflow.network_id the acting user's network
-- A network sees a request only when it is one of its two parties.

CREATE FUNCTION pf_is_operator() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('peerflow.operator', true), '') = 'on'
$$;
CREATE FUNCTION pf_network() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('peerflow.network_id', true), '')::bigint
$$;

ALTER TABLE peering_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY peering_requests_party ON peering_requests
  USING (pf_is_operator() OR requester_network_id = pf_network() OR peer_network_id = pf_network());

ALTER TABLE approvals ENABLE ROW LEVEL SECURITY;
CREATE POLICY approvals_party ON approvals
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));

ALTER TABLE circuits ENABLE ROW LEVEL SECURITY;
CREATE POLICY circuits_party ON circuits
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));

-- Tokens and mail are written for the other party too (a submission
-- mails the peer), so inserting is open; reading and changing is not.
ALTER TABLE approval_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY approval_tokens_read ON approval_tokens FOR SELECT
  USING (pf_is_operator() OR network_id = pf_network());
CREATE POLICY approval_tokens_write ON approval_tokens FOR INSERT WITH CHECK (true);
CREATE POLICY approval_tokens_use ON approval_tokens FOR UPDATE
  USING (pf_is_operator() OR network_id = pf_network());

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_events_read ON audit_events FOR SELECT
  USING (pf_is_operator()
         OR (request_id IS NULL AND network_id = pf_network())
         OR (request_id IS NOT NULL AND EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id)));
CREATE POLICY audit_events_append ON audit_events FOR INSERT WITH CHECK (true);

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY outbox_read ON outbox FOR SELECT
  USING (pf_is_operator() OR network_id = pf_network());
CREATE POLICY outbox_write ON outbox FOR INSERT WITH CHECK (true);
CREATE POLICY outbox_deliver ON outbox FOR UPDATE USING (pf_is_operator());

-- ------------------------------------------------------------ privileges

GRANT USAGE ON SCHEMA public TO peerflow_app;
GRANT SELECT ON request_states, request_transitions TO peerflow_app;
GRANT SELECT, INSERT, UPDATE ON networks, users, switches, links, ports,
  peering_requests, approval_tokens, circuits, outbox, jobs TO peerflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON api_tokens, request_endpoints,
  switch_port_uses, link_vlans, flows TO peerflow_app;
GRANT SELECT, INSERT ON approvals TO peerflow_app;
GRANT SELECT, INSERT ON audit_events TO peerflow_app;   -- never UPDATE or DELETE
GRANT SELECT, UPDATE ON audit_head TO peerflow_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO peerflow_app;
