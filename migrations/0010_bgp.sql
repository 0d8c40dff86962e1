-- Layer 3: the BGP session of every circuit (docs/bgp.md).
--
--   address_pools      operators' pools the link addresses come from
--   circuit_addresses  one /31 (IPv4) and one /127 (IPv6) per approved
--                      request; the exclusion constraint is the guarantee
--                      that no two live circuits overlap
--   network_prefixes   what each network announces: the import and export
--                      filters of the generated configuration
--   request_bgp_secrets the TCP-MD5 secret, sealed with a key from
--                      PEERFLOW_KEY_DIR (the database never sees it in clear)

-- ------------------------------------------------------------- requests

ALTER TABLE peering_requests
  ADD COLUMN bgp_ipv4 boolean NOT NULL DEFAULT true,
  ADD COLUMN bgp_ipv6 boolean NOT NULL DEFAULT true,
  ADD COLUMN bgp_md5 boolean NOT NULL DEFAULT false,
  -- why a request is failed, for the page and the API; cleared on retry
  ADD COLUMN failure_code text,
  ADD COLUMN failure_message text
    CONSTRAINT requests_failure_message_len CHECK (length(failure_message) <= 2000);

-- A request whose addresses cannot be allocated fails at once, in the
-- transaction that approves it (state failed, failure_code pool_exhausted);
-- an operator adds a pool and retries it.
INSERT INTO request_transitions VALUES ('approved', 'failed');

-- ------------------------------------------------- routing facts per network

ALTER TABLE networks
  ADD COLUMN max_prefix4 integer CONSTRAINT networks_max_prefix4 CHECK (max_prefix4 BETWEEN 1 AND 10000000),
  ADD COLUMN max_prefix6 integer CONSTRAINT networks_max_prefix6 CHECK (max_prefix6 BETWEEN 1 AND 10000000),
  ADD COLUMN irr_as_set text CONSTRAINT networks_irr_as_set
    CHECK (length(irr_as_set) <= 100 AND irr_as_set ~ '^[A-Za-z0-9:_.-]+$');

CREATE TABLE network_prefixes (
  network_id  bigint NOT NULL REFERENCES networks (id),
  prefix      cidr NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT network_prefixes_pkey PRIMARY KEY (network_id, prefix),
  -- a prefix longer than these could never be imported (docs/bgp.md)
  CONSTRAINT network_prefixes_length
    CHECK (masklen(prefix) >= 8 AND masklen(prefix) <= CASE family(prefix) WHEN 4 THEN 24 ELSE 48 END)
);
CREATE INDEX network_prefixes_space ON network_prefixes USING gist (prefix inet_ops);

-- Routing facts are public within the exchange (like an IRR); a network
-- changes only its own.
ALTER TABLE network_prefixes ENABLE ROW LEVEL SECURITY;
CREATE POLICY network_prefixes_read ON network_prefixes FOR SELECT USING (true);
CREATE POLICY network_prefixes_own ON network_prefixes FOR INSERT
  WITH CHECK (pf_is_operator() OR network_id = pf_network());
CREATE POLICY network_prefixes_remove ON network_prefixes FOR DELETE
  USING (pf_is_operator() OR network_id = pf_network());

-- ---------------------------------------------------------------- pools

CREATE TABLE address_pools (
  id          bigserial PRIMARY KEY,
  cidr        cidr NOT NULL,
  family      smallint NOT NULL GENERATED ALWAYS AS (family(cidr)) STORED,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- room for at least two links
  CONSTRAINT address_pools_size
    CHECK (masklen(cidr) <= CASE family(cidr) WHEN 4 THEN 30 ELSE 126 END),
  CONSTRAINT address_pools_overlap EXCLUDE USING gist (cidr inet_ops WITH &&)
);
ALTER TABLE address_pools ENABLE ROW LEVEL SECURITY;
CREATE POLICY address_pools_operator ON address_pools USING (pf_is_operator());

