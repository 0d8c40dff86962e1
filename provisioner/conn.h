/* prov_net: the OpenFlow 1.3 connections to the fabric's switches.
 *
 * One I/O thread owns every connection: non-blocking sockets and poll(),
 * so a switch that is down, slow or silent never blocks the others, and
 * no thread per switch has to be started, stopped and joined as switches
 * come and go. It
 *   - connects to switches that listen (switches.endpoint `tcp:HOST:PORT`,
 *     `ssl:HOST:PORT` or `unix:PATH`), with exponential backoff between
 *     attempts; the bytes go through provisioner/transport.h (plain,
 *     unix, TLS), so this file speaks OpenFlow only;
 *   - accepts switches that connect to us on cfg.listen (`HOST:PORT`,
 *     `ssl:HOST:PORT` or `unix:PATH`), and knows them by the datapath id
 *     of their FEATURES reply; a switch with a pinned certificate
 *     (switches.cert_sha256) must present exactly it over TLS, else the
 *     connection is refused and audited (switch.connection_refused) and a
 *     live connection of the switch is left alone;
 *   - negotiates the version: HELLO with a version bitmap offering 1.3
 *     only; a peer that does not offer 1.3 is refused with a HELLO_FAILED
 *     error and a conn_error saying which versions it offered;
 *   - checks the datapath id against the database (a wrong switch behind
 *     an endpoint is refused);
 *   - keeps each connection alive with ECHO and drops a peer silent for
 *     dead_after_ms;
 *   - notes every change of a switch's connection state.
 *
 * A second thread, the state recorder, is the only one that talks to the
 * database: it re-reads the switch list every refresh_ms and writes
 * switches.conn_state / conn_changed_at / conn_error on every change
 * (when write_state). The I/O thread never waits for PostgreSQL: a slow
 * or locked database delays the recorded state, never ECHO, handshakes
 * or batches; the state lands once the database answers again.
 *
 * Other threads (job workers, the reconciler, the CLI) call the blocking
 * functions below. They encode their messages into the connection's output
 * buffer under the manager's lock, with xids the connection hands out, and
 * sleep on a condition variable until the I/O thread has matched the
 * replies (BARRIER_REPLY, MULTIPART_REPLY, ERROR) to their xids, the
 * connection dropped, or the timeout passed. Several callers may work on
 * the same switch at the same time; OpenFlow keeps each one's messages in
 * order on the one connection.
 */
#ifndef PROV_CONN_H
#define PROV_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pf_err.h"
#include "provisioner/ofp13.h"

typedef struct prov_net prov_net;

typedef struct {
    const char *database_url; /* required: switch list and conn_state */
    const char *listen;       /* NULL, "HOST:PORT", "ssl:HOST:PORT" or "unix:PATH" */
    const char *tls_dir;      /* key.pem, cert.pem, cacert.pem (transport.h), or NULL */
    const char *only_switch;  /* connect to this switch only (CLI), or NULL */
    bool write_state;         /* write switches.conn_state (the service does) */
    bool roles;               /* controller roles (docs/fabric.md, mastership):
                                 writes need the switch's confirmed MASTER role,
                                 set with prov_net_set_role; false: the
                                 default role (EQUAL), every connection writes */
    int echo_interval_ms;     /* 0: 5000 */
    int dead_after_ms;        /* 0: 15000 */
    int handshake_ms;         /* 0: 5000 */
    int backoff_min_ms;       /* 0: 100 */
    int backoff_max_ms;       /* 0: 5000 */
    int refresh_ms;           /* 0: 2000 */
    /* Called by the I/O thread (with no lock held) when a switch has
     * completed the handshake; must not block. */
    void (*on_connect)(void *arg, long long switch_id);
    void *on_connect_arg;
    /* A line for the operator's log (a switch fell back from bundles);
     * called by a caller's thread with the manager's lock held: must not
     * call back into prov_net. NULL: not logged. */
    void (*log)(void *arg, const char *line);
    void *log_arg;
} prov_net_config;

/* Starts the I/O thread. NULL with err filled (database unreachable,
 * listener cannot bind). */
prov_net *prov_net_start(const prov_net_config *cfg, pf_err *err);
/* Closes every connection (conn_state disconnected) and joins. NULL ok. */
void prov_net_stop(prov_net *n);

/* Waits until the switch is connected; false after timeout_ms. */
bool prov_net_wait_connected(prov_net *n, long long switch_id, int timeout_ms);
bool prov_net_connected(prov_net *n, long long switch_id);
/* The last connection error of the switch ("" if none). */
void prov_net_last_error(prov_net *n, long long switch_id, char *buf, size_t cap);
/* Counts, for tests and metrics. */
typedef struct {
    unsigned long connects;      /* handshakes completed */
    unsigned long disconnects;
    unsigned long echo_timeouts;
    unsigned long refused;       /* version or datapath id refusals */
    unsigned long bundle_fallbacks; /* bundles refused: plain batches since */
    unsigned long masterships;   /* ROLE_REPLYs that made this process master */
} prov_net_stats;
/* TLS handshakes that failed on the ssl: listener (a plain TCP client, a
 * certificate the CA did not sign): no switch to count them for. */
unsigned long prov_net_tls_refused(prov_net *n);
void prov_net_get_stats(prov_net *n, long long switch_id, prov_net_stats *out);

