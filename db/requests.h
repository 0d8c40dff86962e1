/* db_requests: peering requests and their approvals.
 * All functions run inside the caller's transaction; row-level security
 * hides requests the acting network is not a party of (they are "not
 * found", never "forbidden", so their existence does not leak). */
#ifndef DB_REQUESTS_H
#define DB_REQUESTS_H

#include <jansson.h>
#include <stdbool.h>

#include "db/db.h"
#include "db/fabric.h"

typedef struct {
    long long id;
    long long requester_network_id;
    long long requester_port_id;
    int requester_vlan; /* 0 = untagged */
    long long peer_network_id;
    long long peer_port_id; /* 0 until the peer picks one (reserves it) */
    int peer_vlan;
    /* the requester's suggestion for the peer's port: reserves nothing */
    long long suggested_peer_port_id; /* 0 = none */
    int suggested_peer_vlan;
    int bandwidth_mbps; /* 0 = no cap */
    bool no_bgp_ipv4;   /* the request opts out of a family's session */
    bool no_bgp_ipv6;
    bool bgp_md5;       /* the session wants a TCP-MD5 secret */
    char state[20];
    int version;
    bool requester_decided; /* an approval row exists for that side */
    bool peer_decided;
    bool requester_approved;
    bool peer_approved;
    bool past_expiry;
    /* db_request_lock only: the peer's port the request names (chosen,
     * else suggested; id 0 for none), read in the lock's round trip */
    db_port named_peer_port;
} db_request;

typedef struct {
    long long request_id;
    long long network_id;
    const char *side;     /* "requester" | "peer" */
    const char *decision; /* "approve" | "reject" */
    long long user_id;    /* 0 for email links and auto-policy */
    const char *via;      /* "web" | "email" | "api" | "auto-policy" */
    const char *contact;  /* email the link was sent to, or NULL */
    const unsigned char *token_id; /* 16 bytes for "email", else NULL */
    const char *reason;   /* or NULL */
} db_approval;

/* What a notification tells about a request. The texts of any length
 * (names: 100 characters, up to 400 bytes; contacts; the message) are
 * allocated, never cut: free them with db_request_summary_clear. */
typedef struct {
    long long id;
    char state[20];
    long long requester_network_id, peer_network_id;
    long long requester_asn, peer_asn;
    char *requester_name, *peer_name;
    char requester_port[64], peer_port[64]; /* peer_port "" until chosen; the schema
                                               allows at most 63 ASCII characters */
    int requester_vlan, peer_vlan;
    char *requester_contacts; /* JSON arrays of addresses */
    char *peer_contacts;
    char *message;            /* "" when none */
} db_request_summary;

/* On PF_OK the caller owns *out's texts (db_request_summary_clear). */
pf_kind db_request_summary_get(db_conn *c, long long id, db_request_summary *out,
                               pf_err *err);
void db_request_summary_clear(db_request_summary *s);

/* Inserts a pending request from r's requester/peer/suggestion/bandwidth
 * fields. expiry_seconds from now. Sets *id. */
pf_kind db_request_insert(db_conn *c, const db_request *r, const char *message,
                          long long created_by, int expiry_seconds, long long *id,
                          pf_err *err);

/* Reads and row-locks request id (FOR UPDATE) until the transaction ends.
 * PF_ENOTFOUND "unknown_request" when it does not exist or is not visible. */
pf_kind db_request_lock(db_conn *c, long long id, db_request *out, pf_err *err);

/* Sets the state (the database checks the transition and bumps version);
 * *new_version may be NULL. */
pf_kind db_request_set_state(db_conn *c, long long id, const char *state, int *new_version,
                             pf_err *err);

/* db_request_set_state that also returns what a notification tells about
 * the request after the change (db_request_summary_get in the same
 * statement: one round trip less). On PF_OK the caller owns *summary's
 * texts. */
pf_kind db_request_set_state_summary(db_conn *c, long long id, const char *state,
                                     int *new_version, db_request_summary *summary,
                                     pf_err *err);

/* Moves the request to approved (db_request_set_state_summary) and
 * allocates its link addresses (pf_bgp_allocate, as db_bgp_allocate:
 * *allocation its JSON, the caller json_decref()s it) in the same round
 * trip; the allocation runs after the state change, as it did when sent
 * on its own. */
pf_kind db_request_approve(db_conn *c, long long id, int *new_version,
                           db_request_summary *summary, json_t **allocation, pf_err *err);

/* Records the peer's port (and VLAN, 0 = none); *new_version may be NULL. */
pf_kind db_request_set_peer_endpoint(db_conn *c, long long id, long long port_id, int vlan,
                                     int *new_version, pf_err *err);

/* In a transaction the insert is queued (db_defer): it goes out with the
 * next statement (the state change it allows) or COMMIT, whose error an
 * error of the insert becomes. */
pf_kind db_approval_insert(db_conn *c, const db_approval *a, pf_err *err);

/* What a network has asked for lately, for the submission limits: its
 * open (non-terminal) requests and its submissions in the last hour, and
 * the seconds until the oldest of those leaves the hour. Locks the
 * network's row until the transaction ends, so concurrent submissions of
 * one network are counted one after the other. */
typedef struct {
    long long open;
    long long last_hour;
    int hour_frees_in; /* seconds; 0 when none in the last hour */
} db_submit_quota;
pf_kind db_request_quota(db_conn *c, long long network_id, db_submit_quota *out, pf_err *err);

/* Locks the oldest pending request past its expiry that no other worker
 * holds (FOR UPDATE SKIP LOCKED) and that is not one of skip[0..n_skip)
 * (those this sweep failed to expire). *id = 0 when there is none. */
pf_kind db_request_next_expired(db_conn *c, const long long *skip, size_t n_skip, long long *id,
                                pf_err *err);

/* The request as the API shows it: id, state, version, requester, peer,
 * approvals, circuit, history (see docs/api.md). *out is a new reference. */
pf_kind db_request_get_json(db_conn *c, long long id, json_t **out, pf_err *err);

/* The same, and in the same statement the side network my_network_id
 * has on it: *side 1 requester, 2 peer, 0 neither (or my_network_id 0),
 * and the request's stamp (migrations/0020_request_touches.sql: it grows
 * with every committed change to anything the JSON shows), read in the
 * same snapshot as the JSON. */
pf_kind db_request_view_json(db_conn *c, long long id, long long my_network_id, json_t **out,
                             int *side, long long *stamp, pf_err *err);

/* The request's stamp alone, under the caller's scope: one index probe of
 * the request and one of its touches. PF_ENOTFOUND when the request does
 * not exist or is not visible. */
pf_kind db_request_stamp(db_conn *c, long long id, long long *stamp, pf_err *err);

/* The same for a network's remembered API token, in one statement that
 * checks the token too (migrations/0023): outside any transaction, with
 * no scope set (scope gives the token; its check_token must be set). A
 * refused token fails as the pipeline's check does. */
pf_kind db_request_stamp_for_token(db_conn *c, const db_scope *scope, long long id,
                                   long long *stamp, pf_err *err);

/* Requests visible to the acting party, newest first, optionally in one
 * state (NULL for all), with ids below before (0: from the newest; pages
 * by id, so a request filed meanwhile does not shift them).
 * {"requests": [...]} as a new reference. */
pf_kind db_request_list_json(db_conn *c, const char *state, long long before, int limit,
                             json_t **out, pf_err *err);

#endif