CREATE TABLE circuit_addresses (
  request_id    bigint NOT NULL REFERENCES peering_requests (id),
  family        smallint NOT NULL CHECK (family IN (4, 6)),
  net           cidr NOT NULL,   -- the /31 or /127: requester the lower address, peer the upper
  pool_id       bigint NOT NULL
                CONSTRAINT circuit_addresses_pool REFERENCES address_pools (id),
  allocated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT circuit_addresses_pkey PRIMARY KEY (request_id, family),
  CONSTRAINT circuit_addresses_shape
    CHECK (family(net) = family AND masklen(net) = CASE family WHEN 4 THEN 31 ELSE 127 END),
  CONSTRAINT circuit_addresses_overlap EXCLUDE USING gist (net inet_ops WITH &&)
);
CREATE INDEX circuit_addresses_pool ON circuit_addresses (pool_id);
ALTER TABLE circuit_addresses ENABLE ROW LEVEL SECURITY;
CREATE POLICY circuit_addresses_party ON circuit_addresses FOR SELECT
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));

CREATE TABLE request_bgp_secrets (
  request_id  bigint PRIMARY KEY REFERENCES peering_requests (id),
  nonce       bytea NOT NULL CHECK (length(nonce) = 24),
  sealed      bytea NOT NULL CHECK (length(sealed) BETWEEN 17 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE request_bgp_secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_bgp_secrets_party ON request_bgp_secrets
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM peering_requests r WHERE r.id = request_id));

-- pf_is_operator() for SECURITY DEFINER functions: inside one,
-- current_user is the owner, so the caller's worker role is recognised by
-- its login (session_user) instead, which peerflow_app cannot be (the
-- membership goes one way, 0006_trust.sql).
CREATE FUNCTION pf_caller_is_operator() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN pg_has_role(session_user, 'peerflow_worker', 'MEMBER')
      THEN coalesce(current_setting('peerflow.operator', true), '') = 'on'
    WHEN coalesce(current_setting('peerflow.operator_grant', true), '') = ''
      THEN false
    ELSE pf_operator_granted()
  END
$$;

-- The lowest free block of a family's pools, or NULL. The candidates are
-- each pool's first block and the block after each allocation (the free
-- space starts at one of them), so the scan is linear in allocations.
CREATE FUNCTION pf_bgp_free_block(p_family integer) RETURNS TABLE (pool_id bigint, net cidr)
LANGUAGE sql STABLE AS $$
  WITH pools AS (SELECT p.id, p.cidr FROM address_pools p WHERE p.family = p_family),
       cand AS (
         SELECT p.id, set_masklen(p.cidr, CASE p_family WHEN 4 THEN 31 ELSE 127 END) AS net
           FROM pools p
         UNION ALL
         SELECT p.id, (a.net::inet + 2)::cidr
           FROM circuit_addresses a JOIN pools p ON p.id = a.pool_id
          WHERE a.net <> network(set_masklen(broadcast(p.cidr), masklen(a.net))))
  SELECT c.id, c.net FROM cand c JOIN pools p ON p.id = c.id
   WHERE c.net <<= p.cidr
     AND NOT EXISTS (SELECT 1 FROM circuit_addresses x WHERE x.net && c.net)
   ORDER BY c.net
   LIMIT 1
$$;

-- Allocates the request's link addresses, all or none: one block per
-- family the request wants and a pool exists for. Returns
-- {"ipv4": "100.64.0.0/31", "ipv6": ..., "new": ["ipv4", ...], "md5": B}:
-- the blocks the request holds now, which of them this call allocated,
-- and whether it wants a TCP-MD5 secret; or {"exhausted": 4|6} having
-- allocated nothing. SECURITY DEFINER: a party cannot read the other networks'
-- allocations, and must not have to; it allocates only for a request its
-- caller can see, in a state that has a circuit.
CREATE FUNCTION pf_bgp_allocate(p_request bigint) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
  fam integer;
  want boolean;
  blk record;
  got jsonb := '{}';
  todo jsonb := '[]';
