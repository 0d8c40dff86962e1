-- Approval links and mail delivery (docs/security.md, docs/mail.md).
--
-- approval_tokens: a row is written when the approval_needed mail is
-- composed, in the transaction of the change (workflow/notify.c). The
-- signing key and the hash of the signed token are bound later, when the
-- mailer first signs it (workflow/mailer.c): so submitting needs no key,
-- and neither this table nor the outbox ever holds a usable link - only
-- the token id and BLAKE2b-256 of the token text.

ALTER TABLE approval_tokens
  ALTER COLUMN key_id DROP NOT NULL,
  ALTER COLUMN token_hash DROP NOT NULL,
  ADD CONSTRAINT approval_tokens_bound CHECK ((key_id IS NULL) = (token_hash IS NULL)),
  ADD CONSTRAINT approval_tokens_key_id_format CHECK (key_id ~ '^[0-9a-f]{8}$'),
  ADD CONSTRAINT approval_tokens_actions
    CHECK (cardinality(actions) > 0 AND actions <@ ARRAY['approve', 'reject']::text[]),
  ADD CONSTRAINT approval_tokens_contact_len CHECK (length(contact) BETWEEN 3 AND 254);

ALTER TABLE outbox
  ADD CONSTRAINT outbox_attempts_nonneg CHECK (attempts >= 0);

CREATE INDEX outbox_token ON outbox (token_id) WHERE token_id IS NOT NULL;

-- Mail not delivered yet, oldest first: how often it was tried, when it is
-- tried next, and why the last attempt failed. A message is never dropped:
-- it stays here until a delivery succeeds.
CREATE VIEW reports.mail_queue WITH (security_invoker = true) AS
SELECT o.id AS outbox_id,
       o.kind,
       o.request_id,
       array_to_string(o.recipients, ', ') AS recipients,
       o.subject,
       o.attempts,
       date_trunc('second', now() - o.created_at) AS age,
       o.next_attempt_at,
       o.last_error,
       o.message_id
  FROM outbox o
 WHERE o.delivered_at IS NULL
 ORDER BY o.created_at, o.id;
COMMENT ON VIEW reports.mail_queue IS 'mail not delivered yet: attempts, next try and the last error';

GRANT SELECT ON reports.mail_queue TO peerflow_app;
