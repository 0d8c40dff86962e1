-- Accounts: atomic login throttling with per-account backoff.
--
-- One row per throttled key, 'account:<lower(email)>' or 'addr:<client
-- address>', replaces the old one-row-per-failure table: counting rows
-- and then inserting one let N parallel wrong passwords all pass the
-- count. pf_login_attempt() decides and records an attempt while it holds
-- both rows locked, so concurrent attempts on one key are decided one
-- after the other. An attempt is counted as a failure *before* the
-- password is checked; a successful login takes it back
-- (db_login_succeeded). See docs/security.md, "Logins".

DROP TABLE login_failures;

CREATE TABLE login_throttle (
  key            text PRIMARY KEY,
  failures       integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  -- address: start of the counting window; account: the last failure
  since          timestamptz NOT NULL DEFAULT now(),
  -- account only: no attempt is checked before this time
  blocked_until  timestamptz
);
CREATE INDEX login_throttle_since ON login_throttle (since);

-- p_window: seconds of the address window, and of quiet after which an
-- account's failures are forgotten; p_addr_max: attempts per address and
-- window; p_account_free: failures before an account backs off; p_cap:
-- longest backoff in seconds. Returns allowed, which limit refused
-- ('address' | 'account'), and the seconds to wait.
CREATE FUNCTION pf_login_attempt(p_email text, p_addr text, p_window integer,
                                 p_addr_max integer, p_account_free integer, p_cap integer,
                                 OUT allowed boolean, OUT reason text, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
  ka text := 'account:' || lower(p_email);
  kn text := 'addr:' || p_addr;
  win interval := make_interval(secs => p_window);
  n login_throttle;
  a login_throttle;
BEGIN
  -- Address row first, then account row, in every call: no deadlock.
  INSERT INTO login_throttle (key) VALUES (kn) ON CONFLICT (key) DO NOTHING;
  INSERT INTO login_throttle (key) VALUES (ka) ON CONFLICT (key) DO NOTHING;
  SELECT * INTO n FROM login_throttle WHERE key = kn FOR UPDATE;
  SELECT * INTO a FROM login_throttle WHERE key = ka FOR UPDATE;
  IF n.since < now() - win THEN
    n.failures := 0;
    n.since := now();
  END IF;
  IF coalesce(a.blocked_until, a.since) < now() - win THEN
    a.failures := 0;
    a.blocked_until := NULL;
  END IF;
  allowed := false;
  IF n.failures >= p_addr_max THEN
    reason := 'address';
    retry_after := greatest(1, ceil(extract(epoch FROM n.since + win - now()))::integer);
    RETURN;
  END IF;
  IF a.blocked_until > now() THEN
    reason := 'account';
    retry_after := greatest(1, ceil(extract(epoch FROM a.blocked_until - now()))::integer);
    RETURN;
  END IF;
  UPDATE login_throttle SET failures = n.failures + 1, since = n.since WHERE key = kn;
  UPDATE login_throttle
     SET failures = a.failures + 1, since = now(),
         blocked_until = CASE WHEN a.failures + 1 >= p_account_free
                              THEN now() + make_interval(secs =>
                                     least(p_cap, power(2, a.failures + 1 - p_account_free)))
                         END
   WHERE key = ka;
  allowed := true;
  reason := NULL;
  retry_after := 0;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO peerflow_app;
