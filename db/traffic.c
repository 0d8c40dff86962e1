/* db_traffic: see traffic.h. */
#include "db/traffic.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $2 = the reading's time as Unix seconds, NULL for now(). */
#define AT_PARAM(n) "coalesce(to_timestamp($" #n "::float8), now())"

static const db_stmt last_get = {
    "pf_traffic_last",
    "SELECT direction, last_bytes, last_packets, last_duration_s, bytes_total, packets_total,"
    " segments, extract(epoch FROM " AT_PARAM(2) " - sampled_at)::float8"
    " FROM traffic_counters WHERE circuit_id = $1 FOR UPDATE",
    2};

static const db_stmt put = {
    "pf_traffic_put",
    "INSERT INTO traffic_counters (circuit_id, direction, bytes_total, packets_total,"
    " last_bytes, last_packets, last_duration_s, segments, sampled_at, first_at)"
    " VALUES ($1, $2, $6, $7, $3, $4, $5, 1, " AT_PARAM(9) ", " AT_PARAM(9) ")"
    " ON CONFLICT (circuit_id, direction) DO UPDATE SET"
    " bytes_total = traffic_counters.bytes_total + $6,"
    " packets_total = traffic_counters.packets_total + $7,"
    " last_bytes = $3, last_packets = $4, last_duration_s = $5,"
    " segments = traffic_counters.segments + CASE WHEN $8 THEN 1 ELSE 0 END,"
    " sampled_at = EXCLUDED.sampled_at",
    9};

static const db_stmt sample = {
    "pf_traffic_sample",
    "INSERT INTO traffic_samples (circuit_id, at, seconds, ab_bytes, ab_packets, ba_bytes,"
    " ba_packets) VALUES ($1, " AT_PARAM(2) ", $3, $4, $5, $6, $7)"
    " ON CONFLICT (circuit_id, at) DO UPDATE SET seconds = EXCLUDED.seconds,"
    " ab_bytes = traffic_samples.ab_bytes + EXCLUDED.ab_bytes,"
    " ab_packets = traffic_samples.ab_packets + EXCLUDED.ab_packets,"
    " ba_bytes = traffic_samples.ba_bytes + EXCLUDED.ba_bytes,"
    " ba_packets = traffic_samples.ba_packets + EXCLUDED.ba_packets",
    7};

static const db_stmt rollup = {
    "pf_traffic_rollup", "SELECT pf_traffic_rollup(" AT_PARAM(1) ")", 1};

static const db_stmt circuits = {
    "pf_traffic_circuits",
    "SELECT c.id, ap.switch_id, ap.ofport, bp.switch_id, bp.ofport,"
    " coalesce(ma.switch_id, 0), coalesce(ma.meter_id, 0),"
    " coalesce(mb.switch_id, 0), coalesce(mb.meter_id, 0)"
    " FROM circuits c JOIN peering_requests r ON r.id = c.request_id"
    " JOIN ports ap ON ap.id = r.requester_port_id"
    " JOIN ports bp ON bp.id = r.peer_port_id"
    " LEFT JOIN circuit_meters ma ON ma.circuit_id = c.id AND ma.end_side = 'a'"
    " LEFT JOIN circuit_meters mb ON mb.circuit_id = c.id AND mb.end_side = 'b'"
    " WHERE c.state = 'installed' ORDER BY c.id",
    0};

/* The meters' drop counters (migrations/0018): end 'a' polices a_to_b. */
static const db_stmt drops_get = {
    "pf_traffic_drops_last",
    "SELECT end_side, meter_id, coalesce(last_dropped_packets, 0),"
    " coalesce(last_duration_s, 0), dropped_packets_total, drops_sampled_at IS NOT NULL,"
    " coalesce(extract(epoch FROM " AT_PARAM(2) " - drops_sampled_at)::float8, 0)"
    " FROM circuit_meters WHERE circuit_id = $1 FOR UPDATE",
    2};

static const db_stmt drops_put = {
    "pf_traffic_drops_put",
    "UPDATE circuit_meters SET last_dropped_packets = $4, last_duration_s = $5,"
    " dropped_packets_total = dropped_packets_total + $6, drops_sampled_at = " AT_PARAM(7)
    " WHERE circuit_id = $1 AND end_side = $2 AND meter_id = $3",
    7};

#define END_JSON(p, n, v)                                                                   \
    "json_build_object('network', " n ".name, 'asn', " n ".asn, 'port', " p ".name,"       \
    " 'switch', (SELECT s.name FROM switches s WHERE s.id = " p ".switch_id),"             \
    " 'ofport', " p ".ofport, 'vlan', " v ")"

