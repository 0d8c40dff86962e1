-- Provisioner failover with OpenFlow controller roles (issue 17 part 2).
-- See docs/fabric.md ("Several provisioners: mastership").

-- Generation ids of OFPT_ROLE_REQUEST: one sequence for every switch, so a
-- takeover's id is larger than any the switch has seen, also after a
-- switch's row was deleted and added again (the switch remembers the
-- newest id while it runs and refuses an older one, OFPRRFC_STALE).
CREATE SEQUENCE switch_master_generation START 1;

-- One lease per switch: the provisioner process (its worker name, the
-- prefix of jobs.locked_by) that is master of the switch until
-- expires_at. It is renewed every lease/3 while the process is alive and
-- reaches the switch, taken over when it has expired, and every takeover
-- draws a new generation. A row with worker '' and generation 0 is a
-- switch nobody has held yet (expired from the start).
CREATE TABLE switch_masters (
  switch_id   bigint PRIMARY KEY REFERENCES switches (id) ON DELETE CASCADE,
  worker      text NOT NULL,
  generation  bigint NOT NULL CHECK (generation >= 0),
  acquired_at timestamptz NOT NULL DEFAULT now(),
  renewed_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);

ALTER TABLE switch_masters ENABLE ROW LEVEL SECURITY;
CREATE POLICY switch_masters_operator ON switch_masters USING (pf_is_operator());
GRANT SELECT ON switch_masters TO peerflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON switch_masters TO peerflow_worker;
GRANT USAGE ON SEQUENCE switch_master_generation TO peerflow_worker;
