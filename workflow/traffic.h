/* wf_traffic: the traffic of circuits (issue 14; docs/architecture.md,
 * "Traffic").
 *
 *  - wf_traffic_delta (pure): what a switch's reading adds to a
 *    direction's totals. A counter that went backwards, or a flow younger
 *    than the time since the last reading (re-added by a reconcile, the
 *    switch restarted), starts a new segment: the reading itself is what
 *    flowed since the flow was added, inside the interval. Never negative.
 *    The first reading of a flow counts its counter, too (it started at
 *    zero when the flow was installed).
 *  - wf_traffic_record: one reading of a circuit's two ingress flows, in
 *    one transaction (the provisioner's poller, provisioner/counters.c).
 *    Writes happen only when a counter moved: a direction whose counter
 *    is unchanged writes nothing, and a sample row is written only when
 *    some bytes or packets crossed. So an idle circuit costs no row and
 *    no update, and in the series a step without a sample is zero
 *    traffic - from the circuit's first reading on ("counted_since").
 *  - wf_traffic_record_drops: the same for the drop counters of a
 *    capped circuit's meters (meter stats);
 *  - wf_traffic_rollup: the worker loop's periodic rollup and pruning;
 *  - wf_traffic_series: the rate series of a request for its two parties
 *    and operators (API JSON and CSV, the request page's graph);
 *  - wf_traffic_request: the request's ends and path for the diagram.
 */
#ifndef WF_TRAFFIC_H
#define WF_TRAFFIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/traffic.h"
#include "workflow/context.h"

/* A switch's counters of one ingress flow, as flow stats gave them. */
typedef struct {
    bool present; /* the flow was found */
    uint64_t bytes, packets;
    uint32_t duration_s;
} wf_traffic_reading;

typedef struct {
    bool first;       /* nothing stored before: remember, add nothing */
    bool new_segment; /* the counter was reset */
    long long bytes, packets; /* to add; >= 0 */
} wf_traffic_step;

/* Seconds a flow's age may lag behind the time between two readings
 * before it is taken for a re-added flow (clocks, poll jitter). */
#define WF_TRAFFIC_AGE_SLACK_S 3

/* A flow older than this at its first reading (the circuit was built
 * before peerflow counted it) adds to the totals but to no sample: when
 * its bytes crossed is unknown. A new circuit's flows are read within one
 * poll interval (default 10 s). */
#define WF_TRAFFIC_FIRST_MAX_AGE_S 60

void wf_traffic_delta(const db_traffic_last *prev, const wf_traffic_reading *cur,
                      wf_traffic_step *out);

/* Records readings r[DB_TRAFFIC_AB], r[DB_TRAFFIC_BA] of a circuit taken
 * at at_epoch (0: the database's now()). *sampled is set when a sample row
 * was written (not on the first reading). */
pf_kind wf_traffic_record(const wf_env *env, long long circuit_id, const wf_traffic_reading r[2],
                          double at_epoch, bool *sampled, pf_err *err);

/* Records the drop counters of a capped circuit's two meters (r[dir]:
 * packets = the drop band's packet count, duration_s = the meter's age;
 * bytes unused), read from meters meter_id[dir] (direction a_to_b is end
 * a's meter). Each meter's running total (/metrics'
 * peerflow_circuit_dropped_packets_total) grows by wf_traffic_delta's
 * packets: never negative across a re-added meter. A meter the circuit no
 * longer holds is skipped. */
pf_kind wf_traffic_record_drops(const wf_env *env, long long circuit_id,
                                const wf_traffic_reading r[2], const long long meter_id[2],
                                double at_epoch, pf_err *err);

/* pf_traffic_rollup at at_epoch (0: now). */
pf_kind wf_traffic_rollup(const wf_env *env, double at_epoch, pf_err *err);

/* The query of a series, from text (API parameters; NULL = default):
 * from/to as Unix seconds or UTC "YYYY-MM-DDTHH:MM[:SS]Z"; step as
 * seconds or "5m", "1h", "1d"; range as "1h", "24h", "7d", "30d" (the
 * page's choices; from and to then must be absent). Defaults: the last
 * 24 hours, about 300 points. PF_EINVALID with the field otherwise. */
typedef struct {
    long long from, to; /* Unix seconds, from < to */
    int step;           /* seconds, a multiple of the tier's resolution */
    db_traffic_tier tier;
} wf_traffic_query;

pf_kind wf_traffic_query_parse(const char *from, const char *to, const char *step,
                               const char *range, long long now, wf_traffic_query *q,
                               pf_err *err);

/* {"request_id", "from", "to", "step", "tier", "unit", "counted_since"
 * (ISO time of the circuit's first reading, or null), "points": [{"t",
 * "at", "a_to_b_bps", "b_to_a_bps", "a_to_b_pps", "b_to_a_pps"} one per
 * step: 0 where no sample was written (idle) after counted_since, null
 * before it (not counted yet)], "max_bps"}. PF_ENOTFOUND when the actor
 * may not see the request. Caller decrefs. */
pf_kind wf_traffic_series(const wf_env *env, const wf_actor *who, long long request_id,
                          const wf_traffic_query *q, json_t **out, pf_err *err);

/* The request's ends and its circuit's path (db_traffic_request_json).
 * Caller decrefs. */
pf_kind wf_traffic_request(const wf_env *env, const wf_actor *who, long long request_id,
                           json_t **out, pf_err *err);

#endif
