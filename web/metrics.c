/* web_metrics: see metrics.h. */
#include "web/metrics.h"

#include <string.h>

#include "web/routes.h"

enum { MAX_ROUTES = WEB_METRICS_MAX_ROUTES, STATUS_MIN = 100, STATUS_MAX = 599 };

static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
enum { NBUCKETS = sizeof bounds / sizeof bounds[0] };

/* counts[route][status - 100]; the last route slot is "unmatched" */
static unsigned long counts[MAX_ROUTES + 1][STATUS_MAX - STATUS_MIN + 1];
static unsigned long buckets[MAX_ROUTES + 1][NBUCKETS + 1];
static unsigned long sum_us[MAX_ROUTES + 1];

static size_t slot(size_t route)
{
    return route < web_route_count() && route < MAX_ROUTES ? route : MAX_ROUTES;
}

void web_metrics_record(size_t route, int status, double seconds)
{
    size_t r = slot(route);
    if (status < STATUS_MIN || status > STATUS_MAX)
        status = 500;
    __atomic_fetch_add(&counts[r][status - STATUS_MIN], 1, __ATOMIC_RELAXED);
    size_t b = 0;
    while (b < NBUCKETS && seconds > bounds[b])
        b++;
    __atomic_fetch_add(&buckets[r][b], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sum_us[r], (unsigned long)(seconds * 1e6), __ATOMIC_RELAXED);
}

static const char *route_name(size_t r)
{
    const web_route *w = web_route_at(r);
    return w ? w->name : "unmatched";
}

