/* wf_links: approval links - what GET and POST /t/TOKEN do, and the
 * signing of a link when its mail is delivered (docs/security.md).
 *
 * A link works when its token decodes and verifies (workflow/tokens.h),
 * a row with its id exists whose hash equals BLAKE2b(token) and whose
 * fields equal the token's, it is unused, its request is still pending,
 * and the contact's network has not decided yet. Each refusal has its own
 * stable code, for the page to explain:
 *
 *   token_malformed      PF_EINVALID   not a token (cut, edited, not base64url)
 *   token_bad_signature  PF_EFORBIDDEN altered, signature does not match
 *   token_unknown_key    PF_EFORBIDDEN signed by a retired or revoked key
 *   token_expired        PF_ECONFLICT  past its expiry
 *   token_unknown        PF_ENOTFOUND  signed but not issued here (or revoked)
 *   token_used           PF_ECONFLICT  already used once
 *   token_request_closed PF_ECONFLICT  the request is no longer pending
 *   already_decided      PF_ECONFLICT  the network decided already (another
 *                                      contact's link, or an admin on the web)
 * and for wf_token_decide only:
 *   no_decision          PF_EINVALID   no approve/reject chosen: show the form again
 *   bad_decision         PF_EINVALID   decision is not "approve" or "reject"
 *   token_action_not_allowed PF_EFORBIDDEN the link does not allow this decision
 * plus any refusal of the decision itself (e.g. peer_port_required,
 * vlan_required, request_expired), which leaves the token unused.
 */
#ifndef WF_LINKS_H
#define WF_LINKS_H

#include <jansson.h>

#include "workflow/context.h"
#include "workflow/keys.h"
#include "workflow/tokens.h"

/* The confirmation page's view model; changes nothing. *view (a new
 * reference, caller json_decref()s) on PF_OK:
 *   {"request": {id, state, version, requester {asn, name, port, switch,
 *                mode, vlan}, peer {...}, bandwidth_mbps, message,
 *                created_at, expires_at, approvals [...]},
 *    "side": "requester"|"peer",      the side the contact decides for
 *    "network": {"asn", "name"},      that side's network
 *    "contact": "noc@x.example",      whom the link was mailed to
 *    "actions": ["approve", "reject"],
 *    "token_expires_at": unix seconds,
 *    "choose_port": bool,             the peer must pick one of "ports"
 *    "ports": [{"name", "mode", "trunk"}], every port of the peer when its
 *                                      port is not fixed yet (no limit)
 *    "only_port": {"name", "mode"}|null, that port when it has just one
 *    "ask_vlan": bool}                the port is not fixed and is, or may
 *                                      be, a trunk: the page asks a VLAN */
pf_kind wf_token_view(const wf_env *env, wf_keyring *keys, const char *token, json_t **view,
                      pf_err *err);

typedef struct {
    const char *token;       /* the TOKEN of /t/TOKEN */
    const char *decision;    /* "approve" | "reject"; NULL or "" = none chosen */
    const char *port;        /* the peer's port, when it had to choose; or NULL */
    int vlan;                /* on a trunk port; 0 = none */
    const char *reason;      /* optional */
    const char *client_addr; /* for the audit log; may be NULL */
    const char *user_agent;  /* for the audit log; may be NULL */
} wf_token_decision;

/* Performs the decision in one transaction: verifies the token, locks its
 * row, checks it is unused, records the approval or rejection as the
 * contact (role contact, via "email", the token id), marks the token used
 * and appends "token.used" (contact, token id, client address, user
 * agent) to the audit log. Either all of it or nothing. */
pf_kind wf_token_decide(const wf_env *env, wf_keyring *keys, const wf_token_decision *d,
                        pf_err *err);

/* The outbox message a link is signed for. */
typedef struct {
    const unsigned char *token_id; /* WF_TOKEN_ID_BYTES */
    long long request_id;          /* the message's request and network */
    long long network_id;
    const char *recipients;        /* the message's recipients, a JSON array */
} wf_link_delivery;

/* For the mailer, inside its open transaction: the token text of the
 * approval_tokens row d->token_id, signed with the key already bound to it
 * (the same text at every attempt), or on first use with the current key,
 * which is then bound (key id and hash stored).
 *
 * Signs only for the contact the token was issued to: the message's
 * recipients must be exactly [approval_tokens.contact], and its request
 * and network the token's. Otherwise (a tampered outbox row: a link
 * must never reach another address) PF_EFORBIDDEN
 * "link_not_for_recipient", nothing signed or bound. */
pf_kind wf_link_token_for_delivery(const wf_env *env, wf_keyring *keys,
                                   const wf_link_delivery *d, char text[WF_TOKEN_TEXT_MAX],
                                   pf_err *err);

#endif
