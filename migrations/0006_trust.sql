-- Trust: isolation that holds whatever role connects, decisions the
-- database itself refuses when they are impossible, and a peer's port that
-- only the peer can reserve. docs/security.md explains the model.
--
-- Roles (none may bypass row-level security, none owns a table):
--   peerflow_app     the web server's connections (serve): network-scoped
--                    work; operator power only through pf_grant_operator()
--   peerflow_worker  workers and the CLI (mailer, provisioner, expiry, the
--                    operator's command line): the system scope
-- serve and worker check the role they are connected as at start-up and
-- switch to theirs (db/role.c), or refuse to start.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'peerflow_worker') THEN
    CREATE ROLE peerflow_worker LOGIN;
  END IF;
END
$$;

-- ------------------------------------------------------- operator scope
--
-- The operator scope used to be a setting any statement could write
-- (set_config('peerflow.operator', 'on')). Now:
--   * on a peerflow_worker connection the setting still decides (workers
--     and the CLI are the system; their network-scoped transactions, e.g.
--     `request approve --as`, keep row-level security);
--   * anywhere else it is ignored: the scope is an operator's only when
--     pf_grant_operator() - SECURITY DEFINER - has checked that the acting
--     user is an enabled operator holding a live session or API token, and
--     recorded the grant for this backend and this transaction.

CREATE TABLE operator_grants (
  pid      integer PRIMARY KEY,          -- pg_backend_pid()
  xact     xid8 NOT NULL,                -- the transaction the grant is for
  user_id  bigint NOT NULL REFERENCES users (id),
  at       timestamptz NOT NULL DEFAULT now()
);

-- Called by every policy, often per row: the common case (a network's
-- user on the web) must cost no table read, and the function must stay a
-- plain expression that PostgreSQL inlines (a sub-SELECT in its body stops
-- the inlining: every read ran at 0.58 of its speed). pf_grant_operator()
-- also sets peerflow.operator_grant, so the grant table is only looked at
-- when that hint is there; the hint alone grants nothing (anyone may set it).
CREATE FUNCTION pf_operator_granted() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM operator_grants g
                  WHERE g.pid = pg_backend_pid()
                    AND g.xact = pg_current_xact_id_if_assigned())
$$;
CREATE OR REPLACE FUNCTION pf_is_operator() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN current_user = 'peerflow_worker'
      THEN coalesce(current_setting('peerflow.operator', true), '') = 'on'
    WHEN coalesce(current_setting('peerflow.operator_grant', true), '') = ''
      THEN false
    ELSE pf_operator_granted()
  END
$$;

CREATE FUNCTION pf_grant_operator(p_user bigint, p_credential bytea)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (
      SELECT 1 FROM users u
       WHERE u.id = p_user AND u.role = 'operator' AND NOT u.disabled
         AND (EXISTS (SELECT 1 FROM sessions s
                       WHERE s.id_hash = p_credential AND s.user_id = u.id
                         AND s.expires_at > now())
              OR EXISTS (SELECT 1 FROM api_tokens t
                          WHERE t.token_hash = p_credential AND t.user_id = u.id
                            AND t.revoked_at IS NULL))) THEN
    RAISE EXCEPTION 'the operator scope needs an enabled operator with a live session or API token'
      USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'operator_scope_refused';
  END IF;
  INSERT INTO operator_grants (pid, xact, user_id)
  VALUES (pg_backend_pid(), pg_current_xact_id(), p_user)
  ON CONFLICT (pid) DO UPDATE SET xact = EXCLUDED.xact, user_id = EXCLUDED.user_id,
                                  at = EXCLUDED.at;
  PERFORM set_config('peerflow.operator_grant', pg_current_xact_id()::text, true);
END
$$;
REVOKE ALL ON FUNCTION pf_grant_operator(bigint, bytea) FROM PUBLIC;

-- db/db.c sends, with BEGIN (or with the statement of a pipelined read),
-- set_config() of the three settings and, for an operator on the web,
-- SELECT pf_grant_operator(user, hash of the session or API token).

-- ------------------------------------------------ decisions the database refuses

