/* wf_notify: see notify.h. */
#include "workflow/notify.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/queue.h"
#include "db/requests.h"
#include "db/tokens.h"
#include "workflow/tokens.h"
#include "workflow/validate.h"

struct kind_text {
    const char *kind;
    const char *verb;  /* subject: "Peering request #N <verb>" */
    const char *lead;  /* first line of the body */
};

static const struct kind_text kinds[] = {
    {"approval_needed", "needs your decision",
     "Your network's decision is needed on this peering request."},
    {"auto_approved", "was approved by your open policy",
     "Your network approves every request automatically (open policy), so this one is "
     "approved on your side."},
    {"request_approved", "was approved by both sides",
     "Both networks approved. The exchange is now building the cross-connect."},
    {"request_active", "is active", "The cross-connect is up: traffic flows between the ports."},
    {"request_failed", "failed to provision",
     "Building the cross-connect failed. The exchange operators have been told and can retry."},
    {"request_rejected", "was rejected", "The request was rejected. Nothing will be built."},
    {"request_cancelled", "was cancelled", "The requester cancelled the request."},
    {"request_expired", "expired", "Nobody decided before the request's expiry, so it expired."},
    {"request_decommissioning", "is being torn down",
     "Teardown was requested; the cross-connect is being removed."},
    {"request_decommissioned", "was torn down",
     "The cross-connect was removed and its VLANs released."},
    /* changes of a live circuit (workflow/changes.h) */
    {"change_needed", "asks for a change",
     "The other network asks to change this live circuit; your network's decision is needed."},
    {"change_approved", "change approved",
     "Both networks agreed to the change. The exchange is applying it; the circuit stays up."},
    {"change_rejected", "change rejected", "The change was rejected. The circuit is unchanged."},
    {"change_applied", "change applied", "The change is in place on the fabric."},
    {"change_failed", "change failed",
     "The fabric refused the change. The circuit keeps running as it was; the exchange "
     "operators have been told."},
    {"change_cancelled", "change cancelled",
     "The change was withdrawn: the circuit is no longer active."},
};

static const struct kind_text *find_kind(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return &kinds[i];
    return NULL;
}

/* One side of the request in words, written to f (no fixed buffer: a
 * network's name may be 100 characters of UTF-8). */
static void endpoint_text(FILE *f, long long asn, const char *name, const char *port, int vlan)
{
    if (port[0] == '\0') {
        fprintf(f, "AS%lld %s, port to be chosen by the peer", asn, name);
        return;
    }
    if (vlan)
        fprintf(f, "AS%lld %s, port %s (VLAN %d)", asn, name, port, vlan);
    else
        fprintf(f, "AS%lld %s, port %s (untagged)", asn, name, port);
}

/* The body of a message; link_for: the contact an approval link is for,
 * or NULL (then the body points at the request page). Caller frees. */
static char *compose_body(const wf_env *env, const db_request_summary *s,
                          const struct kind_text *k, long long asn, const char *link_for,
                          const char *detail)
{
    char *body = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&body, &blen);
    if (f == NULL)
        return NULL;
    fprintf(f, "%s\n", k->lead);
    /* the link comes before any text a user wrote, so the mailer's
     * first-occurrence replacement cannot be steered by a message */
    if (link_for)
        fprintf(f,
                "\nOpen this link to approve or reject it. The page shows the request and "
                "asks you to choose; opening it decides nothing:\n\n%s\n\n"
                "The link is for %s only, works once, and expires after %d days or when the "
                "request closes. Do not forward it: whoever holds it can decide for AS%lld.\n",
                WF_NOTIFY_LINK_PLACEHOLDER, link_for, WF_TOKEN_TTL_SECONDS / 86400, asn);
    if (detail && *detail)
        fprintf(f, "\n%s\n", detail);
    fprintf(f, "\nRequest:   #%lld, now %s\nRequester: ", s->id, s->state);
    endpoint_text(f, s->requester_asn, s->requester_name, s->requester_port, s->requester_vlan);
    fprintf(f, "\nPeer:      ");
    endpoint_text(f, s->peer_asn, s->peer_name, s->peer_port, s->peer_vlan);
    fprintf(f, "\n");
    if (s->message[0])
        fprintf(f, "Message:   %s\n", s->message);
    fprintf(f, "\n%s:\n%s/requests/%lld\n\n-- \npeerflow\n",
            link_for ? "Admins of your network can also decide at" : "See the request at",
            env->base_url, s->id);
    if (fclose(f) != 0) {
        free(body);
        return NULL;
    }
    return body;
}

/* false when it would not fit a header the mailer accepts (< 256
 * characters inside the <>): a mail domain that long is a configuration
 * error, said at once rather than cut. */
static bool new_message_id(const wf_env *env, long long id, const char *kind, char *out,
                           size_t n)
{
    unsigned char rnd[12];
    char rhex[25];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(rhex, sizeof rhex, rnd, sizeof rnd);
    int len = snprintf(out, n, "<pf.%lld.%s.%s@%s>", id, kind, rhex, env->mail_domain);
    return len > 0 && (size_t)len < n && len < 256 + 2;
}

