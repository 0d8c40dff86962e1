/* wf_admin: the operator's set-up of the exchange - networks, users,
 * switches, links, ports and API tokens. Each call validates its input,
 * then writes the change and its audit event in one transaction. Only
 * operators may call them (actor->role == WF_ROLE_OPERATOR), except
 * wf_api_token_create, which a user may do for themself. */
#ifndef WF_ADMIN_H
#define WF_ADMIN_H

#include <stdbool.h>

#include "workflow/context.h"

typedef struct {
    const char *asn; /* as typed: "64500" or "AS64500" */
    const char *name;
    const char *policy; /* NULL = selective */
    const char *const *contacts;
    int n_contacts;
    bool auto_approve;
} wf_network_input;

typedef struct {
    const char *email;
    const char *network_asn; /* NULL for operators */
    const char *role;        /* admin|engineer|viewer|operator */
    const char *password;    /* NULL: no password (API tokens only) */
} wf_user_input;

typedef struct {
    const char *name;
    const char *dpid;
    const char *endpoint; /* NULL: the switch connects to us */
} wf_switch_input;

typedef struct {
    const char *network_asn;
    const char *switch_name;
    const char *ofport;
    const char *name;
    const char *mode;  /* NULL = access */
    const char *speed; /* Mbit/s or NULL */
} wf_port_input;

pf_kind wf_network_add(const wf_env *env, const wf_actor *who, const wf_network_input *in,
                       long long *id, pf_err *err);
pf_kind wf_user_add(const wf_env *env, const wf_actor *who, const wf_user_input *in,
                    long long *id, pf_err *err);
/* Disables (or enables) the user with email. Disabling ends all their
 * sessions at once; their API tokens are refused while disabled and work
 * again when enabled (revoke one on the account page if it leaked).
 * Idempotent; audited as user.disabled / user.enabled. */
pf_kind wf_user_set_disabled(const wf_env *env, const wf_actor *who, const char *email,
                             bool disabled, pf_err *err);
/* An operator sets a new password for the user with email: ends all their
 * sessions and forgets their failed logins. Audited as user.password_set
 * (without the password). */
pf_kind wf_user_set_password(const wf_env *env, const wf_actor *who, const char *email,
                             const char *password, pf_err *err);
pf_kind wf_switch_add(const wf_env *env, const wf_actor *who, const wf_switch_input *in,
                      long long *id, pf_err *err);
/* The same, with the SHA-256 fingerprint of the switch's TLS certificate
 * pinned (64 hex digits, colons allowed; NULL: no pin). A pinned switch
 * must connect over TLS with exactly that certificate (docs/fabric.md). */
pf_kind wf_switch_add_pinned(const wf_env *env, const wf_actor *who, const wf_switch_input *in,
                             const char *cert_sha256, long long *id, pf_err *err);
/* a and b are "SWITCH:PORT". */
pf_kind wf_link_add(const wf_env *env, const wf_actor *who, const char *a, const char *b,
                    long long *id, pf_err *err);
pf_kind wf_port_add(const wf_env *env, const wf_actor *who, const wf_port_input *in,
                    long long *id, pf_err *err);

/* Creates an API token for the user with email; writes the secret, shown
 * once, into token (NUL-terminated). Only its hash is stored. */
#define WF_API_TOKEN_LEN 64
pf_kind wf_api_token_create(const wf_env *env, const wf_actor *who, const char *email,
                            const char *name, char token[WF_API_TOKEN_LEN], pf_err *err);

/* The stored form of an API token: BLAKE2b-256 of its text. */
void wf_api_token_hash(const char *token, unsigned char out[32]);

/* The rule for a new password (10 to 1024 characters), without the cost
 * of hashing it: PF_EINVALID "weak_password". */
pf_kind wf_password_check(const char *password, pf_err *err);

/* Argon2id hash of a password in libsodium's string format (checked by
 * wf_password_check first). */
pf_kind wf_password_hash(const char *password, char out[128], pf_err *err);

#endif
