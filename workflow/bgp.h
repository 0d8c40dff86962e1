/* wf_bgp: the BGP session of every circuit (docs/bgp.md).
 *
 *   pools      operators add and remove address pools;
 *   facts      each network's max-prefix, AS-SET and registered prefixes,
 *              set by its admins or an operator;
 *   lifecycle  the request service calls wf_bgp_approved when a request
 *              becomes approved (addresses, secret) and wf_bgp_released
 *              when it is decommissioned, inside its own transaction;
 *   config     one side's router configuration (workflow/bgp_render.h).
 * Every change is audited in its transaction. */
#ifndef WF_BGP_H
#define WF_BGP_H

#include <jansson.h>
#include <stdbool.h>

#include "workflow/bgp_secret.h"
#include "workflow/context.h"

/* ----------------------------------------------------------- pools */

/* cidr: IPv4 up to /30 or IPv6 up to /126, canonical, not overlapping
 * another pool. Operators only. */
pf_kind wf_pool_add(const wf_env *env, const wf_actor *who, const char *cidr, pf_err *err);
/* Refused (PF_ECONFLICT "pool_in_use") while circuits hold its
 * addresses; PF_ENOTFOUND "unknown_pool" when there is none. */
pf_kind wf_pool_remove(const wf_env *env, const wf_actor *who, const char *cidr, pf_err *err);
/* [{"cidr", "family", "allocated", "free"}]; caller decrefs. */
pf_kind wf_pool_list(const wf_env *env, const wf_actor *who, json_t **out, pf_err *err);

/* ---------------------------------------------- routing facts per network */

/* A change of facts: NULL leaves a field as it is, "" clears it. */
typedef struct {
    const char *max_prefix4;
    const char *max_prefix6;
    const char *irr_as_set;
} wf_facts_input;

/* Any logged-in user may read them (they are what the network announces
 * to the exchange). asn as typed ("64500" or "AS64500"). *out has
 * "can_edit": whether who may change them. */
pf_kind wf_network_facts_get(const wf_env *env, const wf_actor *who, const char *asn,
                             json_t **out, pf_err *err);
/* Admins of that network and operators. Audited as network.facts_set. */
pf_kind wf_network_facts_set(const wf_env *env, const wf_actor *who, const char *asn,
                             const wf_facts_input *in, pf_err *err);
/* Registers a prefix the network announces: canonical, /8../24 or
 * /8../48, not a bogon, and not overlapping a prefix another network
 * registered - unless an operator forces it. Idempotent. */
pf_kind wf_network_prefix_add(const wf_env *env, const wf_actor *who, const char *asn,
                              const char *cidr, bool force, pf_err *err);
pf_kind wf_network_prefix_remove(const wf_env *env, const wf_actor *who, const char *asn,
                                 const char *cidr, pf_err *err);
/* The web form and the API: the facts (fields left NULL unchanged; facts
 * may be NULL) and, when replace_prefixes, the whole prefix set replaced
 * by cidrs - all in one transaction, so a refused prefix leaves the facts
 * as they were too. */
pf_kind wf_network_update(const wf_env *env, const wf_actor *who, const char *asn,
                          const wf_facts_input *facts, const char *const *cidrs, size_t n,
                          bool replace_prefixes, bool force, pf_err *err);
/* Replaces the network's whole set with cidrs (the web form and the
 * API's "prefixes"): each checked as by wf_network_prefix_add, all or
 * nothing, in one transaction. */
pf_kind wf_network_prefix_replace(const wf_env *env, const wf_actor *who, const char *asn,
                                  const char *const *cidrs, size_t n, bool force, pf_err *err);

/* ------------------------------------------------- in a request's transaction */

/* The request just became approved: allocates its addresses and, when it
 * asked for one, its secret (env->key_dir), and audits bgp.allocated.
 * *exhausted is set (nothing written) when a family's pools are full;
 * the caller fails the request then. */
pf_kind wf_bgp_approved(const wf_env *env, const wf_actor *who, long long id, bool *exhausted,
                        int *family, pf_err *err);
/* wf_bgp_approved with the allocation already made (pf_bgp_allocate's
 * JSON, got, taken: db_request_approve makes it in the state change's
 * pipeline). */
pf_kind wf_bgp_approved_with(const wf_env *env, const wf_actor *who, long long id, json_t *got,
                             bool *exhausted, int *family, pf_err *err);
/* The request was decommissioned: releases addresses and secret, audits
 * bgp.released. */
pf_kind wf_bgp_released(const wf_env *env, const wf_actor *who, long long id, pf_err *err);

/* ---------------------------------------------------------------- reads */

/* The session's secret for the request page and the API: set only for
 * admins of the two networks and operators, when the request has one
 * (*has). Runs in its own read. */
pf_kind wf_bgp_secret_for(const wf_env *env, const wf_actor *who, long long id,
                          char out[WF_BGP_SECRET_MAX], bool *has, pf_err *err);

/* One side's router configuration for request id in daemon's dialect
 * (wf_bgp_daemon_list()). side: "requester" or "peer"; NULL = the
 * caller's own side (an operator must name one). *out is malloc'd.
 * PF_ECONFLICT "no_addresses" (409) before the circuit is approved;
 * PF_EINVALID "unknown_daemon" listing the known ones. Admins of the
 * party and operators only (it holds the secret). */
pf_kind wf_bgp_config(const wf_env *env, const wf_actor *who, long long id, const char *side,
                      const char *daemon, char **out, pf_err *err);

#endif
