/* wf_papi: the IETF Peering API (draft-ietf-grow-peering-api-01) over
 * peerflow's requests (docs/peering-api.md).
 *
 * The caller is the network of the API token; local_* in every session
 * is the caller's side, peer_* the other network. A session is a peering
 * request (one circuit, its IPv4 and IPv6 BGP sessions), named by the
 * request's session_id (a UUID). Lists are paged by an opaque next_token
 * that the server signs (crypto_auth, HMAC-SHA-512-256) over the offset
 * and the query, so a client can neither forge an offset nor carry a
 * token to another query. A peer network that does not exist, another
 * network's session and an unknown session all answer the same
 * PF_ENOTFOUND "not_found": nothing can be enumerated. */
#ifndef WF_PEERING_API_H
#define WF_PEERING_API_H

#include <jansson.h>

#include "workflow/context.h"

#define WF_PAPI_MAX_RESULTS 100

typedef struct {
    const char *key_dir; /* PEERFLOW_KEY_DIR (the next_token key); NULL: a key per process */
    const char *ix_id;   /* PEERFLOW_PEERINGDB_IX_ID: the public location; NULL: none */
} wf_papi_config;

/* The query of a list: asn (required), location_type (locations only),
 * max_results and next_token as the client sent them (NULL = absent). */
typedef struct {
    const char *asn;
    const char *location_type;
    const char *max_results;
    const char *next_token;
} wf_papi_query;

/* The draft's status word for a peerflow request state. */
const char *wf_papi_status(const char *state);

/* GET /locations: {"items": [{"id", "type", ...}], "next_token"?}. */
pf_kind wf_papi_locations(const wf_env *env, const wf_papi_config *cfg, const wf_actor *who,
                          const wf_papi_query *q, json_t **out, pf_err *err);
/* GET /sessions: {"items": [session...], "next_token"?}. */
pf_kind wf_papi_sessions(const wf_env *env, const wf_papi_config *cfg, const wf_actor *who,
                         const wf_papi_query *q, json_t **out, pf_err *err);
/* GET /sessions/{id}. */
pf_kind wf_papi_session_get(const wf_env *env, const wf_actor *who, const char *id,
                            json_t **out, pf_err *err);
/* DELETE /sessions/{id}: the teardown that fits the state - cancel (the
 * requester, pending), reject (the peer, pending), decommission (active
 * or failed). *out is the session afterwards. */
pf_kind wf_papi_session_delete(const wf_env *env, const wf_actor *who, const char *id,
                               json_t **out, pf_err *err);
/* POST /sessions: list is the body (a JSON array of sessions, borrowed).
 * Each session is submitted on its own (one transaction each), so one
 * refusal does not undo the others. *out = {"sessions": [accepted],
 * "refused": [{"index", "status", "errors": [{"name", "errors": [..]}]}]};
 * *status the HTTP status: 200 when any was accepted, else the refusals'
 * common status (409 for duplicates) or 422. A malformed body is
 * PF_EINVALID without *out. */
pf_kind wf_papi_sessions_add(const wf_env *env, const wf_actor *who, const json_t *list,
                             json_t **out, int *status, pf_err *err);

/* next_token, exposed for the unit test: token (WF_PAPI_TOKEN_MAX bytes)
 * for offset under the query's binding; parse returns false for anything
 * this key did not sign for that binding. */
#define WF_PAPI_TOKEN_MAX 80
void wf_papi_token_make(const unsigned char key[32], const char *binding, long long offset,
                        char token[WF_PAPI_TOKEN_MAX]);
bool wf_papi_token_parse(const unsigned char key[32], const char *binding, const char *token,
                         long long *offset);

#endif