-- Approvals of one request, whoever reads: for the guard trigger.
CREATE FUNCTION pf_request_approved_sides(p_request bigint) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT count(DISTINCT side)::integer FROM approvals
   WHERE request_id = p_request AND decision = 'approve'
$$;
CREATE FUNCTION pf_request_rejected(p_request bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM approvals WHERE request_id = p_request AND decision = 'reject')
$$;

-- pending -> approved only with one approve per side; pending -> rejected
-- only with a reject on record. A trigger of its own beside 0001's
-- peering_requests_guard (transitions, identity, version, timestamps).
CREATE FUNCTION peering_requests_decided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state = 'approved' AND OLD.state = 'pending'
     AND pf_request_approved_sides(NEW.id) < 2 THEN
    RAISE EXCEPTION 'request % cannot be approved before both sides approved it', OLD.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_approval_incomplete';
  END IF;
  IF NEW.state = 'rejected' AND OLD.state = 'pending' AND NOT pf_request_rejected(NEW.id) THEN
    RAISE EXCEPTION 'request % cannot be rejected without a side''s rejection', OLD.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'requests_approval_incomplete';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER peering_requests_decided BEFORE UPDATE OF state ON peering_requests
  FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state)
  EXECUTE FUNCTION peering_requests_decided();

-- An approval names its side, and the side names the network: the
-- requester's approval is the requesting network's, the peer's the peer's.
-- It also keeps who decided, as the request page and reports show it:
-- the other network may see that email, never the rest of the users table
-- (row-level security on users, 0009).
ALTER TABLE approvals ADD COLUMN user_email text;
UPDATE approvals a SET user_email = u.email FROM users u WHERE u.id = a.user_id;

CREATE FUNCTION approvals_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  side_network bigint;
BEGIN
  SELECT CASE NEW.side WHEN 'requester' THEN requester_network_id ELSE peer_network_id END
    INTO side_network FROM peering_requests WHERE id = NEW.request_id;
  IF side_network IS DISTINCT FROM NEW.network_id THEN
    RAISE EXCEPTION 'an approval on the % side must be the % network''s', NEW.side, NEW.side
      USING ERRCODE = 'check_violation', CONSTRAINT = 'approvals_side_network';
  END IF;
  NEW.user_email := (SELECT email FROM users WHERE id = NEW.user_id);
  RETURN NEW;
END
$$;
CREATE TRIGGER approvals_guard BEFORE INSERT OR UPDATE ON approvals
  FOR EACH ROW EXECUTE FUNCTION approvals_guard();

-- A network decides only for itself; the peer's auto-approve policy is the
-- one decision written in the requester's transaction.
DROP POLICY approvals_party ON approvals;
CREATE POLICY approvals_read ON approvals FOR SELECT
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));
CREATE POLICY approvals_decide ON approvals FOR INSERT
  WITH CHECK (pf_is_operator()
              OR network_id = pf_network()
              OR (via = 'auto-policy' AND side = 'peer' AND decision = 'approve'
                  AND EXISTS (SELECT 1 FROM networks n
                               WHERE n.id = network_id AND n.auto_approve)));

-- --------------------------------------------- the peer's port is the peer's
--
-- A requester may suggest the peer's port and VLAN; the suggestion reserves
-- nothing (request_endpoints holds peer_port_id, which only the peer's
-- approval - or its auto-approve policy - sets).
ALTER TABLE peering_requests
  ADD COLUMN suggested_peer_port_id bigint REFERENCES ports (id),
  ADD COLUMN suggested_peer_vlan vlan_id,
  ADD CONSTRAINT requests_suggested_vlan_needs_port
    CHECK (suggested_peer_vlan IS NULL OR suggested_peer_port_id IS NOT NULL);

-- --------------------------------------- row-level security on the rest
--
-- Trigger-kept tables are written by SECURITY DEFINER triggers only, so
-- the application roles lose INSERT/UPDATE/DELETE on them.
ALTER FUNCTION claim_switch_ports() SECURITY DEFINER;
ALTER FUNCTION claim_switch_ports() SET search_path = public, pg_temp;
ALTER FUNCTION peering_requests_endpoints() SECURITY DEFINER;
ALTER FUNCTION peering_requests_endpoints() SET search_path = public, pg_temp;

