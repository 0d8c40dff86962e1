/* wf_requests: the request service. Every operation is one transaction:
 * lock the request row, check the version and the transition
 * (state_machine.h), write the change, append its audit event, and
 * enqueue its mail (outbox) and provisioning job in that same
 * transaction. A stale version or a decision that lost a race returns
 * PF_ECONFLICT with a message saying what happened; nothing is written.
 * Serialization failures and deadlocks are retried (db_run_tx). */
#ifndef WF_REQUESTS_H
#define WF_REQUESTS_H

#include "workflow/context.h"

typedef struct {
    const char *port;      /* requester's port name (in the actor's network) */
    int vlan;              /* on a trunk port; 0 = none */
    long long peer_asn;
    const char *peer_port; /* optional: the peer's port name */
    int peer_vlan;         /* optional: on the peer's trunk port */
    int bandwidth_mbps;    /* 0 = no cap */
    const char *message;   /* optional, at most 2000 characters */
    bool no_bgp_ipv4;      /* no IPv4 (IPv6) BGP session on the circuit */
    bool no_bgp_ipv6;
    bool bgp_md5;          /* generate a TCP-MD5 secret for the session */
} wf_submit_input;

/* Submits a request from the actor's network. The requester side is
 * approved at once when the actor is an admin; an auto-approving peer
 * approves at once too. Sets *id. */
pf_kind wf_request_submit(const wf_env *env, const wf_actor *who, const wf_submit_input *in,
                          long long *id, pf_err *err);

typedef struct {
    int version;           /* expected version; 0 = do not check */
    const char *port;      /* approve by the peer: its port (if it has a choice) */
    int vlan;              /* ... and VLAN on a trunk port */
    const char *reason;    /* optional, kept with the decision */
} wf_decision_input;

pf_kind wf_request_approve(const wf_env *env, const wf_actor *who, long long id,
                           const wf_decision_input *in, pf_err *err);
pf_kind wf_request_reject(const wf_env *env, const wf_actor *who, long long id,
                          const wf_decision_input *in, pf_err *err);
pf_kind wf_request_cancel(const wf_env *env, const wf_actor *who, long long id,
                          const wf_decision_input *in, pf_err *err);
pf_kind wf_request_decommission(const wf_env *env, const wf_actor *who, long long id,
                                const wf_decision_input *in, pf_err *err);

/* Approve (or reject) like wf_request_approve/_reject, but inside the
 * caller's open transaction: no commit, no retry (for approval links,
 * whose token is marked used in the same transaction). */
pf_kind wf_request_decide_in_tx(const wf_env *env, const wf_actor *who, long long id,
                                bool approve, const wf_decision_input *in, pf_err *err);

/* The provisioner's (and the operator's retry) events:
 * WF_EV_PROV_START, WF_EV_PROV_ACTIVE, WF_EV_PROV_FAILED, WF_EV_RETRY,
 * WF_EV_PROV_REMOVED. detail: the error of a failure, or NULL. */
pf_kind wf_request_provision_event(const wf_env *env, const wf_actor *who, long long id,
                                   wf_event ev, const char *detail, pf_err *err);

/* The same for the provisioner's result of a job: the job (job_id, held
 * by worker) is closed in the same transaction - done, or failed with
 * detail for WF_EV_PROV_FAILED - so the request never becomes failed while
 * its job is open. PF_ECONFLICT "job_not_owned" (nothing written) when
 * the worker no longer holds the job. */
pf_kind wf_request_provision_job_event(const wf_env *env, const wf_actor *who, long long id,
                                       wf_event ev, const char *detail, long long job_id,
                                       const char *worker, pf_err *err);

/* Expires pending requests past their expiry, one transaction each. A
 * request whose transaction fails is reported to on_fail (may be NULL)
 * with its id and error and skipped for the rest of the sweep; the others
 * still expire. *n gets how many expired, *n_failed (may be NULL) how many
 * failed. Returns PF_OK, or the kind of the first failure (err says which
 * request) after the sweep went through every other request. */
typedef void (*wf_expire_failed_fn)(void *arg, long long id, const pf_err *why);
pf_kind wf_request_expire_sweep(const wf_env *env, int *n, int *n_failed,
                                wf_expire_failed_fn on_fail, void *arg, pf_err *err);
/* wf_request_expire_sweep without a callback. */
pf_kind wf_request_expire_due(const wf_env *env, int *n, pf_err *err);

/* Maps a state machine refusal to a pf_err for the user. */
pf_kind wf_sm_error(wf_sm_result r, wf_event ev, const char *state, const wf_actor *who,
                    pf_err *err);

#endif
