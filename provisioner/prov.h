/* prov: the provisioner service - the contract cmd/ uses.
 *
 *   prov_service_start  starts, in this process, with database
 *                       connections of its own:
 *                       - the OpenFlow I/O thread (provisioner/conn.h),
 *                       - cfg.workers job threads: claim provision and
 *                         teardown jobs (FOR UPDATE SKIP LOCKED, with a
 *                         lease), plan, install, confirm by BARRIER and
 *                         report through wf_request_provision_event,
 *                       - one reconciler thread: every switch on each
 *                         (re)connect, all of them every
 *                         reconcile_interval_ms, and those
 *                         `peerflow reconcile` asked for.
 *                       - one mastership thread: every lease/3 renews or
 *                         takes the switches' mastership leases in the
 *                         database and tells each switch the role
 *                         (OFPT_ROLE_REQUEST MASTER with the lease's
 *                         generation id, else SLAVE). Jobs are run and
 *                         switches reconciled only by their master; a
 *                         process that masters no switch while another
 *                         does claims no job (a standby).
 *   prov_service_stop   stops and joins them (a job in flight finishes
 *                       its current step; one cut short is re-run by the
 *                       next worker after its lease: every step is
 *                       idempotent).
 *   prov_reconcile_now  `peerflow reconcile`: reconciles now, from this
 *                       process, the switches the CLI can reach.
 *
 * See docs/fabric.md for the flows, the cookie scheme and the job model. */
#ifndef PROV_PROV_H
#define PROV_PROV_H

#include <stdbool.h>

#include "common/pf_err.h"
#include "provisioner/conn.h"
#include "provisioner/fabric.h"

typedef struct {
    const char *database_url;    /* required (connects as peerflow_worker) */
    const char *openflow_listen; /* PEERFLOW_OPENFLOW_LISTEN: "ADDR:PORT",
                                    "ssl:ADDR:PORT" or "unix:PATH", or NULL
                                    for none */
    const char *openflow_tls_dir; /* PEERFLOW_OPENFLOW_TLS_DIR: key.pem,
                                     cert.pem, cacert.pem; NULL: no TLS */
    const char *base_url;        /* links in mail; NULL: http://127.0.0.1:8080 */
    const char *mail_domain;     /* NULL: localhost */
    const char *worker_name;     /* jobs.locked_by prefix; NULL: "HOST:PID" */
    int workers;                 /* job threads; 0: 1; negative: none */
    bool no_reconcile;           /* no reconciler thread */
    int poll_ms;                 /* idle job poll; 0: 500 */
    int lease_s;                 /* job lease; 0: 60 */
    int barrier_timeout_ms;      /* per switch batch; 0: 5000 */
    int unreachable_fail_ms;     /* fail a provision after a switch was
                                    unreachable this long; 0: 120000 */
    int retry_max_ms;            /* max backoff between attempts; 0: 10000 */
    int reconcile_interval_ms;   /* 0: 60000 */
    int master_lease_ms;         /* mastership lease of a switch (controller
                                    roles, db/mastership.h): 0: 3000;
                                    negative: no roles (every connection
                                    writes, the OpenFlow default EQUAL) */
    int counter_interval_ms;     /* traffic counters (provisioner/counters.h):
                                    0: 10000; negative: not polled */
    /* connection tuning (0: defaults of prov_net_config) */
    int echo_interval_ms, dead_after_ms, backoff_max_ms, refresh_ms;
    /* a line for the operator's log (prov_net_config.log) */
    void (*log)(void *arg, const char *line);
    void *log_arg;
} prov_config;

typedef struct prov_service prov_service;

/* NULL with err filled when the database or the OpenFlow listener is not
 * available. */
prov_service *prov_service_start(const prov_config *cfg, pf_err *err);
void prov_service_stop(prov_service *s);

/* The service's connections (tests, metrics). Borrowed. */
prov_net *prov_service_net(prov_service *s);
/* Asks the reconciler to reconcile a switch soon (0: every switch). */
void prov_service_request_reconcile(prov_service *s, long long switch_id);
/* Counter polls done so far (tests wait on it; 0 when not polled). */
unsigned long prov_service_counter_polls(prov_service *s);
/* Whether the mastership thread found this process a standby (another
 * process holds every live lease; false without roles). */
bool prov_service_standby(prov_service *s);
/* Reconciliations done so far (tests wait on it). */
unsigned long prov_service_reconciles(prov_service *s);

typedef struct {
    int switches;    /* reconciled */
    int requested;   /* switches that connect to the provisioner: asked
                        the running service (switches.reconcile_requested_at) */
    int unreachable; /* could not be reached */
    prov_drift total;
    char message[400]; /* the first problem, "" if none */
} prov_reconcile_report;

/* ------------------------------------------------------------ a live cap
 *
 * prov_meter_modify: changes a live circuit's cap in place to mbps (0:
 * the request's own bandwidth_mbps, to put the meters back after a
 * failed change). Re-rates the circuit's meters in the database
 * (circuit_meters, the reconciler's truth) and sends each one
 * OFPMC_MODIFY + BARRIER on its switch: the flows are not touched and no
 * packet is lost for the change. The job kind "modify" (queued by an
 * approved change, workflow/changes.h) runs it in the service's workers
 * with retries while a switch is unreachable, and records the change
 * applied or failed.
 *   PF_ECONFLICT "no_circuit"        the request has no circuit;
 *   PF_ECONFLICT "cap_not_in_place"  the circuit has no cap, or the new
 *                                    value is 0 (a cap added or removed
 *                                    needs new flows);
 *   PF_EUNAVAIL  "switch_unreachable", PF_ECONFLICT "openflow_error". */
typedef struct {
    int bandwidth_mbps; /* the rate now in force */
    int modified;       /* meters modified */
} prov_modify_report;

pf_kind prov_meter_modify(prov_net *n, db_conn *db, long long request_id, int mbps,
                          int timeout_ms, prov_modify_report *rep, pf_err *err);

/* Reconciles switch_name (NULL: every switch) now. PF_ENOTFOUND for an
 * unknown switch; PF_EUNAVAIL when a switch could not be reached (the
 * report says which); the others are still done. */
pf_kind prov_reconcile_now(const prov_config *cfg, const char *switch_name,
                           prov_reconcile_report *rep, pf_err *err);

#endif
