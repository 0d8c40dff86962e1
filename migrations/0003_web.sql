-- Web sessions and login throttling.
--
-- A session id is 32 random bytes given to the browser as a cookie; the
-- database keeps only its BLAKE2b hash, so a read of this table cannot be
-- replayed as a login. The CSRF token of the session is random too and
-- compared in constant time by web/.

CREATE TABLE sessions (
  id_hash       bytea PRIMARY KEY CHECK (length(id_hash) = 32),
  user_id       bigint NOT NULL REFERENCES users (id),
  csrf_token    text NOT NULL CHECK (length(csrf_token) >= 32),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  client_addr   text,
  user_agent    text
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed logins, counted per account and per client address over a
-- window (workflow/auth.c); old rows are pruned as new ones come.
CREATE TABLE login_failures (
  id           bigserial PRIMARY KEY,
  email        text NOT NULL,
  client_addr  text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (lower(email), at);
CREATE INDEX login_failures_addr ON login_failures (client_addr, at);

GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, login_failures TO peerflow_app;
GRANT USAGE ON SEQUENCE login_failures_id_seq TO peerflow_app;
GRANT UPDATE (last_used_at, revoked_at) ON api_tokens TO peerflow_app;

-- One line per request as lists and dashboards show it. security_invoker:
-- row-level security of the reader applies.
CREATE VIEW request_cards WITH (security_invoker = true) AS
SELECT r.id, r.state, r.version, r.created_at, r.updated_at, r.expires_at,
       r.requester_network_id, r.peer_network_id,
       json_build_object('asn', rn.asn, 'name', rn.name, 'port', rp.name,
                         'vlan', r.requester_vlan) AS requester,
       json_build_object('asn', pn.asn, 'name', pn.name, 'port', pp.name,
                         'vlan', r.peer_vlan) AS peer,
       EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.side = 'requester')
         AS requester_decided,
       EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.side = 'peer')
         AS peer_decided
  FROM peering_requests r
  JOIN networks rn ON rn.id = r.requester_network_id
  JOIN ports rp ON rp.id = r.requester_port_id
  JOIN networks pn ON pn.id = r.peer_network_id
  LEFT JOIN ports pp ON pp.id = r.peer_port_id;
GRANT SELECT ON request_cards TO peerflow_app;
