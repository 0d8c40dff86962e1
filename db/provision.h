/* db_prov: the provisioner's tables - jobs (claim, lease, finish),
 * circuits, transport VLANs on links (link_vlans), desired flows, and the
 * connection state of switches. Every function runs inside the caller's
 * transaction unless it says otherwise; the SQL lives here only.
 *
 * Job model (docs/fabric.md): a job is claimed with FOR UPDATE SKIP LOCKED
 * and marked running with a lease (locked_at + lease); a running job
 * whose lease ran out (its worker died) is claimable again; a live worker
 * renews the lease while it works (db_prov_job_renew). Finishing,
 * deferring and failing check locked_by, so a worker that lost its lease
 * cannot overwrite the result of the worker that took the job over. */
#ifndef DB_PROVISION_H
#define DB_PROVISION_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* ---------------------------------------------------------------- jobs */

typedef struct {
    long long id;
    long long request_id;
    char kind[16];      /* "provision" or "teardown" */
    int attempts;       /* including this one */
    long long age_ms;   /* since the job was created */
} db_prov_job;

/* Claims the oldest due job: queued with run_after <= now(), or running
 * with locked_at older than lease_s seconds. Sets it running, locked by
 * worker, attempts + 1. job->id is 0 when there is none. */
pf_kind db_prov_job_claim(db_conn *c, const char *worker, int lease_s, db_prov_job *job,
                          pf_err *err);
/* Ends a job: state done (ok) or failed, with last_error. *owned is set
 * to false (and nothing written) when another worker holds it now. */
pf_kind db_prov_job_finish(db_conn *c, long long job_id, const char *worker, bool ok,
                           const char *error, bool *owned, pf_err *err);
/* Renews the lease of a running job (locked_at = now()), the heartbeat of
 * the worker that holds it. *owned is false (and nothing written) when
 * the job is no longer running under this worker: it was taken over after
 * its lease ran out, re-queued by a retry, or finished; the worker must
 * then give the job up. */
pf_kind db_prov_job_renew(db_conn *c, long long job_id, const char *worker, bool *owned,
                          pf_err *err);
/* Puts a job back in the queue to run after delay_ms, with last_error. */
pf_kind db_prov_job_defer(db_conn *c, long long job_id, const char *worker, int delay_ms,
                          const char *error, bool *owned, pf_err *err);

/* ------------------------------------------------------------ requests */

typedef struct {
    long long port_id;   /* 0 when unknown (peer port not chosen) */
    long long switch_id;
    long long ofport;
    int vlan;            /* 0 on an access port */
    bool trunk;
    char name[64];
} db_prov_end;

typedef struct {
    long long id;
    char state[24];
    db_prov_end a; /* requester */
    db_prov_end b; /* peer */
    int bandwidth_mbps; /* the cap; 0 = none */
} db_prov_request;

/* PF_ENOTFOUND "unknown_request". */
pf_kind db_prov_request_get(db_conn *c, long long request_id, db_prov_request *out,
                            pf_err *err);

/* -------------------------------------------------------------- fabric */

typedef struct {
    long long id;
    long long a_switch, a_port, b_switch, b_port;
} db_prov_link;

/* Every inter-switch link, by id. *out is malloc'ed; caller frees. */
pf_kind db_prov_links(db_conn *c, db_prov_link **out, size_t *n, pf_err *err);

typedef struct {
    long long id;
    char name[64];
    char dpid[17];
    char endpoint[256]; /* "" when the switch connects to us */
    bool reconcile_requested;
    char cert_sha256[65]; /* the pinned TLS certificate, "" for none */
} db_prov_switch;

/* Every switch, by id. *out is malloc'ed; caller frees. */
pf_kind db_prov_switches(db_conn *c, db_prov_switch **out, size_t *n, pf_err *err);
/* Writes conn_state/conn_error (conn_changed_at when the state changes). */
pf_kind db_prov_switch_state(db_conn *c, long long switch_id, const char *state,
                             const char *error, pf_err *err);
/* Sets (request = true) or clears switches.reconcile_requested_at. */
pf_kind db_prov_switch_reconcile_flag(db_conn *c, long long switch_id, bool request,
                                      pf_err *err);

/* Session-level advisory lock of one switch (pg_advisory_lock(0x5046,
 * id)): held while a process changes the switch's flows, so provisioners
 * in several processes never interleave a reconciliation with a batch on
 * the same switch. Outside or inside a transaction; blocks until granted. */
pf_kind db_prov_switch_lock(db_conn *c, long long switch_id, pf_err *err);
pf_kind db_prov_switch_unlock(db_conn *c, long long switch_id, pf_err *err);

/* ------------------------------------------------------------ circuits */

typedef struct {
    long long id;
    long long request_id;
    char state[16]; /* planned installing installed failed removing removed */
    char error[400];
    int n_flows;
} db_prov_circuit;

