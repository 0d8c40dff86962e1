/* Unit tests of provisioner/plan.c: paths, the flows of every circuit
 * kind, the JSON form of flows, the cookie scheme. No services. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "provisioner/plan.h"

static const char *fmt(const prov_flow *f)
{
    static char buf[8][512];
    static int i;
    i = (i + 1) % 8;
    int n = snprintf(buf[i], sizeof buf[i], "s%lld ", f->switch_id);
    ofp_format_flow(&f->flow, buf[i] + n, sizeof buf[i] - (size_t)n);
    return buf[i];
}

/* s1 -1- s2 -2- s3 -3- s4, plus s1 -4- s4 would be shorter: tested apart */
static const db_prov_link line[] = {
    {1, 1, 10, 2, 10},
    {2, 2, 11, 3, 10},
    {3, 4, 10, 3, 11}, /* reversed orientation on purpose */
};

static void path_over_a_line(void **state)
{
    (void)state;
    prov_hop h[8];
    size_t n;
    assert_int_equal(prov_path(line, 3, 1, 4, h, 8, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(h[0].from_switch, 1);
    assert_int_equal(h[0].from_port, 10);
    assert_int_equal(h[0].to_switch, 2);
    assert_int_equal(h[2].from_switch, 3);
    assert_int_equal(h[2].from_port, 11);
    assert_int_equal(h[2].to_switch, 4);
    assert_int_equal(h[2].to_port, 10);
    assert_int_equal(prov_path(line, 3, 4, 4, h, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(prov_path(line, 3, 1, 9, h, 8, &n), -1);
    assert_int_equal(prov_path(line, 3, 1, 4, h, 2, &n), -2);
}

static void path_is_shortest(void **state)
{
    (void)state;
    const db_prov_link ring[] = {{1, 1, 10, 2, 10}, {2, 2, 11, 3, 10}, {3, 3, 11, 4, 10},
                                 {4, 4, 11, 1, 11}};
    prov_hop h[8];
    size_t n;
    assert_int_equal(prov_path(ring, 4, 1, 4, h, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].link_id, 4);
    assert_int_equal(h[0].from_port, 11);
    assert_int_equal(h[0].to_port, 11);
}

static void same_switch_kinds(void **state)
{
    (void)state;
    prov_flow f[4];
    size_t n;
    prov_end a = {1, 1, 0}, b = {1, 3, 0};
    assert_int_equal(prov_plan(&a, &b, NULL, 0, prov_cookie(5), f, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(fmt(&f[0]), "s1 table=0 priority=1000 cookie=0x5046000000000005 "
                                     "in_port=1,vlan_vid=none actions=output:3");
    assert_string_equal(fmt(&f[1]), "s1 table=0 priority=1000 cookie=0x5046000000000005 "
                                     "in_port=3,vlan_vid=none actions=output:1");
    /* access <-> trunk */
    prov_end t = {1, 2, 300};
    assert_int_equal(prov_plan(&a, &t, NULL, 0, prov_cookie(6), f, 4, &n), 0);
    assert_non_null(strstr(fmt(&f[0]), "push_vlan:0x8100,set_field:300->vlan_vid,output:2"));
    assert_non_null(strstr(fmt(&f[1]), "in_port=2,dl_vlan=300 actions=pop_vlan,output:1"));
    /* trunk <-> trunk, translating, and without translation */
    prov_end t2 = {1, 4, 200}, t3 = {1, 4, 300};
    assert_int_equal(prov_plan(&t, &t2, NULL, 0, prov_cookie(7), f, 4, &n), 0);
    assert_non_null(strstr(fmt(&f[0]), "dl_vlan=300 actions=set_field:200->vlan_vid,output:4"));
    assert_int_equal(prov_plan(&t, &t3, NULL, 0, prov_cookie(7), f, 4, &n), 0);
    assert_non_null(strstr(fmt(&f[0]), "in_port=2,dl_vlan=300 actions=output:4"));
}

static void line_transit_and_ends(void **state)
{
    (void)state;
    prov_hop h[8];
    size_t nh, n;
    assert_int_equal(prov_path(line, 3, 1, 3, h, 8, &nh), 0);
    h[0].vlan = 2;
    h[1].vlan = 7;
    prov_end a = {1, 1, 0}, b = {3, 2, 100};
    prov_flow f[16];
    assert_int_equal(prov_plan(&a, &b, h, nh, prov_cookie(9), f, 16, &n), 0);
    assert_int_equal(n, 6);
    /* a -> b: ingress push, transit rewrite, egress rewrite to the customer VLAN */
    assert_non_null(strstr(fmt(&f[0]), "s1 "));
    assert_non_null(strstr(fmt(&f[0]), "in_port=1,vlan_vid=none actions=push_vlan:0x8100,"
                                       "set_field:2->vlan_vid,output:10"));
    assert_non_null(strstr(fmt(&f[1]), "s2 "));
    assert_non_null(strstr(fmt(&f[1]), "in_port=10,dl_vlan=2 actions=set_field:7->vlan_vid,"
                                       "output:11"));
    assert_non_null(strstr(fmt(&f[2]), "s3 "));
    assert_non_null(strstr(fmt(&f[2]), "in_port=10,dl_vlan=7 actions=set_field:100->vlan_vid,"
                                       "output:2"));
    /* b -> a */
    assert_non_null(strstr(fmt(&f[3]), "s3 "));
    assert_non_null(strstr(fmt(&f[3]), "in_port=2,dl_vlan=100 actions=set_field:7->vlan_vid,"
                                       "output:10"));
    assert_non_null(strstr(fmt(&f[4]), "s2 "));
    assert_non_null(strstr(fmt(&f[4]), "in_port=11,dl_vlan=7 actions=set_field:2->vlan_vid,"
                                       "output:10"));
    assert_non_null(strstr(fmt(&f[5]), "s1 "));
    assert_non_null(strstr(fmt(&f[5]), "in_port=10,dl_vlan=2 actions=pop_vlan,output:1"));
    /* too small an output array, a bad VLAN */
    assert_int_equal(prov_plan(&a, &b, h, nh, prov_cookie(9), f, 5, &n), -1);
    h[1].vlan = 4095;
    assert_int_equal(prov_plan(&a, &b, h, nh, prov_cookie(9), f, 16, &n), -1);
}

static void json_round_trip(void **state)
{
    (void)state;
    prov_hop h[8];
    size_t nh, n;
    assert_int_equal(prov_path(line, 3, 1, 4, h, 8, &nh), 0);
    for (size_t i = 0; i < nh; i++)
        h[i].vlan = (int)(10 + i);
    prov_end a = {1, 2, 33}, b = {4, 1, 0};
    prov_flow f[16];
    assert_int_equal(prov_plan(&a, &b, h, nh, prov_cookie(12), f, 16, &n), 0);
    for (size_t i = 0; i < n; i++) {
        char *m, *ac;
        assert_int_equal(prov_flow_to_json(&f[i].flow, &m, &ac), 0);
        struct ofp_flow back;
        char why[128];
        assert_int_equal(prov_flow_from_json(m, ac, 0, PROV_PRIORITY, prov_cookie(12), &back, why),
                         0);
        assert_true(prov_flow_same(&f[i].flow, &back));
        free(m);
        free(ac);
    }
    char *m, *ac;
    assert_int_equal(prov_flow_to_json(&f[0].flow, &m, &ac), 0);
    assert_string_equal(m, "{\"in_port\":2,\"vlan\":33}");
    assert_string_equal(ac, "[{\"type\":\"set_vlan_vid\",\"vlan\":10},{\"type\":\"output\","
                            "\"port\":10}]");
    free(m);
    free(ac);
    struct ofp_flow bad;
    char why[128];
    assert_int_equal(prov_flow_from_json("[]", "[]", 0, 1, 1, &bad, why), -1);
    assert_int_equal(prov_flow_from_json("{\"vlan\":true}", "[]", 0, 1, 1, &bad, why), -1);
    assert_int_equal(prov_flow_from_json("{}", "[{\"type\":\"goto\"}]", 0, 1, 1, &bad, why), -1);
}

static void cookies_and_comparison(void **state)
{
    (void)state;
    assert_true(prov_cookie(42) == 0x504600000000002aULL);
    assert_true(prov_cookie_owned(prov_cookie(0)));
    assert_false(prov_cookie_owned(0x1234));
    assert_false(prov_cookie_owned(0));
    struct ofp_flow a, b;
    prov_table_miss(&a);
    prov_table_miss(&b);
    assert_true(prov_flow_same(&a, &b));
    /* an exact VLAN match read back as masked with all 13 bits is the same */
    ofp_match_vlan(&a.match, 5);
    ofp_match_vlan_masked(&b.match, OFPVID_PRESENT | 5, OFP_VLAN_VID_BITS);
    assert_true(prov_flow_same_entry(&a, &b));
    b.cookie = 1;
    assert_false(prov_flow_same(&a, &b));
    assert_true(prov_flow_same_entry(&a, &b));
}

/* The order reconciliation sorts by agrees with prov_flow_same_entry on
 * every pair of a set of entries that differ in one field each. */
static void entry_order_agrees_with_equality(void **state)
{
    (void)state;
    struct ofp_flow f[8];
    for (int i = 0; i < 8; i++) {
        ofp_flow_init(&f[i]);
        f[i].priority = 1000;
        f[i].match.has_in_port = true;
        f[i].match.in_port = 1;
    }
    f[1].match.in_port = 2;
    f[2].priority = 999;
    f[3].table_id = 1;
    ofp_match_vlan(&f[4].match, 10);
    ofp_match_vlan(&f[5].match, 11);
    ofp_match_vlan_masked(&f[6].match, 0x1000 | 10, 0x1fff); /* full mask: exact */
    f[7].match.has_in_port = false;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            bool same = prov_flow_same_entry(&f[i], &f[j]);
            int c = prov_flow_entry_cmp(&f[i], &f[j]);
            if ((c == 0) != same)
                fail_msg("entries %d and %d: same %d but cmp %d", i, j, same, c);
            assert_int_equal(c, -prov_flow_entry_cmp(&f[j], &f[i]));
        }
    assert_true(prov_flow_same_entry(&f[4], &f[6]));
}

/* Issue 13: a cap meters each end's ingress flow only, and the meter
 * survives the flows table's JSON and the comparison. */
static void meters_on_ingress_flows(void **state)
{
    (void)state;
    prov_hop h[8];
    size_t nh, n;
    assert_int_equal(prov_path(line, 3, 1, 3, h, 8, &nh), 0);
    h[0].vlan = 2;
    h[1].vlan = 7;
    prov_end a = {1, 1, 0}, b = {3, 2, 100};
    prov_flow f[16];
    assert_int_equal(prov_plan(&a, &b, h, nh, prov_cookie(9), f, 16, &n), 0);
    assert_int_equal(prov_plan_meters(f, n, nh, 0x50460001u, 0x50460002u), 0);
    for (size_t i = 0; i < n; i++) {
        bool want = i == 0 || i == nh + 1;
        assert_int_equal(f[i].flow.has_meter, want);
    }
    assert_non_null(strstr(fmt(&f[0]), "s1 "));
    assert_non_null(strstr(fmt(&f[0]), "actions=meter:1346764801,push_vlan"));
    assert_non_null(strstr(fmt(&f[3]), "s3 "));
    assert_non_null(strstr(fmt(&f[3]), "actions=meter:1346764802,set_field"));
    assert_int_equal(prov_plan_meters(f, n - 1, nh, 1, 1), -1);
    /* JSON: the meter first, back the same */
    char *m, *acts;
    assert_int_equal(prov_flow_to_json(&f[0].flow, &m, &acts), 0);
    assert_non_null(strstr(acts, "{\"type\":\"meter\",\"meter\":1346764801}"));
    struct ofp_flow back;
    char why[128];
    assert_int_equal(prov_flow_from_json(m, acts, 0, PROV_PRIORITY, prov_cookie(9), &back, why),
                     0);
    assert_true(prov_flow_same(&f[0].flow, &back));
    free(m), free(acts);
    /* a meter that is not first, or out of range, does not parse */
    assert_int_equal(prov_flow_from_json("{\"in_port\":1}",
                                         "[{\"type\":\"output\",\"port\":2},"
                                         "{\"type\":\"meter\",\"meter\":5}]",
                                         0, 1, 1, &back, why),
                     -1);
    assert_int_equal(prov_flow_from_json("{\"in_port\":1}", "[{\"type\":\"meter\",\"meter\":0}]",
                                         0, 1, 1, &back, why),
                     -1);
    /* another meter id is another flow for the reconciler */
    struct ofp_flow other = f[0].flow;
    other.meter_id++;
    assert_false(prov_flow_same(&f[0].flow, &other));
    other.has_meter = false;
    assert_false(prov_flow_same(&f[0].flow, &other));
    /* the burst: 500 ms of the rate, at least 100 kbit */
    assert_int_equal(prov_meter_burst_kbits(20000), 10000);
    assert_int_equal(prov_meter_burst_kbits(100), 100);
    struct ofp_meter mm;
    prov_meter_mod(OFPMC_ADD, 0x50460001u, 20000, 10000, &mm);
    assert_int_equal(mm.flags, OFPMF_KBPS | OFPMF_BURST | OFPMF_STATS);
    assert_int_equal(mm.n_bands, 1);
    assert_int_equal(mm.bands[0].type, OFPMBT_DROP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_over_a_line),      cmocka_unit_test(path_is_shortest),
        cmocka_unit_test(same_switch_kinds),     cmocka_unit_test(line_transit_and_ends),
        cmocka_unit_test(json_round_trip),       cmocka_unit_test(cookies_and_comparison),
        cmocka_unit_test(entry_order_agrees_with_equality),
        cmocka_unit_test(meters_on_ingress_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