static pf_kind enqueue(const wf_env *env, const db_request_summary *s, const struct kind_text *k,
                       long long network_id, long long asn, const char *contacts,
                       const char *detail, long long change_id, pf_err *err)
{
    json_t *arr = json_loads(contacts, 0, NULL);
    if (arr == NULL || !json_is_array(arr)) {
        json_decref(arr);
        return pf_fail(err, PF_EINTERNAL, "bad_contacts", "contacts",
                       "internal error: the contacts of network %lld are not a JSON array",
                       network_id);
    }
    size_t n = json_array_size(arr);
    if (n == 0) {
        json_decref(arr);
        return PF_OK; /* a network without contacts gets no mail; the UI shows it */
    }
    char *subject = NULL;
    if (asprintf(&subject, "Peering request #%lld AS%lld %s -> AS%lld %s %s", s->id,
                 s->requester_asn, s->requester_name, s->peer_asn, s->peer_name, k->verb) < 0) {
        json_decref(arr);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    char mid[300];
    bool links = strcmp(k->kind, "approval_needed") == 0 || strcmp(k->kind, "change_needed") == 0;
    pf_kind rc = PF_OK;
    /* approval links: one message and one token per contact; else one
     * message to all of the network's contacts */
    for (size_t i = 0; rc == PF_OK && i < (links ? n : 1); i++) {
        const char *contact = links ? json_string_value(json_array_get(arr, i)) : NULL;
        char *one = NULL;
        db_token t = {.request_id = s->id, .network_id = network_id,
                      .actions = WF_TOKEN_APPROVE | WF_TOKEN_REJECT, .change_id = change_id};
        /* a contact the mailer could not send to (stored before the
         * address check, or by hand) gets its message without a token:
         * the mailer makes it a dead letter, visible in mail_queue */
        bool token = links && wf_email_valid(contact);
        if (links) {
            if (contact == NULL)
                continue;
            json_t *to = json_pack("[s]", contact);
            one = to ? json_dumps(to, JSON_COMPACT) : NULL;
            json_decref(to);
            if (one == NULL) {
                rc = pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
                break;
            }
        }
        if (token) {
            randombytes_buf(t.id, sizeof t.id);
            snprintf(t.contact, sizeof t.contact, "%s", contact); /* <= WF_EMAIL_MAX */
            if (db_token_insert(env->db, &t, WF_TOKEN_TTL_SECONDS, err)) {
                free(one);
                rc = err->kind;
                break;
            }
        }
        char *body = compose_body(env, s, k, asn, token ? contact : NULL, detail);
        if (body == NULL) {
            free(one);
            rc = pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
            break;
        }
        if (!new_message_id(env, s->id, k->kind, mid, sizeof mid)) {
            free(body);
            free(one);
            rc = pf_fail(err, PF_EINVALID, "bad_mail_domain", "mail_from",
                         "the domain of PEERFLOW_MAIL_FROM is too long for a Message-ID: use "
                         "a domain of at most 200 characters");
            break;
        }
        db_outbox_msg m = {.kind = k->kind,
                           .request_id = s->id,
                           .network_id = network_id,
                           .recipients = links ? one : contacts,
                           .subject = subject,
                           .body = body,
                           .token_id = token ? t.id : NULL,
                           .message_id = mid};
        rc = db_outbox_insert(env->db, &m, err);
        free(body);
        free(one);
    }
    free(subject);
    json_decref(arr);
    return rc;
}

static pf_kind notify_sides(const wf_env *env, const db_request_summary *s,
                           const struct kind_text *k, long long change_id, int sides,
                           const char *detail, pf_err *err)
{
    pf_kind rc = PF_OK;
    if (sides & WF_NOTIFY_REQUESTER)
        rc = enqueue(env, s, k, s->requester_network_id, s->requester_asn, s->requester_contacts,
                     detail, change_id, err);
    if (rc == PF_OK && (sides & WF_NOTIFY_PEER))
        rc = enqueue(env, s, k, s->peer_network_id, s->peer_asn, s->peer_contacts, detail,
                     change_id, err);
    return rc;
}

static pf_kind notify(const wf_env *env, long long request_id, long long change_id,
                      const char *kind, int sides, const char *detail, pf_err *err)
{
    const struct kind_text *k = find_kind(kind);
    if (k == NULL)
        return pf_fail(err, PF_EINTERNAL, "unknown_notification", NULL,
                       "internal error: no notification named %s", kind);
    db_request_summary s;
    if (db_request_summary_get(env->db, request_id, &s, err) != PF_OK)
        return err->kind;
    pf_kind rc = notify_sides(env, &s, k, change_id, sides, detail, err);
    db_request_summary_clear(&s);
    return rc;
}

pf_kind wf_notify_summary(const wf_env *env, const db_request_summary *s, const char *kind,
                          int sides, const char *detail, pf_err *err)
{
    const struct kind_text *k = find_kind(kind);
    if (k == NULL)
        return pf_fail(err, PF_EINTERNAL, "unknown_notification", NULL,
                       "internal error: no notification named %s", kind);
    return notify_sides(env, s, k, 0, sides, detail, err);
}

pf_kind wf_notify(const wf_env *env, long long request_id, const char *kind, int sides,
                  const char *detail, pf_err *err)
{
    return notify(env, request_id, 0, kind, sides, detail, err);
}

pf_kind wf_notify_change(const wf_env *env, long long request_id, long long change_id,
                         const char *kind, int sides, const char *detail, pf_err *err)
{
    return notify(env, request_id, change_id, kind, sides, detail, err);
}
