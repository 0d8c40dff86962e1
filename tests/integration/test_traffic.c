/* Integration tests of the traffic counters against a real PostgreSQL
 * (tests/run.sh), without Open vSwitch (the poller on a real fabric is in
 * tests/integration/traffic_test.sh):
 *
 *   - readings become differences; a counter that went backwards, or a
 *     flow younger than the time since the last reading, starts a new
 *     segment and never gives a negative or absurd rate;
 *   - the series of a request: the rate in bits/s per step, for its two
 *     parties and operators only (the workflow and row-level security);
 *   - the rollup: 5-minute and hourly sums equal the raw ones, running it
 *     again changes nothing, raw samples older than 48 hours are pruned;
 *   - /metrics exports the circuit's totals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/support/pgtest.h"
#include "web/metrics.h"
#include "workflow/queries.h"
#include "workflow/traffic.h"

static void must(pf_kind k, const pf_err *err, const char *what)
{
    if (k != PF_OK)
        fail_msg("%s: %s", what, err->message);
}

/* Request A(a1) -> B(b1) with an installed circuit; returns its id. */
static long long circuit_of(pgt_db *db, long long *request_id)
{
    *request_id = atoll(pgt_sql(
        db, "INSERT INTO peering_requests (requester_network_id, requester_port_id,"
            " peer_network_id, peer_port_id) SELECT a.id, pa.id, b.id, pb.id"
            " FROM networks a, networks b, ports pa, ports pb WHERE a.asn = 64500"
            " AND b.asn = 64501 AND pa.name = 'a1' AND pb.name = 'b1' RETURNING id"));
    char sql[200];
    snprintf(sql, sizeof sql,
             "INSERT INTO circuits (request_id, state) VALUES (%lld, 'installed') RETURNING id",
             *request_id);
    return atoll(pgt_sql(db, sql));
}

static wf_traffic_reading rd(unsigned long long bytes, unsigned long long pkts, unsigned dur)
{
    return (wf_traffic_reading){.present = true, .bytes = bytes, .packets = pkts,
                                .duration_s = dur};
}

static void record(pgt_db *db, long long cid, wf_traffic_reading ab, wf_traffic_reading ba,
                   double at, bool want_sample)
{
    pf_err err;
    wf_traffic_reading r[2] = {ab, ba};
    bool sampled;
    must(wf_traffic_record(&db->env, cid, r, at, &sampled, &err), &err, "record");
    assert_int_equal(sampled, want_sample);
}

