-- Traffic counters of circuits (issue 14, docs/architecture.md "Traffic").
--
-- The provisioner reads each circuit's two ingress flows (flow stats) every
-- PEERFLOW_COUNTER_INTERVAL seconds. traffic_counters holds, per circuit
-- and direction, the switch's counter as last read (to take the next
-- difference from) and a running total that only grows (what /metrics
-- exports); each reading adds one row of differences to traffic_samples.
-- A counter that went backwards, or a flow whose age went backwards (the
-- flow was re-added by reconcile, the switch restarted), starts a new
-- segment: the difference is the new counter itself, counted since the
-- flow was added, which lies inside the interval - never negative.
-- Nothing is written while a counter does not move (an idle circuit costs
-- no row): after first_at, a time without a sample is zero traffic.
--
-- Tiers, one row per circuit and bucket with both directions:
--   traffic_samples   raw readings         kept 48 hours
--   traffic_5m        5-minute sums        kept 90 days
--   traffic_1h        hourly sums          kept 2 years
-- pf_traffic_rollup(now), called by the worker loop, recomputes every
-- bucket since the last run (idempotent upserts of sums) and prunes.

CREATE TABLE traffic_counters (
  circuit_id      bigint NOT NULL REFERENCES circuits (id) ON DELETE CASCADE,
  direction       text NOT NULL CHECK (direction IN ('a_to_b', 'b_to_a')),
  bytes_total     bigint NOT NULL DEFAULT 0 CHECK (bytes_total >= 0),
  packets_total   bigint NOT NULL DEFAULT 0 CHECK (packets_total >= 0),
  last_bytes      bigint NOT NULL,   -- the switch's counter, as last read
  last_packets    bigint NOT NULL,
  last_duration_s bigint NOT NULL,   -- the flow's age then
  segments        integer NOT NULL DEFAULT 1,  -- 1 + resets seen
  sampled_at      timestamptz NOT NULL,   -- of the last stored reading
  first_at        timestamptz NOT NULL,   -- of the first: counting since
  PRIMARY KEY (circuit_id, direction)
);

