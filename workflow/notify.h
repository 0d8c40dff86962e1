/* wf_notify: composes the email of a request event and puts it in the
 * outbox, inside the caller's transaction (the mailer, workflow/mailer.h,
 * delivers it later; docs/mail.md). One message per network concerned
 * with at least one peering contact - except approval_needed: one message
 * per contact, each with its own approval-link token (a token binds one
 * contact). Its body holds WF_NOTIFY_LINK_PLACEHOLDER where the link goes:
 * the mailer signs the token at delivery, so neither the outbox nor the
 * database ever holds a usable link (docs/security.md). */
#ifndef WF_NOTIFY_H
#define WF_NOTIFY_H

#include "db/requests.h"
#include "workflow/context.h"

/* Replaced by the mailer (first occurrence only; it comes before any text
 * a user wrote) with BASE_URL/t/TOKEN. */
#define WF_NOTIFY_LINK_PLACEHOLDER "{{approval_link}}"

enum {
    WF_NOTIFY_REQUESTER = 1,
    WF_NOTIFY_PEER = 2,
    WF_NOTIFY_BOTH = 3,
};

/* kind: "approval_needed", "auto_approved", "request_approved",
 * "request_active", "request_failed", "request_rejected",
 * "request_cancelled", "request_expired", "request_decommissioned".
 * detail: an extra sentence (a reason, an error) or NULL. */
pf_kind wf_notify(const wf_env *env, long long request_id, const char *kind, int sides,
                  const char *detail, pf_err *err);

/* wf_notify with the request's summary already read in this transaction
 * after its last change (db_request_set_state_summary): no read of its
 * own. */
pf_kind wf_notify_summary(const wf_env *env, const db_request_summary *s, const char *kind,
                          int sides, const char *detail, pf_err *err);

/* wf_notify for a change of a live circuit (workflow/changes.h): kinds
 * change_needed (with approval links that decide change_id),
 * change_approved, change_rejected, change_applied, change_failed,
 * change_cancelled. detail says what the change is. */
pf_kind wf_notify_change(const wf_env *env, long long request_id, long long change_id,
                         const char *kind, int sides, const char *detail, pf_err *err);

#endif