static long long q_ll(pgt_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long long q_ll(pgt_db *db, const char *fmt, ...)
{
    char sql[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return atoll(pgt_sql(db, sql));
}

static void resets_start_a_segment_never_a_negative_rate(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "traffic_reset", false);
    pgt_seed_world(&db);
    long long rid, cid = circuit_of(&db, &rid);
    double t = (double)(time(NULL) / 10 * 10 - 3600);
    /* first: counted since the flow was installed 5 s before */
    record(&db, cid, rd(1000, 10, 5), rd(0, 0, 5), t, true);
    record(&db, cid, rd(11000, 20, 15), rd(400, 4, 15), t + 10, true); /* +10000 bytes */
    record(&db, cid, rd(500, 5, 3), rd(800, 8, 25), t + 20, true);    /* went backwards */
    /* higher than before, but the flow is 4 s old after 10 s: re-added */
    record(&db, cid, rd(1500, 15, 4), rd(1200, 12, 35), t + 30, true);
    assert_int_equal(q_ll(&db, "SELECT count(*) FROM traffic_samples WHERE circuit_id = %lld",
                          cid),
                     4);
    assert_int_equal(q_ll(&db,
                          "SELECT count(*) FROM traffic_samples WHERE circuit_id = %lld AND"
                          " (ab_bytes < 0 OR ba_bytes < 0 OR ab_packets < 0)",
                          cid),
                     0);
    /* the largest rate is the real one: 10000 bytes in 10 s */
    assert_int_equal(q_ll(&db,
                          "SELECT max(ab_bytes / seconds)::bigint FROM traffic_samples"
                          " WHERE circuit_id = %lld",
                          cid),
                     1000);
    assert_int_equal(q_ll(&db,
                          "SELECT bytes_total FROM traffic_counters WHERE circuit_id = %lld"
                          " AND direction = 'a_to_b'",
                          cid),
                     1000 + 10000 + 500 + 1500);
    assert_int_equal(q_ll(&db,
                          "SELECT segments FROM traffic_counters WHERE circuit_id = %lld"
                          " AND direction = 'a_to_b'",
                          cid),
                     3);
    assert_int_equal(q_ll(&db,
                          "SELECT bytes_total FROM traffic_counters WHERE circuit_id = %lld"
                          " AND direction = 'b_to_a'",
                          cid),
                     1200);

    /* the series: 8000 bit/s in the bucket of the +10 s reading; nothing
     * known before the first reading */
    wf_traffic_query q = {.from = (long long)t - 20, .to = (long long)t + 40, .step = 10,
                          .tier = DB_TRAFFIC_RAW};
    json_t *s;
    pf_err err;
    wf_actor b = pgt_actor(&db, "admin@b.example");
    must(wf_traffic_series(&db.env, &b, rid, &q, &s, &err), &err, "series");
    json_t *pts = json_object_get(s, "points");
    assert_int_equal(json_array_size(pts), 6);
    assert_true(json_is_null(json_object_get(json_array_get(pts, 0), "a_to_b_bps")));
    assert_true(json_is_null(json_object_get(json_array_get(pts, 1), "b_to_a_bps")));
    assert_int_equal((long long)json_number_value(
                         json_object_get(json_array_get(pts, 2), "a_to_b_bps")),
                     800);
    assert_int_equal((long long)json_number_value(
                         json_object_get(json_array_get(pts, 3), "a_to_b_bps")),
                     8000);
    assert_int_equal((long long)json_number_value(
                         json_object_get(json_array_get(pts, 5), "b_to_a_bps")),
                     400 * 8 / 10);
    json_decref(s);

    /* a third network does not see it: 404, not 403 */
    wf_actor c = pgt_actor(&db, "admin@c.example");
    assert_int_equal(wf_traffic_series(&db.env, &c, rid, &q, &s, &err), PF_ENOTFOUND);

    /* row-level security alone, on the web's role */
    PGconn *web = PQconnectdb(db.web_url);
    assert_int_equal(PQstatus(web), CONNECTION_OK);
    char sql[300];
    const char *nets[2][2] = {{"64502", "0"}, {"64501", "4"}};
    for (int i = 0; i < 2; i++) {
        snprintf(sql, sizeof sql,
                 "BEGIN; SELECT set_config('peerflow.network_id', (SELECT id::text FROM"
                 " networks WHERE asn = %s), true);",
                 nets[i][0]);
        PQclear(PQexec(web, sql));
        PGresult *r = PQexec(web, "SELECT count(*) FROM traffic_samples");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), nets[i][1]);
        PQclear(r);
        PQclear(PQexec(web, "ROLLBACK"));
    }
    /* and the web's role cannot write samples */
    PGresult *r = PQexec(web, "INSERT INTO traffic_samples (circuit_id, at, seconds)"
                              " VALUES (1, now(), 1)");
    assert_int_not_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(web);

    /* /metrics: the totals, over every segment */
    wf_actor sys = wf_actor_system("test");
    json_t *g;
    must(wf_gauges(&db.env, &sys, &g, &err), &err, "gauges");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    web_metrics_write(f, g);
    fclose(f);
    char want[200];
    snprintf(want, sizeof want,
             "peerflow_circuit_bytes_total{circuit=\"%lld\",request=\"%lld\","
             "direction=\"a_to_b\"} 13000\n",
             cid, rid);
    if (strstr(text, want) == NULL)
        fail_msg("no '%s' in /metrics", want);
    snprintf(want, sizeof want,
             "peerflow_circuit_packets_total{circuit=\"%lld\",request=\"%lld\","
             "direction=\"b_to_a\"} 12\n",
             cid, rid);
    if (strstr(text, want) == NULL)
        fail_msg("no '%s' in /metrics", want);
    /* meter drops are not exported while circuits have no meters */
    assert_null(strstr(text, "dropped_packets"));
    free(text);
    json_decref(g);
    pgt_drop(&db);
}