CREATE TABLE traffic_samples (
  circuit_id  bigint NOT NULL REFERENCES circuits (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  seconds     real NOT NULL CHECK (seconds > 0),   -- since the previous reading
  ab_bytes    bigint NOT NULL DEFAULT 0 CHECK (ab_bytes >= 0),
  ab_packets  bigint NOT NULL DEFAULT 0 CHECK (ab_packets >= 0),
  ba_bytes    bigint NOT NULL DEFAULT 0 CHECK (ba_bytes >= 0),
  ba_packets  bigint NOT NULL DEFAULT 0 CHECK (ba_packets >= 0),
  PRIMARY KEY (circuit_id, at)
);

CREATE TABLE traffic_5m (
  circuit_id  bigint NOT NULL REFERENCES circuits (id) ON DELETE CASCADE,
  bucket      timestamptz NOT NULL,
  ab_bytes    bigint NOT NULL CHECK (ab_bytes >= 0),
  ab_packets  bigint NOT NULL CHECK (ab_packets >= 0),
  ba_bytes    bigint NOT NULL CHECK (ba_bytes >= 0),
  ba_packets  bigint NOT NULL CHECK (ba_packets >= 0),
  PRIMARY KEY (circuit_id, bucket)
);

CREATE TABLE traffic_1h (LIKE traffic_5m INCLUDING ALL);
ALTER TABLE traffic_1h ADD FOREIGN KEY (circuit_id) REFERENCES circuits (id) ON DELETE CASCADE;

-- Where the last rollup got to: the next one recomputes from its bucket.
CREATE TABLE traffic_rollup_state (
  one        boolean PRIMARY KEY DEFAULT true CHECK (one),
  rolled_to  timestamptz NOT NULL
);
INSERT INTO traffic_rollup_state VALUES (true, '-infinity');

CREATE FUNCTION pf_traffic_rollup(p_now timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  since timestamptz;
BEGIN
  SELECT rolled_to INTO since FROM traffic_rollup_state FOR UPDATE;
  IF since = '-infinity' THEN
    since := coalesce((SELECT min(at) FROM traffic_samples), p_now);
  END IF;
  -- A sample is stamped with its transaction's start: one that committed
  -- after the last run may be older than it. Ten minutes back covers it.
  since := since - interval '10 minutes';
  INSERT INTO traffic_5m (circuit_id, bucket, ab_bytes, ab_packets, ba_bytes, ba_packets)
  SELECT circuit_id, date_bin('5 minutes', at, timestamptz 'epoch'),
         sum(ab_bytes), sum(ab_packets), sum(ba_bytes), sum(ba_packets)
    FROM traffic_samples
   WHERE at >= date_bin('5 minutes', since, timestamptz 'epoch') AND at <= p_now
   GROUP BY 1, 2
  ON CONFLICT (circuit_id, bucket) DO UPDATE SET
    ab_bytes = EXCLUDED.ab_bytes, ab_packets = EXCLUDED.ab_packets,
    ba_bytes = EXCLUDED.ba_bytes, ba_packets = EXCLUDED.ba_packets;
  INSERT INTO traffic_1h (circuit_id, bucket, ab_bytes, ab_packets, ba_bytes, ba_packets)
  SELECT circuit_id, date_bin('1 hour', bucket, timestamptz 'epoch'),
         sum(ab_bytes), sum(ab_packets), sum(ba_bytes), sum(ba_packets)
    FROM traffic_5m
   WHERE bucket >= date_bin('1 hour', since, timestamptz 'epoch') AND bucket <= p_now
   GROUP BY 1, 2
  ON CONFLICT (circuit_id, bucket) DO UPDATE SET
    ab_bytes = EXCLUDED.ab_bytes, ab_packets = EXCLUDED.ab_packets,
    ba_bytes = EXCLUDED.ba_bytes, ba_packets = EXCLUDED.ba_packets;
  UPDATE traffic_rollup_state SET rolled_to = p_now;
  DELETE FROM traffic_samples WHERE at < p_now - interval '48 hours';
  DELETE FROM traffic_5m WHERE bucket < p_now - interval '90 days';
  DELETE FROM traffic_1h WHERE bucket < p_now - interval '2 years';
END $$;

-- A request's traffic is its two parties' and the operators', like its
-- circuit (whose own policy follows the request's).
ALTER TABLE traffic_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE traffic_samples ENABLE ROW LEVEL SECURITY;
ALTER TABLE traffic_5m ENABLE ROW LEVEL SECURITY;
ALTER TABLE traffic_1h ENABLE ROW LEVEL SECURITY;
CREATE POLICY traffic_counters_party ON traffic_counters
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM circuits c WHERE c.id = circuit_id));
CREATE POLICY traffic_samples_party ON traffic_samples
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM circuits c WHERE c.id = circuit_id));
CREATE POLICY traffic_5m_party ON traffic_5m
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM circuits c WHERE c.id = circuit_id));
CREATE POLICY traffic_1h_party ON traffic_1h
  USING (pf_is_operator() OR EXISTS (SELECT 1 FROM circuits c WHERE c.id = circuit_id));

-- The web reads; only the workers (provisioner, rollup) write.
GRANT SELECT ON traffic_counters, traffic_samples, traffic_5m, traffic_1h TO peerflow_app;
GRANT INSERT, UPDATE ON traffic_counters TO peerflow_worker;
GRANT INSERT, UPDATE, DELETE ON traffic_samples TO peerflow_worker;
GRANT INSERT, UPDATE, DELETE ON traffic_5m, traffic_1h TO peerflow_worker;
GRANT SELECT, UPDATE ON traffic_rollup_state TO peerflow_worker;
REVOKE ALL ON FUNCTION pf_traffic_rollup(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pf_traffic_rollup(timestamptz) TO peerflow_worker;