/* Controller roles (cfg.roles). The mastership lease (db/mastership.h)
 * decides; this sends OFPT_ROLE_REQUEST on the switch's connection (now,
 * and on every reconnect) with the lease's generation id: MASTER when
 * master, else SLAVE. Writes (batches, meter mods) are allowed only while
 * the switch has confirmed MASTER with its ROLE_REPLY and valid_ms (the
 * lease's time left) has not passed; otherwise they fail with not_master
 * (and unreachable). Reads (dumps) and a batch of no mods (a BARRIER
 * alone, a probe) are allowed in any role. A ROLE_REPLY
 * that makes this process master also calls cfg.on_connect (a new master
 * reconciles the switch); with roles, the handshake alone does not. */
void prov_net_set_role(prov_net *n, long long switch_id, bool master, uint64_t generation,
                       int valid_ms);
/* Whether this process may write to the switch now (without roles: it is
 * connected). */
bool prov_net_is_master(prov_net *n, long long switch_id);
/* The role the switch confirmed on the live connection (0: none yet) and
 * its generation id; false when not connected. */
bool prov_net_role(prov_net *n, long long switch_id, uint32_t *role, uint64_t *generation);
/* The ids of the switches connected now (at most cap); returns the count. */
size_t prov_net_connected_ids(prov_net *n, long long *ids, size_t cap);

/* The result of a batch or a dump. */
typedef struct {
    bool ok;           /* every reply arrived and no ERROR */
    bool unreachable;  /* not connected, connection lost, or timed out (or,
                          with roles, not the switch's master: not_master) */
    bool not_master;   /* a write refused: not master here, or the switch
                          answered OFPBRC_IS_SLAVE */
    long failed_index; /* the flow mod an ERROR answered, -1 for none */
    int n_errors;      /* ERROR replies received */
    uint16_t err_type, err_code; /* the first ERROR */
    char message[400]; /* what went wrong, for a person */
} prov_result;

/* Sends the flow mods so that they land whole or not at all: in one
 * OpenFlow bundle (ONF extension 230, OFPBF_ATOMIC | OFPBF_ORDERED: open,
 * adds, barrier; then commit, barrier, or discard when the switch refused
 * a mod). A switch that refuses the bundle itself falls back, from then
 * on, to prov_net_batch_plain (logged once through cfg.log, counted in
 * stats.bundle_fallbacks). One mod goes without a bundle. ERROR replies
 * are collected (the flow mod's reported, with its index). Returns
 * res->ok. */
bool prov_net_batch(prov_net *n, long long switch_id, const struct ofp_flow *mods,
                    size_t n_mods, int timeout_ms, prov_result *res);
/* The flow mods as one pipeline followed by one BARRIER_REQUEST, waiting
 * for the BARRIER_REPLY; each mod stands alone (a refused one does not
 * stop the others). For deletions where that is what is wanted. */
bool prov_net_batch_plain(prov_net *n, long long switch_id, const struct ofp_flow *mods,
                          size_t n_mods, int timeout_ms, prov_result *res);
/* A bundle sent while its mods are still being computed (the reconcile
 * of a big switch: the switch checks the first mods while the rest are
 * read from the database). open: OPEN_REQUEST now; NULL when the switch
 * is known to refuse bundles or is not writable now (then use
 * prov_net_batch, which says why). push: queues mods[k .. n_mods) where k
 * is what was pushed before (mods is the whole array so far, it may have
 * moved); false once the stream failed (finish tells why). finish: the
 * rest, BARRIER; a refused mod: DISCARD, nothing applied; else COMMIT,
 * BARRIER - as prov_net_batch, also its fallback (a switch that refuses
 * the bundle gets all n_mods again without one), and frees the stream.
 * abort: DISCARD and free (the mods are not wanted after all). The
 * mods' xids need not be contiguous (the lock is released between
 * pushes): failed_index still names the refused mod. */
typedef struct prov_stream prov_stream;
prov_stream *prov_net_stream_open(prov_net *n, long long switch_id);
bool prov_net_stream_push(prov_stream *st, const struct ofp_flow *mods, size_t n_mods);
bool prov_net_stream_finish(prov_stream *st, const struct ofp_flow *mods, size_t n_mods,
                            int timeout_ms, prov_result *res);
void prov_net_stream_abort(prov_stream *st);
/* Meter mods, pipelined, then one BARRIER (meter mods cannot go in a
 * bundle: Open vSwitch answers OFPBFC_MSG_UNSUP). As prov_net_batch_plain. */
bool prov_net_meter_batch(prov_net *n, long long switch_id, const struct ofp_meter *mods,
                          size_t n_mods, int timeout_ms, prov_result *res);
/* Reads every meter of the switch (meter config multipart, all parts).
 * On success *out is malloc'ed (caller frees) with *n_out meters. */
bool prov_net_meter_dump(prov_net *n, long long switch_id, int timeout_ms,
                         struct ofp_meter **out, size_t *n_out, prov_result *res);
/* Reads every meter's counters (meter stats multipart, all parts): the
 * traffic counter poller's drops. *out malloc'ed (caller frees). */
bool prov_net_meter_stats(prov_net *n, long long switch_id, int timeout_ms,
                          struct ofp_meter_stats_entry **out, size_t *n_out, prov_result *res);

/* Reads the switch's flows (flow stats multipart; every reply part). On
 * success *out is malloc'ed (caller frees) with *n_out entries. */
bool prov_net_dump(prov_net *n, long long switch_id, const struct ofp_flow_stats_req *req,
                   int timeout_ms, struct ofp_flow_entry **out, size_t *n_out,
                   prov_result *res);

#endif
