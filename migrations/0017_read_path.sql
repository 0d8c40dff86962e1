-- The API read in one round trip (issue 16).
--
-- serve remembers, per thread and for at most a minute, what an API
-- token was found to be (its user, the user's network and role). A read
-- with a remembered token sends, in the one pipeline of its statements
-- (db/db.c), this check first: the database confirms, in the same
-- implicit transaction and before the scope and the statement run, that
-- the token is live (not revoked), its user enabled and still the same
-- user, network and role. A failed check aborts the pipeline (nothing of
-- the statement reaches the client) and serve looks the token up again
-- (pf_api_token_find), which answers 401 for a revoked token or a
-- disabled user exactly as before. The check writes nothing: last_used_at
-- moves when the remembered entry expires and the token is looked up.
CREATE FUNCTION pf_api_token_check(p_hash bytea, p_user bigint, p_network bigint, p_role text)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (
      SELECT 1 FROM api_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = p_hash AND t.revoked_at IS NULL AND NOT u.disabled
         AND u.id = p_user AND coalesce(u.network_id, 0) = coalesce(p_network, 0)
         AND u.role = p_role) THEN
    RAISE EXCEPTION 'the API token is unknown or revoked, or its user changed'
      USING ERRCODE = 'invalid_authorization_specification', CONSTRAINT = 'api_token_check';
  END IF;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION pf_api_token_check(bytea, bigint, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pf_api_token_check(bytea, bigint, bigint, text) TO peerflow_app;
