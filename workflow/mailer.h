/* wf_mailer: delivers the outbox (docs/mail.md).
 *
 * Messages were composed into the outbox in the transaction of the change
 * they announce (workflow/notify.c). The mailer claims due ones
 * (FOR UPDATE SKIP LOCKED, with a lease, so several workers can run),
 * signs the approval link of approval_needed messages (workflow/links.h),
 * formats RFC 5322 / MIME text and hands it to the transport:
 *
 *   smtp://[USER:PASS@]HOST[:PORT]   SMTP with STARTTLS, required: a server
 *                                    (or a man in the middle) that offers
 *                                    no STARTTLS gets nothing
 *   smtp://HOST[:PORT]?tls=none      SMTP in cleartext (a local relay, the
 *                                    test sink); refused with credentials
 *   smtps://[USER:PASS@]HOST[:PORT]  SMTP over TLS from the start
 *   file:DIR                         one .eml file per message in DIR,
 *                                    written atomically (temp file + rename)
 * Options other than tls=required (the default) and tls=none are refused.
 *
 * A failed delivery is retried with exponential backoff. A message that
 * can never be delivered as it is - a 5xx reply to its recipient or to
 * the message, an address the mailer cannot encode, an approval link that
 * is not its recipient's - is a dead letter at once; one that failed
 * otherwise max_attempts times too, except when the failure is the
 * server's or the configuration's (unreachable, TLS, authentication):
 * those wait for as long as it takes. Dead letters are never retried and
 * stay in reports.mail_queue (state 'dead', last_error says why).
 * Delivery is at least once: a worker that dies after the server accepted
 * a message but before delivered_at is committed sends it again, with the
 * same Message-ID and the same bytes (docs/mail.md).
 */
#ifndef WF_MAILER_H
#define WF_MAILER_H

#include "workflow/context.h"
#include "workflow/keys.h"

typedef struct {
    const char *smtp_url;   /* PEERFLOW_SMTP_URL (required) */
    const char *mail_from;  /* PEERFLOW_MAIL_FROM: envelope sender and From: */
    wf_keyring *keys;       /* signs approval links (PEERFLOW_KEY_DIR); borrowed.
                               NULL: approval_needed mail waits, with last_error */
    int lease_seconds;      /* a claimed message is not retried before; 0 = 120 */
    int retry_base_seconds; /* after the n-th failed attempt wait base * 2^(n-1); 0 = 60 */
    int retry_max_seconds;  /* ... but at most this; 0 = 21600 (6 h) */
    int timeout_seconds;    /* per SMTP delivery; 0 = 30 */
    int max_attempts;       /* PEERFLOW_MAIL_MAX_ATTEMPTS: a message failing for a reason
                               that may pass (4xx, a broken connection) is a dead letter
                               after this many attempts; 0 = WF_MAIL_MAX_ATTEMPTS_DEFAULT */
} wf_mailer_config;

/* 10 attempts span about 8.5 hours with the default backoff. */
#define WF_MAIL_MAX_ATTEMPTS_DEFAULT 10

/* Delivers up to max_messages due messages (0 = 100), in batches, using
 * env->db (operator scope) and env->base_url for links. *delivered gets
 * how many were delivered. Returns PF_OK when every claimed message was
 * delivered (also when none was due); PF_EUNAVAIL "mail_delivery_failed"
 * (message: how many will be retried, how many became dead letters, the
 * last failure) when some were not; PF_EINVALID "bad_smtp_url" or
 * "bad_mail_from" for a configuration error; a database error as such.
 * Never prints. */
pf_kind wf_mailer_run_once(const wf_env *env, const wf_mailer_config *cfg, int max_messages,
                           int *delivered, pf_err *err);

/* One message as the mailer formats it (pure; exposed for tests). */
typedef struct {
    const char *from;
    const char *recipients; /* JSON array of addresses */
    const char *subject;    /* UTF-8; RFC 2047 encoded when not ASCII */
    const char *body;       /* UTF-8, \n or \r\n line ends */
    const char *message_id; /* "<...@...>" */
    long long date;         /* unix seconds */
} wf_mail;

/* The RFC 5322 text of m with CRLF line ends: Date, From, To, Subject,
 * Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
 * Content-Transfer-Encoding 7bit (ASCII, lines <= 998) or
 * quoted-printable. *out is malloc'd (caller frees). PF_EINVALID
 * "bad_mail_header" (field "recipients" for a recipient) when an address
 * fails wf_email_valid (workflow/validate.h, the check input uses) or the
 * Message-ID is malformed. */
pf_kind wf_mail_format(const wf_mail *m, char **out, pf_err *err);

#endif
