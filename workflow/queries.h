/* wf_queries: read-only views for an actor - requests, reports, the audit
 * verdict. Each runs in a transaction of the actor's scope, so row-level
 * security shows a network only its own requests. Results are new
 * references / allocations the caller frees. */
#ifndef WF_QUERIES_H
#define WF_QUERIES_H

#include <jansson.h>

#include "common/pf_table.h"
#include "db/audit.h"
#include "workflow/context.h"

/* The request as docs/api.md describes it; PF_ENOTFOUND when it does not
 * exist or the actor's network is not a party. */
pf_kind wf_request_get(const wf_env *env, const wf_actor *who, long long id, json_t **out,
                       pf_err *err);
/* wf_request_get plus what the actor may do: "my_side" ("requester",
 * "peer" or null), "actions" (["approve", "reject", ...] per the state
 * machine; "can" has the same as {"approve": true, ...} for templates),
 * and "my_ports" when the actor's side must still pick a port. */
pf_kind wf_request_view(const wf_env *env, const wf_actor *who, long long id, json_t **out,
                        pf_err *err);

/* wf_request_view, and what an answer built from it may be kept for:
 * *stamp, the request's stamp read in the same snapshot as the view
 * (migrations/0020_request_touches.sql), and *reusable, false when the
 * view holds what the stamp does not cover (the free ports and VLANs of
 * the reader's network, shown while it must pick a port) or a secret
 * (the BGP session's, for admins: never kept). */
pf_kind wf_request_view_stamped(const wf_env *env, const wf_actor *who, long long id,
                                json_t **out, long long *stamp, bool *reusable, pf_err *err);

/* The request's stamp now, under the actor's scope, in one round trip
 * (the token check of a remembered token included): equal to a stamp
 * read before, nothing the view shows has changed since. PF_ENOTFOUND
 * when the request is not (or no longer) visible to the actor. */
pf_kind wf_request_stamp(const wf_env *env, const wf_actor *who, long long id, long long *stamp,
                         pf_err *err);

/* {"requests": [...]}, newest first; state NULL for all. */
pf_kind wf_request_list(const wf_env *env, const wf_actor *who, const char *state, int limit,
                        json_t **out, pf_err *err);
/* One page of the list: ids below before (0: the newest), at most limit;
 * adds "next_before" (the id to pass for the next page, null on the last). */
pf_kind wf_request_page(const wf_env *env, const wf_actor *who, const char *state,
                        long long before, int limit, json_t **out, pf_err *err);

pf_kind wf_report_list(const wf_env *env, const wf_actor *who, pf_table **out, pf_err *err);
pf_kind wf_report_run(const wf_env *env, const wf_actor *who, const char *name,
                      long long request_id, pf_table **out, pf_err *err);

/* The dashboard: {"waiting": what waits on the actor's network's decision
 * (for operators: failed requests), "open": open requests, "active":
 * active circuits}. */
pf_kind wf_dashboard(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err);
/* The exchange's member directory: networks, policies, ports. */
pf_kind wf_networks(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err);
/* Operators only: switches (with connection state), links, ports. */
pf_kind wf_fabric(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err);
/* The actor's network's ports: [{"name","mode","switch_id","speed_mbps"}]. */
pf_kind wf_my_ports(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err);

/* What a port still offers, in words, from the VLANs held on it
 * (ascending JSON integers; 0 = untagged): a trunk "VLANs 1–99,
 * 101–4094 free", "no VLAN free"; an access port "free" or "in use". */
/* Adds "needs" to each card of a dashboard ("waiting", "open"): in words,
 * what the request needs next and from whom - from this user when it is
 * in "waiting" (role: can they decide, or must an admin). */
void wf_dashboard_words(json_t *dashboard, wf_role role);

void wf_port_free_text(bool trunk, const json_t *used, char *buf, size_t cap);

/* Gauges for /metrics: operators (and the system) only. */
pf_kind wf_gauges(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err);

/* Operators only. */
pf_kind wf_audit_verify(const wf_env *env, const wf_actor *who, db_audit_verdict *v,
                        pf_err *err);

/* Looks up a user by email and makes the actor that acts as them. */
pf_kind wf_actor_for_user(const wf_env *env, const char *email, const char *via, wf_actor *out,
                          pf_err *err);

#endif
