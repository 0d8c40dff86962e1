-- The provisioner's additions (issue 5): the cookie scheme as a database
-- guarantee, the job lease index, and what the CLI asks of a running
-- provisioner. See docs/fabric.md.

-- A peerflow flow's cookie is the tag 0x5046 ("PF") in its top 16 bits and
-- the circuit id in the low 48: the switch tells peerflow's flows from
-- other controllers' by the tag alone, and a circuit's flows are found
-- and deleted exactly with the cookie and a mask of all ones.
ALTER TABLE flows ADD CONSTRAINT flows_cookie_is_circuit
  CHECK (cookie = (x'5046000000000000'::bigint | circuit_id));
ALTER TABLE circuits ADD CONSTRAINT circuits_id_fits_cookie
  CHECK (id < x'0001000000000000'::bigint);

-- Claiming: due queued jobs, and running jobs whose lease ran out
-- (their worker died), oldest first.
CREATE INDEX jobs_claim ON jobs (state, run_after, id) WHERE state IN ('queued', 'running');

-- `peerflow reconcile` for a switch that connects to the provisioner (no
-- endpoint the CLI could reach) asks the running provisioner through
-- this column; the provisioner clears it when done.
ALTER TABLE switches ADD COLUMN reconcile_requested_at timestamptz;

-- When the circuit's flows were last confirmed by barrier on every switch.
ALTER TABLE circuits ADD COLUMN installed_at timestamptz;