void web_metrics_write(FILE *out, const json_t *gauges)
{
    size_t n = web_route_count() < MAX_ROUTES ? web_route_count() : MAX_ROUTES;
    fputs("# HELP peerflow_http_requests_total HTTP requests by route and status.\n"
          "# TYPE peerflow_http_requests_total counter\n",
          out);
    for (size_t r = 0; r <= n; r++) {
        size_t idx = r == n ? MAX_ROUTES : r;
        for (int s = 0; s <= STATUS_MAX - STATUS_MIN; s++) {
            unsigned long c = __atomic_load_n(&counts[idx][s], __ATOMIC_RELAXED);
            if (c)
                fprintf(out, "peerflow_http_requests_total{route=\"%s\",status=\"%d\"} %lu\n",
                        route_name(idx == MAX_ROUTES ? (size_t)-1 : r), s + STATUS_MIN, c);
        }
    }
    fputs("# HELP peerflow_http_request_duration_seconds Time to answer, by route.\n"
          "# TYPE peerflow_http_request_duration_seconds histogram\n",
          out);
    for (size_t r = 0; r <= n; r++) {
        size_t idx = r == n ? MAX_ROUTES : r;
        const char *name = route_name(idx == MAX_ROUTES ? (size_t)-1 : r);
        unsigned long cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++)
            cum += __atomic_load_n(&buckets[idx][b], __ATOMIC_RELAXED);
        if (cum == 0)
            continue;
        cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += __atomic_load_n(&buckets[idx][b], __ATOMIC_RELAXED);
            fprintf(out, "peerflow_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
                    name, bounds[b], cum);
        }
        cum += __atomic_load_n(&buckets[idx][NBUCKETS], __ATOMIC_RELAXED);
        fprintf(out, "peerflow_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
                name, cum);
        fprintf(out, "peerflow_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
                (double)__atomic_load_n(&sum_us[idx], __ATOMIC_RELAXED) / 1e6);
        fprintf(out, "peerflow_http_request_duration_seconds_count{route=\"%s\"} %lu\n", name, cum);
    }
    fprintf(out, "# HELP peerflow_database_up Whether the database answered this scrape.\n"
                 "# TYPE peerflow_database_up gauge\npeerflow_database_up %d\n",
            gauges != NULL);
    if (gauges == NULL)
        return;
    fputs("# HELP peerflow_requests Peering requests by state.\n"
          "# TYPE peerflow_requests gauge\n",
          out);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(gauges, "requests_by_state"), k, v)
        fprintf(out, "peerflow_requests{state=\"%s\"} %lld\n", k, (long long)json_integer_value(v));
    fprintf(out, "# HELP peerflow_outbox_pending Mail not yet delivered (dead letters not counted).\n"
                 "# TYPE peerflow_outbox_pending gauge\npeerflow_outbox_pending %lld\n",
            (long long)json_integer_value(json_object_get(gauges, "outbox_pending")));
    fprintf(out, "# HELP peerflow_outbox_dead Dead letters: mail that will never be retried "
                 "(reports.mail_queue says why).\n"
                 "# TYPE peerflow_outbox_dead gauge\npeerflow_outbox_dead %lld\n",
            (long long)json_integer_value(json_object_get(gauges, "outbox_dead")));
    fprintf(out, "# HELP peerflow_jobs_pending Provisioning jobs queued or running.\n"
                 "# TYPE peerflow_jobs_pending gauge\npeerflow_jobs_pending %lld\n",
            (long long)json_integer_value(json_object_get(gauges, "jobs_pending")));
    fputs("# HELP peerflow_switch_connected Whether the provisioner holds an OpenFlow "
          "connection to the switch.\n# TYPE peerflow_switch_connected gauge\n",
          out);
    json_object_foreach((json_t *)json_object_get(gauges, "switches"), k, v)
        fprintf(out, "peerflow_switch_connected{switch=\"%s\"} %d\n", k,
                json_is_string(v) && strcmp(json_string_value(v), "connected") == 0);
    fputs("# HELP peerflow_switch_master The provisioner process that is OpenFlow master of the "
          "switch (its live lease, docs/fabric.md).\n# TYPE peerflow_switch_master gauge\n",
          out);
    json_object_foreach((json_t *)json_object_get(gauges, "masters"), k, v) {
        /* a worker name is the operator's text: escaped as a label value */
        fprintf(out, "peerflow_switch_master{switch=\"%s\",worker=\"", k);
        for (const char *c = json_string_value(v); c && *c; c++) {
            if (*c == '"' || *c == '\\')
                fputc('\\', out);
            if (*c == '\n')
                fputs("\\n", out);
            else
                fputc(*c, out);
        }
        fputs("\"} 1\n", out);
    }
    /* Totals over every segment of the flows' counters (a flow re-added
     * by reconcile does not reset them): counters in Prometheus's sense.
     * Labels are ids, so no escaping is needed. */
    static const char *const what[2] = {"bytes", "packets"};
    for (int w = 0; w < 2; w++) {
        fprintf(out,
                "# HELP peerflow_circuit_%s_total %s through the circuit's ingress flow, by "
                "direction (a_to_b: requester to peer).\n# TYPE peerflow_circuit_%s_total "
                "counter\n",
                what[w], w == 0 ? "Bytes" : "Packets", what[w]);
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(gauges, "circuits"), i, c) {
            const char *dir = json_string_value(json_object_get(c, "direction"));
            fprintf(out, "peerflow_circuit_%s_total{circuit=\"%lld\",request=\"%lld\","
                         "direction=\"%s\"} %lld\n",
                    what[w], (long long)json_integer_value(json_object_get(c, "circuit")),
                    (long long)json_integer_value(json_object_get(c, "request")),
                    dir && strcmp(dir, "b_to_a") == 0 ? "b_to_a" : "a_to_b",
                    (long long)json_integer_value(json_object_get(c, what[w])));
        }
    }
    /* Packets the meters of capped circuits dropped (over the cap), by the
     * direction the meter polices; only circuits with a cap whose meter
     * was read have a line (none is not the same as 0 drops). */
    json_t *drops = json_object_get(gauges, "drops");
    if (json_array_size(drops) > 0) {
        fputs("# HELP peerflow_circuit_dropped_packets_total Packets the circuit's meter "
              "dropped over its bandwidth cap, by direction (a_to_b: requester to peer).\n"
              "# TYPE peerflow_circuit_dropped_packets_total counter\n",
              out);
        size_t i;
        json_t *c;
        json_array_foreach(drops, i, c) {
            const char *dir = json_string_value(json_object_get(c, "direction"));
            fprintf(out, "peerflow_circuit_dropped_packets_total{circuit=\"%lld\",request=\"%lld\","
                         "direction=\"%s\"} %lld\n",
                    (long long)json_integer_value(json_object_get(c, "circuit")),
                    (long long)json_integer_value(json_object_get(c, "request")),
                    dir && strcmp(dir, "b_to_a") == 0 ? "b_to_a" : "a_to_b",
                    (long long)json_integer_value(json_object_get(c, "packets")));
        }
    }
}
