/* web_metrics: counters of the web server for GET /metrics (Prometheus
 * text format): requests by route and status, a latency histogram per
 * route. Lock-free (atomic adds); process-wide. */
#ifndef WEB_METRICS_H
#define WEB_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Routes counted one by one; the test of the route table
 * (tests/unit/test_web_parts.c) checks every route fits. */
#define WEB_METRICS_MAX_ROUTES 128

/* route: index in the route table, or web_route_count() for "unmatched". */
void web_metrics_record(size_t route, int status, double seconds);

/* Writes every metric; gauges is {"requests_by_state": {...},
 * "outbox_pending": N, "outbox_dead": N, "jobs_pending": N, "switches": {"name": "state"}}
 * from the database (may be NULL when it is unreachable). */
void web_metrics_write(FILE *out, const json_t *gauges);

#endif
