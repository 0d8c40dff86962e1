-- Row-level security on the accounts tables: users, sessions and API
-- tokens belong to a network (or to one user), like its requests.
--
-- Logging in and resuming a session or an API token happen before anyone
-- is known, so they go through SECURITY DEFINER functions that return only
-- the row matching the email or the secret's hash that was presented: the
-- application roles need no broad read of these tables. docs/security.md.

CREATE FUNCTION pf_user_by_email(p_email text)
RETURNS TABLE (id bigint, email text, network_id bigint, role text, password_hash text,
               disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.id, u.email, u.network_id, u.role, u.password_hash, u.disabled
    FROM users u WHERE lower(u.email) = lower(p_email)
$$;

-- A session by the hash of its cookie; moves last_seen_at at most once a
-- minute (a read commits nothing otherwise).
CREATE FUNCTION pf_session_find(p_hash bytea)
RETURNS TABLE (id bigint, email text, network_id bigint, role text, disabled boolean,
               csrf_token text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT u.id, u.email, u.network_id, u.role, u.disabled, s.csrf_token
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id_hash = p_hash AND s.expires_at > now() AND NOT u.disabled;
  IF FOUND THEN
    UPDATE sessions SET last_seen_at = now()
     WHERE id_hash = p_hash AND last_seen_at < now() - interval '1 minute';
  END IF;
END
$$;

-- Logging out: whoever holds the cookie may end its session.
CREATE FUNCTION pf_session_end(p_hash bytea) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM sessions WHERE id_hash = p_hash
$$;

CREATE FUNCTION pf_api_token_find(p_hash bytea)
RETURNS TABLE (id bigint, email text, network_id bigint, role text, disabled boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  tid bigint;
BEGIN
  SELECT t.id INTO tid FROM api_tokens t JOIN users u ON u.id = t.user_id
   WHERE t.token_hash = p_hash AND t.revoked_at IS NULL AND NOT u.disabled;
  IF tid IS NULL THEN
    RETURN;
  END IF;
  UPDATE api_tokens SET last_used_at = now()
   WHERE api_tokens.id = tid AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
  RETURN QUERY
    SELECT u.id, u.email, u.network_id, u.role, u.disabled
      FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = tid;
END
$$;

REVOKE ALL ON FUNCTION pf_user_by_email(text), pf_session_find(bytea), pf_session_end(bytea),
  pf_api_token_find(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pf_user_by_email(text), pf_session_find(bytea), pf_session_end(bytea),
  pf_api_token_find(bytea) TO peerflow_app;

CREATE FUNCTION pf_user() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('peerflow.user_id', true), '')::bigint
$$;

-- Users: your network's and yourself. Who decided on a request is kept
-- on the approval (approvals.user_email, 0006), so showing the other
-- side's approver needs no read of users. (A policy that let you see the
-- users who decided on requests you can see cost a scan of approvals per
-- user row: make bench's decisions fell from ~1,600/s to 27/s.)
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON users FOR SELECT
  USING (pf_is_operator() OR id = pf_user() OR network_id = pf_network());
CREATE POLICY users_add ON users FOR INSERT
  WITH CHECK (pf_is_operator() OR (network_id = pf_network() AND role <> 'operator'));
CREATE POLICY users_change ON users FOR UPDATE
  USING (pf_is_operator() OR id = pf_user());

-- Sessions and API tokens: their own user's (and the operators').
-- A session is created at login, before the user is the acting party, so
-- inserting stays open (docs/security.md says what that leaves).
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON sessions
  USING (pf_is_operator() OR user_id = pf_user());
CREATE POLICY sessions_login ON sessions FOR INSERT WITH CHECK (true);

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_own ON api_tokens
  USING (pf_is_operator() OR user_id = pf_user());

-- The approvals report names who decided from the approval itself.
CREATE OR REPLACE VIEW reports.approvals WITH (security_invoker = true) AS
SELECT a.request_id, a.side, n.asn, n.name AS network, a.decision, a.via,
       coalesce(a.user_email, a.contact, 'peering policy') AS who, a.at
  FROM approvals a
  JOIN networks n ON n.id = a.network_id
 ORDER BY a.request_id, a.at;