static void rollups_keep_the_sums_and_prune(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "traffic_rollup", false);
    pgt_seed_world(&db);
    long long rid, cid = circuit_of(&db, &rid);
    pf_err err;
    /* 3 days ago, one hour of 10-second readings: 1000 bytes each */
    double t0 = (double)((time(NULL) - 3 * 86400) / 3600 * 3600);
    for (int i = 0; i <= 360; i++)
        record(&db, cid, rd(1000ULL * (unsigned)i, (unsigned)i, 10 * (unsigned)i),
               rd(0, 0, 10 * (unsigned)i), t0 + 10 * i, i > 0);
    /* and now, a few */
    double t1 = (double)time(NULL) - 100;
    for (int i = 0; i < 5; i++)
        record(&db, cid, rd(5000ULL * (unsigned)i, (unsigned)i, 10 * (unsigned)i), rd(0, 0, 1),
               t1 + 10 * i, i > 0); /* the first after 3 days: a reset, 0 bytes, no row */
    long long raw = q_ll(&db, "SELECT sum(ab_bytes) FROM traffic_samples WHERE circuit_id = %lld",
                         cid);
    assert_int_equal(raw, 360 * 1000 + 4 * 5000);
    must(wf_traffic_rollup(&db.env, 0, &err), &err, "rollup");
    must(wf_traffic_rollup(&db.env, 0, &err), &err, "rollup again"); /* idempotent */
    assert_int_equal(
        q_ll(&db, "SELECT sum(ab_bytes) FROM traffic_5m WHERE circuit_id = %lld", cid), raw);
    assert_int_equal(
        q_ll(&db, "SELECT sum(ab_bytes) FROM traffic_1h WHERE circuit_id = %lld", cid), raw);
    /* the old raw samples are gone, the recent ones kept */
    assert_int_equal(
        q_ll(&db, "SELECT count(*) FROM traffic_samples WHERE circuit_id = %lld", cid), 4);
    /* new readings after a rollup land in the next one */
    record(&db, cid, rd(30000, 5, 60), rd(0, 0, 1), t1 + 60, true);
    must(wf_traffic_rollup(&db.env, 0, &err), &err, "rollup 3");
    assert_int_equal(
        q_ll(&db, "SELECT sum(ab_bytes) FROM traffic_1h WHERE circuit_id = %lld", cid),
        raw + 10000);

    /* a 7-day series reads the 5-minute tier; its points add up to every
     * byte recorded, and no point is above the real rate (1000 bytes per
     * 10 s = 800 bit/s; the recent minute: 5000 bytes per 10 s but spread
     * over a whole step) */
    wf_traffic_query q;
    must(wf_traffic_query_parse(NULL, NULL, NULL, "7d", (long long)time(NULL), &q, &err), &err,
         "parse");
    assert_int_equal(q.tier, DB_TRAFFIC_5M);
    assert_int_equal(q.step % 300, 0);
    wf_actor a = pgt_actor(&db, "admin@a.example");
    json_t *s;
    must(wf_traffic_series(&db.env, &a, rid, &q, &s, &err), &err, "series");
    double max = json_number_value(json_object_get(s, "max_bps"));
    assert_true(max > 0 && max <= 800.001);
    double bytes = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(s, "points"), i, p) {
        json_t *v = json_object_get(p, "a_to_b_bps");
        if (json_is_number(v))
            bytes += json_number_value(v) * q.step / 8;
    }
    assert_int_equal((long long)(bytes + 0.5), raw + 10000);
    json_decref(s);
    pgt_drop(&db);
}

/* Idle costs nothing: a reading whose counters did not move writes no
 * sample and does not even touch the counter row; the next moving reading
 * takes its difference from the last stored one, and the series shows the
 * idle steps as zero - null only before the first reading. A flow found
 * already old at its first reading adds to the totals, not to a sample. */