ALTER TABLE request_endpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_endpoints_party ON request_endpoints FOR SELECT
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));

ALTER TABLE flows ENABLE ROW LEVEL SECURITY;
CREATE POLICY flows_operator ON flows USING (pf_is_operator());
ALTER TABLE link_vlans ENABLE ROW LEVEL SECURITY;
CREATE POLICY link_vlans_operator ON link_vlans USING (pf_is_operator());

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY jobs_party ON jobs FOR SELECT
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));
CREATE POLICY jobs_enqueue ON jobs FOR INSERT
  WITH CHECK (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));
CREATE POLICY jobs_work ON jobs FOR UPDATE USING (pf_is_operator());

ALTER TABLE operator_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY operator_grants_own ON operator_grants FOR SELECT
  USING (pid = pg_backend_pid());

-- ------------------------------------------------- operator-only reports
--
-- Fabric internals are the exchange's, not a member's: these reports answer
-- operators only (workflow/queries.c refuses them to others; the views
-- themselves return no row to anyone else).
CREATE TABLE report_audience (
  name            text PRIMARY KEY,
  operators_only  boolean NOT NULL
);
INSERT INTO report_audience VALUES ('switches', true), ('vlan_use_by_link', true),
                                   ('mail_queue', true);

CREATE OR REPLACE VIEW reports.vlan_use_by_link WITH (security_invoker = true) AS
SELECT l.id AS link,
       sa.name || ':' || l.a_port AS a, sb.name || ':' || l.b_port AS b,
       count(v.vlan) AS transport_vlans,
       coalesce(array_to_string(array_agg(v.vlan ORDER BY v.vlan) FILTER (WHERE v.vlan IS NOT NULL), ','), '') AS vlans
  FROM links l
  JOIN switches sa ON sa.id = l.a_switch_id
  JOIN switches sb ON sb.id = l.b_switch_id
  LEFT JOIN link_vlans v ON v.link_id = l.id
 WHERE pf_is_operator()
 GROUP BY l.id, sa.name, sb.name
 ORDER BY l.id;

CREATE OR REPLACE VIEW reports.switches WITH (security_invoker = true) AS
SELECT s.name, s.dpid, coalesce(s.endpoint, 'listener') AS endpoint, s.conn_state,
       (SELECT count(*) FROM ports p WHERE p.switch_id = s.id) AS member_ports,
       (SELECT count(*) FROM links l WHERE s.id IN (l.a_switch_id, l.b_switch_id)) AS links
  FROM switches s
 WHERE pf_is_operator()
 ORDER BY s.name;

-- The client address and user agent of a link's use are the operators'
-- (abuse handling), not the other network's.
CREATE OR REPLACE VIEW reports.request_history WITH (security_invoker = true) AS
SELECT e.request_id, e.seq, e.at, e.actor_kind, e.actor_label AS actor,
       e.action, e.before,
       CASE WHEN e.action = 'token.used' AND NOT pf_is_operator()
            THEN (e.after::jsonb - 'client_addr' - 'user_agent')::json
            ELSE e.after END AS after
  FROM audit_events e
 WHERE e.request_id IS NOT NULL
 ORDER BY e.request_id, e.seq;

-- ------------------------------------------------------------ privileges

REVOKE INSERT, UPDATE, DELETE ON request_endpoints, switch_port_uses FROM peerflow_app;
REVOKE DELETE ON flows, link_vlans, api_tokens FROM peerflow_app;
REVOKE INSERT, UPDATE ON flows, link_vlans FROM peerflow_app;
GRANT SELECT ON operator_grants, report_audience TO peerflow_app;
GRANT EXECUTE ON FUNCTION pf_grant_operator(bigint, bytea) TO peerflow_app;

-- The worker: everything the application may (it inherits peerflow_app's
-- privileges, so a later migration's GRANT to peerflow_app reaches it too),
-- plus the provisioner's own tables. The application cannot become the
-- worker: the membership goes one way.
GRANT peerflow_app TO peerflow_worker;
GRANT INSERT, UPDATE, DELETE ON flows, link_vlans TO peerflow_worker;