/* Locks the circuit of a request (FOR UPDATE), creating it in state
 * planned when create is true and there is none. Without create and
 * without a circuit, out->id is 0. */
pf_kind db_prov_circuit_lock(db_conn *c, long long request_id, bool create,
                             db_prov_circuit *out, pf_err *err);
/* Sets the state; path_json (NULL: unchanged); error (NULL: cleared);
 * installed_at when the state is installed. */
pf_kind db_prov_circuit_set(db_conn *c, long long circuit_id, const char *state,
                            const char *path_json, const char *error, pf_err *err);
/* The transport VLAN the circuit holds on the link, or the lowest VLAN
 * (2..4094) nobody holds there, claimed now. A concurrent claim of the
 * same VLAN fails on link_vlans_pkey (PF_ECONFLICT
 * "transport_vlan_taken": retry the transaction); a full link gives
 * PF_ECONFLICT "link_full". */
pf_kind db_prov_link_vlan(db_conn *c, long long link_id, long long circuit_id, int *vlan,
                          pf_err *err);
/* Deletes the circuit's flows and releases its transport VLANs and its
 * meter ids. */
pf_kind db_prov_release(db_conn *c, long long circuit_id, pf_err *err);

/* --------------------------------------------------------------- flows */

typedef struct {
    long long id;
    long long circuit_id;
    long long switch_id;
    long long cookie;
    int table_id;
    int priority;
    char *match;   /* JSON text, malloc'ed */
    char *actions; /* JSON text, malloc'ed */
} db_prov_flow;

pf_kind db_prov_flow_insert(db_conn *c, const db_prov_flow *f, pf_err *err);
/* The circuit's flows, by switch and id. */
pf_kind db_prov_flows_of_circuit(db_conn *c, long long circuit_id, db_prov_flow **out,
                                 size_t *n, pf_err *err);
/* The desired flows of a switch: those of circuits that should be on the
 * fabric (planned, installing, installed). */
pf_kind db_prov_desired_flows(db_conn *c, long long switch_id, db_prov_flow **out, size_t *n,
                              pf_err *err);
/* The same rows, handed to fn one at a time as PostgreSQL sends them, in
 * no particular order (the reconcile of a big switch starts sending flow
 * mods before the last row is read). Inside a transaction. f is valid
 * only during the call and has no id or circuit_id; fn returning nonzero
 * stops the calls. */
pf_kind db_prov_desired_flows_each(db_conn *c, long long switch_id,
                                   int (*fn)(void *arg, const db_prov_flow *f), void *arg,
                                   pf_err *err);
/* Frees an array from the two functions above. */
void db_prov_flows_free(db_prov_flow *v, size_t n);

/* Appends "switch.connection_refused" to the audit log: a connection
 * claimed the switch (its datapath id) with another certificate, or
 * without TLS though the switch has a pinned one. */
pf_kind db_prov_audit_refusal(db_conn *c, long long switch_id, const char *dpid,
                              const char *presented, const char *reason, pf_err *err);

/* -------------------------------------------------------------- meters */

/* A peerflow meter id: the tag 0x5046 in the top 16 bits, 1..65535 in
 * the low 16 (migrations/0013_meters.sql). */
#define DB_PROV_METER_TAG 0x50460000LL
#define DB_PROV_METER_TAG_MASK 0xffff0000LL

typedef struct {
    long long circuit_id;
    char end_side;        /* 'a' requester, 'b' peer */
    long long switch_id;
    long long meter_id;   /* OpenFlow meter id */
    long long rate_kbps;
    long long burst_kbits;
} db_prov_meter;

/* The meter the circuit holds for one end, or the lowest free tagged id
 * on the switch, claimed now with the given rate. A concurrent claim of
 * the same id fails on circuit_meters_switch_meter_key (PF_ECONFLICT
 * "meter_id_taken": retry the transaction); PF_ECONFLICT "meters_full"
 * when the switch has none left. */
pf_kind db_prov_meter_claim(db_conn *c, long long circuit_id, char end_side, long long switch_id,
                            long long rate_kbps, long long burst_kbits, db_prov_meter *out,
                            pf_err *err);
/* Sets the rate of every meter of the circuit; out[0..*n) the meters
 * changed (at most cap). */
pf_kind db_prov_meter_rerate(db_conn *c, long long circuit_id, long long rate_kbps,
                             long long burst_kbits, db_prov_meter *out, size_t cap, size_t *n,
                             pf_err *err);
/* The circuit's meters ('a' first). *out malloc'ed; caller frees. */
pf_kind db_prov_meters_of_circuit(db_conn *c, long long circuit_id, db_prov_meter **out,
                                  size_t *n, pf_err *err);
/* The meters a switch should hold: those of circuits that should be on
 * the fabric (planned, installing, installed). */
pf_kind db_prov_desired_meters(db_conn *c, long long switch_id, db_prov_meter **out, size_t *n,
                               pf_err *err);

#endif
