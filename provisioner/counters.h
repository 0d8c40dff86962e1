/* prov_counters: traffic counters of circuits from flow statistics.
 *
 * Every interval, one flow stats request per switch that holds an end of
 * an installed circuit - the same multipart dump reconciliation reads
 * (prov_net_dump), filtered on peerflow's cookie tag - and, per circuit,
 * the two ingress flows: the flow with the circuit's cookie whose match
 * is the requester's port on its switch (a_to_b) and the one matching the
 * peer's port (b_to_a). Each reading goes to wf_traffic_record, which
 * turns it into a reset-safe difference (workflow/traffic.h).
 *
 * A switch that holds a meter of a capped circuit is also asked for its
 * meter stats (one request, every meter); each meter's drop band packet
 * count goes to wf_traffic_record_drops, which keeps the running total
 * /metrics exports as peerflow_circuit_dropped_packets_total. */
#ifndef PROV_COUNTERS_H
#define PROV_COUNTERS_H

#include "common/pf_err.h"
#include "db/db.h"
#include "provisioner/conn.h"

#define PROV_COUNTER_INTERVAL_MS 10000

typedef struct {
    int circuits;   /* installed circuits */
    int sampled;    /* circuits with at least one ingress flow read */
    int metered;    /* capped circuits with at least one meter read */
    int switches;   /* switches asked */
    int unreachable;
} prov_counters_report;

/* One poll, now, on db (a peerflow_worker connection). PF_EUNAVAIL when
 * the database is not reachable; an unreachable switch only leaves its
 * circuits out (counted in rep). */
pf_kind prov_counters_poll(prov_net *n, db_conn *db, int timeout_ms,
                           prov_counters_report *rep, pf_err *err);

typedef struct prov_counters prov_counters;

/* Starts the poller thread (own database connection, made on first use
 * and again after it broke). interval_ms 0: PROV_COUNTER_INTERVAL_MS. */
prov_counters *prov_counters_start(prov_net *n, const char *database_url, int interval_ms,
                                   int timeout_ms, pf_err *err);
/* Stops and joins. NULL ok. */
void prov_counters_stop(prov_counters *c);
/* Polls completed so far (tests wait on it). */
unsigned long prov_counters_polls(prov_counters *c);

#endif
