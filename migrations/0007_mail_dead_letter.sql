-- Dead letters (docs/mail.md): a message that can never be delivered as
-- it is (the server refused the recipient or the message with a 5xx
-- reply, an address the mailer cannot encode, an approval link that does
-- not belong to the row's recipient) or that failed max_attempts times
-- is marked dead: dead_at is set, last_error says why, and it is never
-- claimed again. It stays in the outbox and in reports.mail_queue (state
-- 'dead') until an operator fixes the cause and requeues it.

ALTER TABLE outbox
  ADD COLUMN dead_at timestamptz,
  ADD CONSTRAINT outbox_dead_or_delivered CHECK (dead_at IS NULL OR delivered_at IS NULL),
  ADD CONSTRAINT outbox_dead_has_error CHECK (dead_at IS NULL OR last_error IS NOT NULL);

-- the mailer's claim: due, undelivered and not dead
CREATE INDEX outbox_live_due ON outbox (next_attempt_at)
  WHERE delivered_at IS NULL AND dead_at IS NULL;

-- Mail not delivered yet: the columns of 0004 (unchanged, in order), then
-- state ('pending' = will be tried again at next_attempt_at, 'dead' = will
-- never be tried again) and dead_at. Delivered mail leaves the report: it
-- is the queue, not a log (the outbox keeps delivered_at).
CREATE OR REPLACE VIEW reports.mail_queue WITH (security_invoker = true) AS
SELECT o.id AS outbox_id,
       o.kind,
       o.request_id,
       array_to_string(o.recipients, ', ') AS recipients,
       o.subject,
       o.attempts,
       date_trunc('second', now() - o.created_at) AS age,
       CASE WHEN o.dead_at IS NULL THEN o.next_attempt_at END AS next_attempt_at,
       o.last_error,
       o.message_id,
       CASE WHEN o.delivered_at IS NOT NULL THEN 'delivered'
            WHEN o.dead_at IS NOT NULL THEN 'dead'
            ELSE 'pending' END AS state,
       o.dead_at
  FROM outbox o
 WHERE o.delivered_at IS NULL
 ORDER BY o.created_at, o.id;
COMMENT ON VIEW reports.mail_queue IS
  'mail not delivered: pending (attempts, next try, last error) or dead (never tried again, why)';

GRANT SELECT ON reports.mail_queue TO peerflow_app;