static const db_stmt request_json = {
    "pf_traffic_request",
    "SELECT json_build_object('request_id', r.id, 'state', r.state,"
    " 'circuit_id', c.id, 'circuit_state', c.state,"
    " 'counted_since', (SELECT extract(epoch FROM min(tc.first_at))::bigint"
    "   FROM traffic_counters tc WHERE tc.circuit_id = c.id),"
    " 'a', " END_JSON("ap", "an", "r.requester_vlan") ","
    " 'b', CASE WHEN bp.id IS NULL THEN NULL ELSE " END_JSON("bp", "bn", "r.peer_vlan") " END,"
    " 'path', coalesce((SELECT json_agg(json_build_object('switch', s.name,"
    "   'in_port', (h.hop->>'in_port')::bigint, 'out_port', (h.hop->>'out_port')::bigint,"
    "   'transport_vlan', (h.hop->>'transport_vlan')::int) ORDER BY h.i)"
    "   FROM jsonb_array_elements(c.path) WITH ORDINALITY h(hop, i)"
    "   LEFT JOIN switches s ON s.id = (h.hop->>'switch_id')::bigint), '[]'::json))"
    " FROM peering_requests r"
    " JOIN networks an ON an.id = r.requester_network_id"
    " JOIN networks bn ON bn.id = r.peer_network_id"
    " JOIN ports ap ON ap.id = r.requester_port_id"
    " LEFT JOIN ports bp ON bp.id = r.peer_port_id"
    " LEFT JOIN circuits c ON c.request_id = r.id"
    " WHERE r.id = $1 AND ($2::bigint IS NULL OR $2 IN (r.requester_network_id,"
    " r.peer_network_id))",
    2};

/* One statement per tier: a table name cannot be a parameter. The
 * request's network filter is the same as every tenant-visible query's
 * (db_scope_param), on top of row-level security. */
#define SERIES_SQL(table, col)                                                              \
    "SELECT extract(epoch FROM date_bin(make_interval(secs => $4), t." col ","             \
    " timestamptz 'epoch'))::bigint, sum(t.ab_bytes)::bigint, sum(t.ab_packets)::bigint,"   \
    " sum(t.ba_bytes)::bigint, sum(t.ba_packets)::bigint"                                  \
    " FROM " table " t JOIN circuits c ON c.id = t.circuit_id"                             \
    " JOIN peering_requests r ON r.id = c.request_id"                                      \
    " WHERE c.request_id = $1 AND t." col " >= to_timestamp($2) AND t." col                \
    " < to_timestamp($3)"                                                                  \
    " AND ($5::bigint IS NULL OR $5 IN (r.requester_network_id, r.peer_network_id))"        \
    " GROUP BY 1 ORDER BY 1"

static const db_stmt series[3] = {
    {"pf_traffic_series_raw", SERIES_SQL("traffic_samples", "at"), 5},
    {"pf_traffic_series_5m", SERIES_SQL("traffic_5m", "bucket"), 5},
    {"pf_traffic_series_1h", SERIES_SQL("traffic_1h", "bucket"), 5},
};

static const char *fmt_at(char buf[40], double at_epoch)
{
    if (at_epoch <= 0)
        return NULL;
    snprintf(buf, 40, "%.6f", at_epoch);
    return buf;
}

pf_kind db_traffic_last_get(db_conn *c, long long circuit_id, double at_epoch,
                            db_traffic_last out[2], pf_err *err)
{
    memset(out, 0, 2 * sizeof *out);
    char b[24], t[40];
    const char *p[2] = {db_fmt_ll(b, circuit_id), fmt_at(t, at_epoch)};
    PGresult *r = db_exec(c, &last_get, p, err);
    if (r == NULL)
        return err->kind;
    for (int i = 0; i < PQntuples(r); i++) {
        int d = strcmp(db_val(r, i, 0), "b_to_a") == 0 ? DB_TRAFFIC_BA : DB_TRAFFIC_AB;
        db_traffic_last *l = &out[d];
        l->exists = true;
        l->last_bytes = db_ll(r, i, 1);
        l->last_packets = db_ll(r, i, 2);
        l->last_duration_s = db_ll(r, i, 3);
        l->bytes_total = db_ll(r, i, 4);
        l->packets_total = db_ll(r, i, 5);
        l->segments = (int)db_ll(r, i, 6);
        l->age_s = strtod(db_val(r, i, 7), NULL);
    }
    PQclear(r);
    return PF_OK;
}

