/* wf_changes: changing a live circuit (docs/lifecycle.md, "Changes").
 *
 * An admin of either side asks to change the bandwidth cap of an active,
 * capped circuit; the other side's admin (web, API) or contact (a signed
 * link in mail, the same token rules as a request's) approves or rejects
 * it; on approval the provisioner changes the circuit's meters in place
 * (OFPMC_MODIFY: no flow is touched, the circuit stays active) and
 * reports applied or failed. Each step is one transaction with its audit
 * event and mail. A change of a circuit that is not active is refused
 * (409 not_active); a decommission cancels an open change. */
#ifndef WF_CHANGES_H
#define WF_CHANGES_H

#include "workflow/context.h"

typedef struct {
    int bandwidth_mbps; /* the new cap, > 0 */
    int version;        /* the request's expected version; 0 = do not check */
} wf_change_input;

/* Opens a change; sets *change_id. PF_ECONFLICT "not_active",
 * "change_open" (one open change per circuit), "stale_version";
 * PF_EINVALID "no_cap" (the circuit has no cap to change: see
 * docs/lifecycle.md), "same_bandwidth", "bad_bandwidth". */
pf_kind wf_change_open(const wf_env *env, const wf_actor *who, long long request_id,
                       const wf_change_input *in, long long *change_id, pf_err *err);

/* The other side decides. PF_EFORBIDDEN "own_change" when the side that
 * asked tries; PF_ECONFLICT "change_decided" when it is no longer
 * pending. reason may be NULL. */
pf_kind wf_change_decide(const wf_env *env, const wf_actor *who, long long request_id,
                         long long change_id, bool approve, const char *reason, pf_err *err);
/* The same inside the caller's transaction (an approval link). */
pf_kind wf_change_decide_in_tx(const wf_env *env, const wf_actor *who, long long request_id,
                               long long change_id, bool approve, const char *reason,
                               pf_err *err);

/* The requester of a change withdraws it while it is pending. */
pf_kind wf_change_cancel(const wf_env *env, const wf_actor *who, long long request_id,
                         long long change_id, pf_err *err);

/* Inside a request's transaction that leaves active (decommission):
 * cancels its open change, if any, with audit and mail. */
pf_kind wf_change_cancel_open(const wf_env *env, const wf_actor *who, long long request_id,
                              pf_err *err);

/* The provisioner's result for the approved change of request_id: the
 * job (job_id, held by worker) is closed in the same transaction. ok:
 * applied (the request's cap becomes the new one); else failed with
 * detail (the circuit keeps its old cap). A change cancelled meanwhile
 * (the circuit is being torn down) records nothing but the job's end. */
pf_kind wf_change_applied(const wf_env *env, const wf_actor *who, long long request_id, bool ok,
                          const char *detail, long long job_id, const char *worker,
                          pf_err *err);

/* The approved change the provisioner is to apply: *found, its id and
 * new bandwidth. */
pf_kind wf_change_to_apply(const wf_env *env, const wf_actor *who, long long request_id,
                           bool *found, long long *change_id, int *mbps, pf_err *err);

#endif
