-- A kept answer's check in one statement (web/read_cache.c, issue 16).
--
-- For a network's API token that serve remembers (0017), the read of a
-- kept answer needed two statements: the token check with the scope, then
-- the request's stamp (0020) under row-level security. This function does
-- both in one: it checks the token exactly as pf_api_token_check does
-- (and raises the same error, so serve forgets the token and looks it up
-- again), then counts the request's touches for that token's network with
-- the rule of the request's policy - a network sees the requests it is a
-- party to - on the party columns of request_touches. 0: not visible (or
-- no such request; every request has at least one touch). Networks only:
-- an operator's read keeps its own scope (the grant, 0006).
CREATE FUNCTION pf_request_stamp_for(p_hash bytea, p_user bigint, p_network bigint,
                                     p_role text, p_request bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pf_api_token_check(p_hash, p_user, p_network, p_role);
  IF p_network IS NULL OR p_network = 0 OR p_role = 'operator' THEN
    RAISE EXCEPTION 'pf_request_stamp_for answers for a network''s token only'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN (SELECT count(*) FROM request_touches t
           WHERE t.request_id = p_request
             AND p_network IN (t.requester_network_id, t.peer_network_id));
END
$$;
REVOKE ALL ON FUNCTION pf_request_stamp_for(bytea, bigint, bigint, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pf_request_stamp_for(bytea, bigint, bigint, text, bigint) TO peerflow_app;
