-- Bandwidth caps with OpenFlow meters, and switch certificates (issue 13).
-- See docs/fabric.md ("Bandwidth caps") and docs/openflow.md.

-- The meters of a circuit with a cap: one per end ('a' the requester's,
-- 'b' the peer's), on that end's switch, which meters the traffic the end
-- sends into the fabric (its ingress flow carries OFPIT_METER). A meter id
-- is the tag 0x5046 ("PF", as in flow cookies) in its top 16 bits and a
-- number 1..65535 in the low 16: the reconciler tells peerflow's meters
-- from other controllers' by the tag alone. The unique key is the
-- guarantee that two circuits never share a meter on a switch; the rows
-- go with the circuit's flows when it is torn down (db_prov_release).
CREATE TABLE circuit_meters (
  circuit_id   bigint NOT NULL REFERENCES circuits (id) ON DELETE CASCADE,
  end_side     text NOT NULL CHECK (end_side IN ('a', 'b')),
  switch_id    bigint NOT NULL REFERENCES switches (id),
  meter_id     bigint NOT NULL
               CONSTRAINT circuit_meters_id_tagged
               CHECK (meter_id BETWEEN x'50460001'::bigint AND x'5046ffff'::bigint),
  rate_kbps    bigint NOT NULL CHECK (rate_kbps BETWEEN 1 AND 4294967295),
  burst_kbits  bigint NOT NULL CHECK (burst_kbits BETWEEN 1 AND 4294967295),
  CONSTRAINT circuit_meters_pkey PRIMARY KEY (circuit_id, end_side),
  CONSTRAINT circuit_meters_switch_meter_key UNIQUE (switch_id, meter_id)
);

ALTER TABLE circuit_meters ENABLE ROW LEVEL SECURITY;
CREATE POLICY circuit_meters_operator ON circuit_meters USING (pf_is_operator());
GRANT SELECT ON circuit_meters TO peerflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON circuit_meters TO peerflow_worker;

-- A switch's TLS certificate, pinned: the SHA-256 fingerprint (64
-- lowercase hex digits) of its DER certificate. A switch on the TLS
-- listener whose certificate does not match is refused (docs/fabric.md,
-- "OpenFlow over TLS"). NULL: no pin (plain TCP or unix switches).
ALTER TABLE switches ADD COLUMN cert_sha256 text
  CONSTRAINT switches_cert_sha256_format CHECK (cert_sha256 ~ '^[0-9a-f]{64}$');

-- `ssl:HOST:PORT` endpoints next to tcp: and unix:.
ALTER TABLE switches DROP CONSTRAINT switches_endpoint_format;
ALTER TABLE switches ADD CONSTRAINT switches_endpoint_format
  CHECK (endpoint ~ '^((tcp|ssl):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}|unix:/.+)$');

-- A live circuit's cap is changed in place by a job of kind 'modify'
-- (the provisioner re-rates the circuit's meters with OFPMC_MODIFY).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
  CHECK (kind IN ('provision', 'teardown', 'modify'));
