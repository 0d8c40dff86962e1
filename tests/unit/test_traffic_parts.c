/* Unit tests of the traffic feature's pure parts: the SVG escaping with
 * hostile names (web/svg.c builds markup in C, outside the template
 * engine), the pictures carrying names only escaped, the reset-safe
 * difference of two readings, and the series query's parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/svg.h"
#include "workflow/traffic.h"

static char *escaped(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    web_svg_escape(f, s);
    fclose(f);
    return buf;
}

static void escape_hostile_names(void **state)
{
    (void)state;
    char *e = escaped("<script>alert(1)</script>\"' onload=x &amp;");
    assert_string_equal(e, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39; onload=x &amp;amp;");
    free(e);
    /* control characters are not allowed in XML 1.0 */
    e = escaped("a\x01" "b\x1b" "c\td");
    assert_string_equal(e, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\td");
    free(e);
    e = escaped("AS64500 \xe2\x86\x92 s\xc3\xa9");
    assert_string_equal(e, "AS64500 \xe2\x86\x92 s\xc3\xa9");
    free(e);
}

#define HOSTILE "<img src=x onerror=alert(1)>\"'&"

static void pictures_escape_every_name(void **state)
{
    (void)state;
    json_t *req = json_pack(
        "{sIs{sIssss}s{sIssss}s[{sssIsIsI}{sssIsI}]}", "circuit_id", (json_int_t)7, "a", "asn",
        (json_int_t)64500, "port", HOSTILE, "switch", "s1", "b", "asn", (json_int_t)64501,
        "port", "b1", "switch", HOSTILE, "path", "switch", HOSTILE, "in_port", (json_int_t)1,
        "out_port", (json_int_t)10, "transport_vlan", (json_int_t)42, "switch", "s2", "in_port",
        (json_int_t)10, "out_port", (json_int_t)2);
    char *svg = web_svg_path(req);
    assert_non_null(svg);
    assert_null(strstr(svg, "<img"));
    assert_null(strstr(svg, "\"'&\""));
    assert_non_null(strstr(svg, "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
    assert_non_null(strstr(svg, "VLAN 42")); /* the link's transport VLAN */
    assert_non_null(strstr(svg, ">s2<"));
    free(svg);
    json_decref(req);

    json_t *fab = json_pack("{s[{ssss}{ssss}]s[{sssssIs[ii]}]s[{sIssssss sI}]}", "switches",
                            "name", HOSTILE, "conn_state", "connected\"><x", "name", "s2",
                            "conn_state", "disconnected", "links", "a_switch", HOSTILE,
                            "b_switch", "s2", "circuits", (json_int_t)2, "vlans", 2, 3, "ports",
                            "asn", (json_int_t)64500, "name", HOSTILE, "switch", "s2",
                            "network", "x", "ofport", (json_int_t)3);
    assert_non_null(fab);
    svg = web_svg_topology(fab);
    assert_non_null(svg);
    assert_null(strstr(svg, "<img"));
    assert_null(strstr(svg, "\"><x"));
    assert_non_null(strstr(svg, "2 circuits"));
    assert_non_null(strstr(svg, "VLAN 2, 3"));
    assert_non_null(strstr(svg, ">s2<"));
    free(svg);
    json_decref(fab);

    json_t *s = json_pack("{sIsIsfs[{sIsfsn}{sIsnsn}]s{sI}s{sI}ssss}", "request_id",
                          (json_int_t)5, "step", (json_int_t)10, "max_bps", 8000.0, "points", "t",
                          (json_int_t)1000, "a_to_b_bps", 8000.0, "b_to_a_bps", "t",
                          (json_int_t)1010, "a_to_b_bps", "b_to_a_bps", "a", "asn",
                          (json_int_t)64500, "b", "asn", (json_int_t)64501, "from", HOSTILE,
                          "to", "x");
    assert_non_null(s);
    svg = web_svg_traffic(s, 1e6);
    assert_non_null(svg);
    assert_null(strstr(svg, "<img"));
    assert_non_null(strstr(svg, "class=\"cap\""));
    assert_non_null(strstr(svg, "cap 1.0 Mbit/s"));
    assert_non_null(strstr(svg, "class=\"line-ab\" d=\"M"));
    free(svg);
    json_decref(s);
}

/* A series with one recorded point (a new circuit's first bucket) draws a
 * segment of the bucket's width at its rate, not a lone "M" (nothing). */
static void graph_single_point_visible(void **state)
{
    (void)state;
    json_t *s = json_pack("{sIsIsfs[{sIsnsn}{sIsfsf}]s{sI}s{sI}ssss}", "request_id",
                          (json_int_t)5, "step", (json_int_t)10, "max_bps", 8000.0, "points",
                          "t", (json_int_t)1000, "a_to_b_bps", "b_to_a_bps", "t",
                          (json_int_t)1010, "a_to_b_bps", 8000.0, "b_to_a_bps", 0.0, "a", "asn",
                          (json_int_t)64500, "b", "asn", (json_int_t)64501, "from", "f", "to",
                          "t");
    assert_non_null(s);
    char *svg = web_svg_traffic(s, 0);
    assert_non_null(svg);
    const char *d = strstr(svg, "class=\"line-ab\" d=\"");
    assert_non_null(d);
    double xa, ya, xb, yb;
    assert_int_equal(sscanf(d + strlen("class=\"line-ab\" d=\""), "M%lf %lf L%lf %lf", &xa, &ya,
                            &xb, &yb),
                     4);
    assert_true(xb - xa > 100); /* half the plot: the second of two buckets */
    assert_true(ya == yb);
    const char *e = strstr(svg, "class=\"line-ba\" d=\"");
    assert_non_null(e);
    assert_true(sscanf(e + strlen("class=\"line-ba\" d=\""), "M%lf %lf L%lf", &xa, &ya, &xb) == 3);
    assert_null(strstr(svg, "class=\"cap\""));
    free(svg);
    json_decref(s);
}

static void delta_never_negative(void **state)
{
    (void)state;
    wf_traffic_step s;
    db_traffic_last none = {0};
    wf_traffic_reading r = {.present = true, .bytes = 100, .packets = 1, .duration_s = 10};
    wf_traffic_delta(&none, &r, &s);
    assert_true(s.first);
    /* a flow starts at zero when installed: its first counter is traffic */
    assert_int_equal(s.bytes, 100);
    assert_int_equal(s.packets, 1);

    db_traffic_last prev = {.exists = true, .last_bytes = 1000, .last_packets = 10,
                            .last_duration_s = 100, .age_s = 10};
    r = (wf_traffic_reading){.present = true, .bytes = 1500, .packets = 15, .duration_s = 110};
    wf_traffic_delta(&prev, &r, &s);
    assert_false(s.new_segment);
    assert_int_equal(s.bytes, 500);
    assert_int_equal(s.packets, 5);
    /* backwards: the flow was re-added, its counter is the difference */
    r = (wf_traffic_reading){.present = true, .bytes = 300, .packets = 3, .duration_s = 5};
    wf_traffic_delta(&prev, &r, &s);
    assert_true(s.new_segment);
    assert_int_equal(s.bytes, 300);
    /* higher, but younger than the interval: re-added too */
    r = (wf_traffic_reading){.present = true, .bytes = 5000, .packets = 50, .duration_s = 4};
    wf_traffic_delta(&prev, &r, &s);
    assert_true(s.new_segment);
    assert_int_equal(s.bytes, 5000);
    /* a counter the switch does not keep (all ones) adds nothing absurd */
    r = (wf_traffic_reading){.present = true, .bytes = UINT64_MAX, .packets = 11,
                             .duration_s = 110};
    wf_traffic_delta(&prev, &r, &s);
    assert_true(s.bytes >= 0 && s.bytes < 1000000);
}

static void query_parse(void **state)
{
    (void)state;
    wf_traffic_query q;
    pf_err err;
    long long now = 1764576000; /* 2025-12-01T08:00Z */
    assert_int_equal(wf_traffic_query_parse(NULL, NULL, NULL, NULL, now, &q, &err), PF_OK);
    assert_int_equal(q.to, now);
    assert_true(now - q.from >= 86400 && now - q.from < 86400 + q.step);
    assert_int_equal(q.tier, DB_TRAFFIC_5M); /* 300 s steps for 288 points */
    assert_int_equal(wf_traffic_query_parse(NULL, NULL, NULL, "1h", now, &q, &err), PF_OK);
    assert_int_equal(q.tier, DB_TRAFFIC_RAW);
    assert_int_equal(q.step % 10, 0);
    assert_int_equal(wf_traffic_query_parse(NULL, NULL, NULL, "30d", now, &q, &err), PF_OK);
    assert_int_equal(q.tier, DB_TRAFFIC_1H);
    assert_int_equal(wf_traffic_query_parse("2025-11-30T08:00Z", "2025-12-01T08:00:00Z", "1h",
                                            NULL, now, &q, &err),
                     PF_OK);
    assert_int_equal(q.to - q.from, 86400);
    assert_int_equal(q.step, 3600);
    /* raw data are gone after 48 h: a fine step that far back reads 5m */
    assert_int_equal(wf_traffic_query_parse("1764000000", "1764003600", "10", NULL, now, &q,
                                            &err),
                     PF_OK);
    assert_int_equal(q.tier, DB_TRAFFIC_5M);
    assert_int_equal(q.step, 300);
    assert_int_equal(wf_traffic_query_parse(NULL, NULL, NULL, "2w", now, &q, &err), PF_EINVALID);
    assert_string_equal(err.field, "range");
    assert_int_equal(wf_traffic_query_parse("tomorrow", NULL, NULL, NULL, now, &q, &err),
                     PF_EINVALID);
    assert_string_equal(err.field, "from");
    assert_int_equal(wf_traffic_query_parse("200", "100", NULL, NULL, now, &q, &err),
                     PF_EINVALID);
    assert_int_equal(wf_traffic_query_parse(NULL, NULL, "10", "30d", now, &q, &err),
                     PF_EINVALID);
    assert_string_equal(err.code, "too_many_points");
    assert_int_equal(wf_traffic_query_parse("0", NULL, NULL, NULL, now, &q, &err), PF_EINVALID);
    assert_string_equal(err.code, "range_too_long");
}

/* Report charts: intervals as PostgreSQL prints them, approval times as
 * bars per month with the numbers in the fallback table, open requests as
 * an age histogram; a hostile month label is escaped; other reports have
 * no chart. */
static void report_charts(void **state)
{
    (void)state;
    assert_true(web_interval_seconds("55:33:20") == 200000);
    assert_true(web_interval_seconds("3 days 04:05:06") == 3 * 86400 + 4 * 3600 + 5 * 60 + 6);
    assert_true(web_interval_seconds("1 day") == 86400);
    assert_true(web_interval_seconds("-00:00:05") == 0);
    assert_true(web_interval_seconds("soon") < 0);
    assert_true(web_interval_seconds(NULL) < 0);

    json_t *r = json_loads("{\"name\": \"approval_times\", \"columns\": [\"month\", "
                           "\"requests\", \"median_to_approval\", \"p90_to_approval\"],"
                           " \"rows\": [[\"2026-11\", \"3\", \"01:30:00\", \"10:00:00\"],"
                           " [\"<b>&\", \"1\", null, \"1 day 00:00:00\"]]}",
                           0, NULL);
    json_t *table;
    char *svg = web_svg_report_chart(r, &table);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "&lt;b&gt;&amp;"));
    assert_null(strstr(svg, "<b>"));
    assert_int_equal(json_array_size(table), 2);
    assert_string_equal(json_string_value(json_array_get(json_array_get(table, 0), 1)), "1.5");
    assert_string_equal(json_string_value(json_array_get(json_array_get(table, 0), 2)), "10.0");
    assert_string_equal(json_string_value(json_array_get(json_array_get(table, 1), 2)), "24.0");
    assert_string_equal(json_string_value(json_array_get(json_array_get(table, 1), 1)), "0.0");
    free(svg);
    json_decref(table);
    json_decref(r);

    r = json_loads("{\"name\": \"open_requests\", \"columns\": [\"request_id\", \"age\"],"
                   " \"rows\": [[\"1\", \"00:10:00\"], [\"2\", \"05:00:00\"],"
                   " [\"3\", \"2 days 00:00:00\"], [\"4\", \"45 days 01:00:00\"],"
                   " [\"5\", \"00:00:01\"]]}",
                   0, NULL);
    svg = web_svg_report_chart(r, &table);
    assert_non_null(svg);
    const long long want[5] = {2, 1, 1, 0, 1};
    for (size_t b = 0; b < 5; b++)
        assert_int_equal(json_integer_value(json_array_get(json_array_get(table, b), 1)),
                         want[b]);
    free(svg);
    json_decref(table);
    json_decref(r);

    r = json_loads("{\"name\": \"switches\", \"columns\": [], \"rows\": []}", 0, NULL);
    assert_null(web_svg_report_chart(r, &table));
    assert_null(table);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_hostile_names),
        cmocka_unit_test(pictures_escape_every_name),
        cmocka_unit_test(graph_single_point_visible),
        cmocka_unit_test(delta_never_negative),
        cmocka_unit_test(query_parse),
        cmocka_unit_test(report_charts),
    };
    return cmocka_run_group_tests_name("traffic_parts", tests, NULL, NULL);
}