static void idle_circuits_cost_nothing_and_gaps_are_zero(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "traffic_idle", false);
    pgt_seed_world(&db);
    long long rid, cid = circuit_of(&db, &rid);
    double t = (double)(time(NULL) / 10 * 10 - 3600);
    record(&db, cid, rd(0, 0, 1), rd(0, 0, 1), t, false);           /* first, nothing yet */
    assert_int_equal(q_ll(&db, "SELECT count(*) FROM traffic_counters WHERE circuit_id = %lld",
                          cid),
                     2);
    record(&db, cid, rd(0, 0, 11), rd(0, 0, 11), t + 10, false);    /* idle */
    record(&db, cid, rd(0, 0, 21), rd(0, 0, 21), t + 20, false);    /* idle */
    assert_int_equal(q_ll(&db,
                          "SELECT count(*) FROM traffic_counters WHERE circuit_id = %lld"
                          " AND sampled_at = to_timestamp(%.0f) AND last_duration_s = 1",
                          cid, t),
                     2); /* not updated */
    record(&db, cid, rd(800, 8, 31), rd(0, 0, 31), t + 30, true);   /* moved: a -> b only */
    assert_int_equal(q_ll(&db,
                          "SELECT ab_bytes * 1000 + seconds FROM traffic_samples"
                          " WHERE circuit_id = %lld",
                          cid),
                     800 * 1000 + 30); /* over the 30 s since the stored reading */
    record(&db, cid, rd(800, 8, 41), rd(0, 0, 41), t + 40, false);  /* idle again */
    assert_int_equal(q_ll(&db, "SELECT count(*) FROM traffic_samples WHERE circuit_id = %lld",
                          cid),
                     1);
    /* a reading after idle polls is still not taken for a reset */
    assert_int_equal(q_ll(&db,
                          "SELECT max(segments) FROM traffic_counters WHERE circuit_id = %lld",
                          cid),
                     1);

    wf_traffic_query q = {.from = (long long)t - 20, .to = (long long)t + 60, .step = 10,
                          .tier = DB_TRAFFIC_RAW};
    json_t *s;
    pf_err err;
    wf_actor a = pgt_actor(&db, "admin@a.example");
    must(wf_traffic_series(&db.env, &a, rid, &q, &s, &err), &err, "series");
    json_t *pts = json_object_get(s, "points");
    assert_int_equal(json_array_size(pts), 8);
    const long long want_ab[8] = {-1, -1, 0, 0, 0, 640, 0, 0}; /* -1: null */
    for (size_t i = 0; i < 8; i++) {
        json_t *v = json_object_get(json_array_get(pts, i), "a_to_b_bps");
        if (want_ab[i] < 0) {
            if (!json_is_null(v))
                fail_msg("point %zu is not null", i);
        } else if (!json_is_number(v) || (long long)json_number_value(v) != want_ab[i]) {
            fail_msg("point %zu: want %lld bit/s", i, want_ab[i]);
        }
        json_t *w = json_object_get(json_array_get(pts, i), "b_to_a_bps");
        assert_true(want_ab[i] < 0 ? json_is_null(w) : json_number_value(w) == 0);
    }
    assert_true(json_is_string(json_object_get(s, "counted_since")));
    json_decref(s);

    /* an hour-old flow at its first reading: totals yes, no sample */
    long long rid2 = atoll(pgt_sql(
        &db, "INSERT INTO peering_requests (requester_network_id, requester_port_id,"
             " requester_vlan, peer_network_id, peer_port_id) SELECT a.id, pa.id, 100, b.id, pb.id"
             " FROM networks a, networks b, ports pa, ports pb WHERE a.asn = 64500"
             " AND b.asn = 64502 AND pa.name = 'a-trunk' AND pb.name = 'c1' RETURNING id"));
    char sql[200];
    snprintf(sql, sizeof sql,
             "INSERT INTO circuits (request_id, state) VALUES (%lld, 'installed') RETURNING id",
             rid2);
    long long cid2 = atoll(pgt_sql(&db, sql));
    record(&db, cid2, rd(5000000, 5000, 3600), rd(0, 0, 3600), t, false);
    assert_int_equal(q_ll(&db,
                          "SELECT bytes_total FROM traffic_counters WHERE circuit_id = %lld"
                          " AND direction = 'a_to_b'",
                          cid2),
                     5000000);
    assert_int_equal(q_ll(&db, "SELECT count(*) FROM traffic_samples WHERE circuit_id = %lld",
                          cid2),
                     0);
    pgt_drop(&db);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resets_start_a_segment_never_a_negative_rate),
        cmocka_unit_test(rollups_keep_the_sums_and_prune),
        cmocka_unit_test(idle_circuits_cost_nothing_and_gaps_are_zero),
    };
    return cmocka_run_group_tests_name("traffic_integration", tests, NULL, NULL);
}
