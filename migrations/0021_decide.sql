-- The decision's guard (0006_trust.sql, peering_requests_decided) counts
-- a request's approvals through these two functions. As SQL functions
-- that cannot be inlined (SECURITY DEFINER, SET search_path), PostgreSQL
-- parses and plans their body again at every call: about 6% of the
-- database's CPU per decision under `make bench`. PL/pgSQL keeps the plan
-- for the session. Same queries, same answers, same owner and grants
-- (CREATE OR REPLACE keeps them).
CREATE OR REPLACE FUNCTION pf_request_approved_sides(p_request bigint) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT count(DISTINCT side)::integer FROM approvals
           WHERE request_id = p_request AND decision = 'approve');
END
$$;

CREATE OR REPLACE FUNCTION pf_request_rejected(p_request bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM approvals WHERE request_id = p_request AND decision = 'reject');
END
$$;
