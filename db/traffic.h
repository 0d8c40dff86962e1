/* db_traffic: the traffic counters of circuits (migrations/0012_traffic.sql)
 * - the provisioner's last reading and running totals (traffic_counters),
 * the raw samples and their rollups, the series of a request, the
 * circuits to poll. Every function runs inside the caller's transaction.
 * Which difference a reading makes (and when a counter was reset) is
 * decided in workflow/traffic.c; this file only stores it. */
#ifndef DB_TRAFFIC_H
#define DB_TRAFFIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* Directions: 0 = a_to_b (requester to peer), 1 = b_to_a. */
#define DB_TRAFFIC_AB 0
#define DB_TRAFFIC_BA 1

/* What traffic_counters holds for one direction. */
typedef struct {
    bool exists;             /* a reading was stored before */
    long long last_bytes, last_packets, last_duration_s;
    long long bytes_total, packets_total;
    int segments;
    double age_s;            /* seconds from that reading to `at` */
} db_traffic_last;

/* Locks (FOR UPDATE) and reads both directions of a circuit, the age
 * measured to at_epoch (0: now()). */
pf_kind db_traffic_last_get(db_conn *c, long long circuit_id, double at_epoch,
                            db_traffic_last out[2], pf_err *err);

/* Stores a reading of one direction: the switch's counters, and adds
 * add_bytes/add_packets to the totals; new_segment counts a reset. */
pf_kind db_traffic_put(db_conn *c, long long circuit_id, int direction, long long bytes,
                       long long packets, long long duration_s, long long add_bytes,
                       long long add_packets, bool new_segment, double at_epoch,
                       pf_err *err);

/* One raw sample: d = {ab_bytes, ab_packets, ba_bytes, ba_packets} over
 * `seconds` ending at at_epoch (0: now()). */
pf_kind db_traffic_sample(db_conn *c, long long circuit_id, double at_epoch, double seconds,
                          const long long d[4], pf_err *err);

/* A meter's drop counter as last stored (circuit_meters, migration 0018),
 * in a db_traffic_last's terms: exists (read before), last_packets,
 * last_duration_s, packets_total (the running total), age_s. */
typedef struct {
    bool metered;        /* the circuit has a meter at this end */
    long long meter_id;
    db_traffic_last last;
} db_traffic_drops;

/* Locks (FOR UPDATE) and reads the circuit's meters, by direction. */
pf_kind db_traffic_drops_get(db_conn *c, long long circuit_id, double at_epoch,
                             db_traffic_drops out[2], pf_err *err);

/* Stores a meter's reading (the switch's drop counter and the meter's
 * age) and adds add_packets to its total. Only if the meter is still
 * meter_id (a re-planned one is left alone). */
pf_kind db_traffic_drops_put(db_conn *c, long long circuit_id, int direction, long long meter_id,
                             long long packets, long long duration_s, long long add_packets,
                             double at_epoch, pf_err *err);

/* pf_traffic_rollup(at) - at_epoch 0: now(). */
pf_kind db_traffic_rollup(db_conn *c, double at_epoch, pf_err *err);

/* A circuit the provisioner polls: installed, both ends known. */
typedef struct {
    long long circuit_id;
    long long a_switch, a_ofport;
    long long b_switch, b_ofport;
    /* the meters of a capped circuit (0: no cap): end a's polices a_to_b */
    long long a_meter_switch, a_meter;
    long long b_meter_switch, b_meter;
} db_traffic_circuit;

/* Installed circuits, by id. *out malloc'ed; caller frees. */
pf_kind db_traffic_circuits(db_conn *c, db_traffic_circuit **out, size_t *n, pf_err *err);

/* The request's circuit as the traffic pages need it: {"request_id",
 * "circuit_id" (null when there is none), "state", "counted_since" (Unix
 * seconds of the circuit's first counter reading, or null), "a": {network, asn,
 * port, switch, vlan}, "b": {...}, "path": the circuit's hops with switch
 * names}. PF_ENOTFOUND "unknown_request" when the actor may not see it. */
pf_kind db_traffic_request_json(db_conn *c, long long request_id, json_t **out, pf_err *err);

/* Tiers of the series. */
typedef enum { DB_TRAFFIC_RAW, DB_TRAFFIC_5M, DB_TRAFFIC_1H } db_traffic_tier;

typedef struct {
    long long t;       /* bucket start, Unix seconds */
    long long v[4];    /* ab_bytes, ab_packets, ba_bytes, ba_packets */
} db_traffic_point;

/* Sums per bucket of `step` seconds (aligned to the epoch) of the
 * request's samples in [from, to) from tier. Only buckets with data.
 * *out malloc'ed; caller frees. */
pf_kind db_traffic_series(db_conn *c, long long request_id, db_traffic_tier tier,
                          long long from, long long to, int step, db_traffic_point **out,
                          size_t *n, pf_err *err);

#endif