BEGIN
  SELECT id, state, bgp_ipv4, bgp_ipv6, bgp_md5, requester_network_id, peer_network_id INTO r
    FROM peering_requests WHERE id = p_request;
  IF NOT FOUND OR NOT (pf_caller_is_operator() OR pf_network() IN (r.requester_network_id, r.peer_network_id)) THEN
    RAISE EXCEPTION 'request % not found', p_request USING ERRCODE = 'no_data_found';
  END IF;
  IF r.state NOT IN ('approved', 'provisioning', 'failed') THEN
    RAISE EXCEPTION 'request % is %: addresses are allocated when it is approved', p_request, r.state
      USING ERRCODE = 'check_violation', CONSTRAINT = 'bgp_allocate_state';
  END IF;
  FOREACH fam IN ARRAY ARRAY[4, 6] LOOP
    want := CASE fam WHEN 4 THEN r.bgp_ipv4 ELSE r.bgp_ipv6 END;
    CONTINUE WHEN NOT want;
    -- one allocator per family at a time: the lock, then a fresh snapshot
    -- in the next statement sees every block allocated before it
    PERFORM 1 FROM address_pools p WHERE p.family = fam ORDER BY p.id FOR UPDATE;
    CONTINUE WHEN NOT FOUND; -- no pool of this family: no session of it
    SELECT a.net INTO blk FROM circuit_addresses a WHERE a.request_id = p_request AND a.family = fam;
    IF FOUND THEN
      got := got || jsonb_build_object('ipv' || fam, blk.net::text);
      CONTINUE;
    END IF;
    SELECT * INTO blk FROM pf_bgp_free_block(fam);
    IF blk.net IS NULL THEN
      RETURN json_build_object('exhausted', fam);
    END IF;
    todo := todo || jsonb_build_object('family', fam, 'pool', blk.pool_id, 'net', blk.net::text);
  END LOOP;
  INSERT INTO circuit_addresses (request_id, family, net, pool_id)
  SELECT p_request, (t->>'family')::smallint, (t->>'net')::cidr, (t->>'pool')::bigint
    FROM jsonb_array_elements(todo) t;
  SELECT got || coalesce(jsonb_object_agg('ipv' || (t->>'family'), t->>'net'), '{}')
              || jsonb_build_object('new', coalesce(jsonb_agg('ipv' || (t->>'family')), '[]'),
                                    'md5', r.bgp_md5)
    INTO got FROM jsonb_array_elements(todo) t;
  RETURN got::json;
END
$$;

-- Releases the request's addresses and its secret (decommissioned).
-- Returns what was released, {} when nothing was held.
CREATE FUNCTION pf_bgp_release(p_request bigint) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
  out jsonb;
BEGIN
  SELECT id, state, requester_network_id, peer_network_id INTO r
    FROM peering_requests WHERE id = p_request;
  IF NOT FOUND OR NOT (pf_caller_is_operator() OR pf_network() IN (r.requester_network_id, r.peer_network_id)) THEN
    RAISE EXCEPTION 'request % not found', p_request USING ERRCODE = 'no_data_found';
  END IF;
  IF r.state <> 'decommissioned' THEN
    RAISE EXCEPTION 'request % is %: addresses are released when it is decommissioned', p_request, r.state
      USING ERRCODE = 'check_violation', CONSTRAINT = 'bgp_release_state';
  END IF;
  WITH gone AS (DELETE FROM circuit_addresses WHERE request_id = p_request RETURNING family, net)
  SELECT coalesce(jsonb_object_agg('ipv' || family, net::text), '{}') INTO out FROM gone;
  DELETE FROM request_bgp_secrets WHERE request_id = p_request;
  RETURN out::json;
END
$$;

-- How full each pool is (operators).
CREATE FUNCTION pf_bgp_pool_usage() RETURNS TABLE (cidr cidr, family smallint, allocated bigint, free numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT p.cidr, p.family, count(a.net),
         2::numeric ^ ((CASE p.family WHEN 4 THEN 32 ELSE 128 END) - masklen(p.cidr)) / 2 - count(a.net)
    FROM address_pools p LEFT JOIN circuit_addresses a ON a.pool_id = p.id
   WHERE pf_caller_is_operator()
   GROUP BY p.id ORDER BY p.family, p.cidr
$$;

-- ----------------------------------------------------------- privileges

REVOKE ALL ON FUNCTION pf_bgp_allocate(bigint), pf_bgp_release(bigint), pf_bgp_pool_usage(),
  pf_bgp_free_block(integer), pf_caller_is_operator() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pf_bgp_allocate(bigint), pf_bgp_release(bigint) TO peerflow_app;
GRANT EXECUTE ON FUNCTION pf_bgp_pool_usage() TO peerflow_worker;
GRANT SELECT, INSERT, DELETE ON network_prefixes TO peerflow_app;
GRANT SELECT ON circuit_addresses TO peerflow_app;
GRANT SELECT, INSERT, DELETE ON request_bgp_secrets TO peerflow_app;
GRANT SELECT ON address_pools TO peerflow_app;
GRANT INSERT, DELETE ON address_pools TO peerflow_worker;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO peerflow_app;