pf_kind db_traffic_put(db_conn *c, long long circuit_id, int direction, long long bytes,
                       long long packets, long long duration_s, long long add_bytes,
                       long long add_packets, bool new_segment, double at_epoch, pf_err *err)
{
    char b[7][24], t[40];
    const char *p[9] = {db_fmt_ll(b[0], circuit_id),
                        direction == DB_TRAFFIC_BA ? "b_to_a" : "a_to_b",
                        db_fmt_ll(b[1], bytes),
                        db_fmt_ll(b[2], packets),
                        db_fmt_ll(b[3], duration_s),
                        db_fmt_ll(b[4], add_bytes),
                        db_fmt_ll(b[5], add_packets),
                        new_segment ? "true" : "false",
                        fmt_at(t, at_epoch)};
    PGresult *r = db_exec(c, &put, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_traffic_sample(db_conn *c, long long circuit_id, double at_epoch, double seconds,
                          const long long d[4], pf_err *err)
{
    char b[5][24], t[40], s[40];
    snprintf(s, sizeof s, "%.3f", seconds);
    const char *p[7] = {db_fmt_ll(b[0], circuit_id), fmt_at(t, at_epoch), s,
                        db_fmt_ll(b[1], d[0]),       db_fmt_ll(b[2], d[1]),
                        db_fmt_ll(b[3], d[2]),       db_fmt_ll(b[4], d[3])};
    PGresult *r = db_exec(c, &sample, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_traffic_rollup(db_conn *c, double at_epoch, pf_err *err)
{
    char t[40];
    const char *p[1] = {fmt_at(t, at_epoch)};
    PGresult *r = db_exec(c, &rollup, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_traffic_circuits(db_conn *c, db_traffic_circuit **out, size_t *n, pf_err *err)
{
    *out = NULL;
    *n = 0;
    PGresult *r = db_exec(c, &circuits, NULL, err);
    if (r == NULL)
        return err->kind;
    int rows = PQntuples(r);
    db_traffic_circuit *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
    if (v == NULL) {
        PQclear(r);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
        v[i].circuit_id = db_ll(r, i, 0);
        v[i].a_switch = db_ll(r, i, 1);
        v[i].a_ofport = db_ll(r, i, 2);
        v[i].b_switch = db_ll(r, i, 3);
        v[i].b_ofport = db_ll(r, i, 4);
        v[i].a_meter_switch = db_ll(r, i, 5);
        v[i].a_meter = db_ll(r, i, 6);
        v[i].b_meter_switch = db_ll(r, i, 7);
        v[i].b_meter = db_ll(r, i, 8);
    }
    PQclear(r);
    *out = v;
    *n = (size_t)rows;
    return PF_OK;
}

pf_kind db_traffic_drops_get(db_conn *c, long long circuit_id, double at_epoch,
                             db_traffic_drops out[2], pf_err *err)
{
    memset(out, 0, 2 * sizeof *out);
    char b[24], t[40];
    const char *p[2] = {db_fmt_ll(b, circuit_id), fmt_at(t, at_epoch)};
    PGresult *r = db_exec(c, &drops_get, p, err);
    if (r == NULL)
        return err->kind;
    for (int i = 0; i < PQntuples(r); i++) {
        db_traffic_drops *d = &out[db_val(r, i, 0)[0] == 'b' ? DB_TRAFFIC_BA : DB_TRAFFIC_AB];
        d->metered = true;
        d->meter_id = db_ll(r, i, 1);
        d->last.last_packets = db_ll(r, i, 2);
        d->last.last_duration_s = db_ll(r, i, 3);
        d->last.packets_total = db_ll(r, i, 4);
        d->last.exists = strcmp(db_val(r, i, 5), "t") == 0;
        d->last.age_s = strtod(db_val(r, i, 6), NULL);
    }
    PQclear(r);
    return PF_OK;
}

pf_kind db_traffic_drops_put(db_conn *c, long long circuit_id, int direction, long long meter_id,
                             long long packets, long long duration_s, long long add_packets,
                             double at_epoch, pf_err *err)
{
    char b[5][24], t[40];
    const char *p[7] = {db_fmt_ll(b[0], circuit_id),  direction == DB_TRAFFIC_BA ? "b" : "a",
                        db_fmt_ll(b[1], meter_id),    db_fmt_ll(b[2], packets),
                        db_fmt_ll(b[3], duration_s),  db_fmt_ll(b[4], add_packets),
                        fmt_at(t, at_epoch)};
    PGresult *r = db_exec(c, &drops_put, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_traffic_request_json(db_conn *c, long long request_id, json_t **out, pf_err *err)
{
    char b[24], nb[24];
    const char *p[2] = {db_fmt_ll(b, request_id), db_scope_param(c, nb)};
    PGresult *r = db_exec_one(c, &request_json, p, "unknown_request", "no such request", err);
    if (r == NULL)
        return err->kind;
    return db_json_take(r, out, err);
}

pf_kind db_traffic_series(db_conn *c, long long request_id, db_traffic_tier tier,
                          long long from, long long to, int step, db_traffic_point **out,
                          size_t *n, pf_err *err)
{
    *out = NULL;
    *n = 0;
    char b[4][24], nb[24];
    const char *p[5] = {db_fmt_ll(b[0], request_id), db_fmt_ll(b[1], from),
                        db_fmt_ll(b[2], to), db_fmt_ll(b[3], step), db_scope_param(c, nb)};
    PGresult *r = db_exec(c, &series[tier], p, err);
    if (r == NULL)
        return err->kind;
    int rows = PQntuples(r);
    db_traffic_point *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
    if (v == NULL) {
        PQclear(r);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
        v[i].t = db_ll(r, i, 0);
        for (int k = 0; k < 4; k++)
            v[i].v[k] = db_ll(r, i, k + 1);
    }
    PQclear(r);
    *out = v;
    *n = (size_t)rows;
    return PF_OK;
}
