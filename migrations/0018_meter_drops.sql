-- Meter drops of capped circuits (issue 14: peerflow_circuit_dropped_packets_total).
-- See docs/architecture.md ("Traffic").
--
-- The counter poller (provisioner/counters.c) reads each switch's meter
-- stats beside its flow stats and keeps, on the meter's own row, the drop
-- band's packet counter as last read and a running total that only grows
-- (what /metrics exports). As for flows, a meter whose counter went
-- backwards or whose age went backwards (re-added by the reconciler, a
-- switch restart) starts a new segment: the reading itself is added, so
-- the total never falls. The meter of end 'a' polices what the requester
-- sends (a_to_b), end 'b' what the peer sends (b_to_a). The columns go
-- with the meter: a circuit without a cap has no row and exports nothing.
ALTER TABLE circuit_meters
  ADD COLUMN dropped_packets_total bigint NOT NULL DEFAULT 0
      CONSTRAINT circuit_meters_dropped_nonneg CHECK (dropped_packets_total >= 0),
  ADD COLUMN last_dropped_packets bigint,   -- the switch's counter, as last read
  ADD COLUMN last_duration_s bigint,        -- the meter's age then
  ADD COLUMN drops_sampled_at timestamptz;  -- of that reading; NULL: never read
