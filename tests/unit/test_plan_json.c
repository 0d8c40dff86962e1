/* Unit tests of the flows' JSON decoder (provisioner/plan.c, issue 16):
 * prov_flow_from_json has a fast path for the JSON PostgreSQL prints, and
 * it must give exactly what the jansson reference gives, on every input:
 * the canonical forms of every circuit kind, hand-written odd and wrong
 * ones, and random mutations of them. No services. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "provisioner/plan.h"

static int compared, decoded;

/* Both decoders agree: same result, same flow (byte for byte: both start
 * from ofp_flow_init's zeroed struct), same message. */
static void agree(const char *m, const char *a)
{
    struct ofp_flow f, r;
    char why_f[128] = "", why_r[128] = "";
    int rf = prov_flow_from_json(m, a, 3, 1000, 0x5046000000000007ULL, &f, why_f);
    int rr = prov_flow_from_json_ref(m, a, 3, 1000, 0x5046000000000007ULL, &r, why_r);
    compared++;
    if (rf != rr)
        fail_msg("match %s actions %s: fast %d, reference %d", m, a, rf, rr);
    if (rf == 0) {
        decoded++;
        if (memcmp(&f, &r, sizeof f) != 0) {
            char tf[512], tr[512];
            ofp_format_flow(&f, tf, sizeof tf);
            ofp_format_flow(&r, tr, sizeof tr);
            fail_msg("match %s actions %s: fast %s, reference %s", m, a, tf, tr);
        }
    } else if (strcmp(why_f, why_r) != 0) {
        fail_msg("match %s actions %s: fast says %s, reference %s", m, a, why_f, why_r);
    }
}

/* jsonb's text form: ", " between members and ": " after keys */
static void jsonb_style(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    bool str = false;
    for (const char *p = in; *p && o + 3 < cap; p++) {
        out[o++] = *p;
        if (*p == '"')
            str = !str;
        else if (!str && (*p == ',' || *p == ':'))
            out[o++] = ' ';
    }
    out[o] = '\0';
}

/* match and actions of the flows of every kind of circuit */
static size_t corpus(char (*m)[256], char (*a)[512], size_t cap)
{
    static const db_prov_link line[] = {{1, 1, 10, 2, 10}, {2, 2, 11, 3, 10}};
    prov_hop h[8];
    size_t nh = 0, n = 0, k = 0;
    assert_int_equal(prov_path(line, 2, 1, 3, h, 8, &nh), 0);
    h[0].vlan = 2;
    h[1].vlan = 4094;
    static const prov_end ends[][2] = {
        {{1, 1, 0}, {1, 2, 0}},       {{1, 1, 100}, {1, 2, 100}}, {{1, 1, 100}, {1, 2, 101}},
        {{1, 1, 0}, {1, 2, 4094}},    {{1, 1, 0}, {3, 2, 7}},     {{1, 5, 1}, {3, 65279, 0}},
    };
    for (size_t e = 0; e < sizeof ends / sizeof ends[0]; e++) {
        prov_flow f[16];
        bool far = ends[e][1].switch_id != ends[e][0].switch_id;
        assert_int_equal(prov_plan(&ends[e][0], &ends[e][1], h, far ? nh : 0, prov_cookie(9),
                                   f, 16, &n),
                         0);
        if (e % 2)
            assert_int_equal(prov_plan_meters(f, n, far ? nh : 0, 0x50460001u, 0x5046ffffu), 0);
        for (size_t i = 0; i < n && k + 2 <= cap; i++) {
            char *jm, *ja;
            assert_int_equal(prov_flow_to_json(&f[i].flow, &jm, &ja), 0);
            snprintf(m[k], 256, "%s", jm);
            snprintf(a[k], 512, "%s", ja);
            k++;
            jsonb_style(jm, m[k], 256);
            jsonb_style(ja, a[k], 512);
            k++;
            free(jm), free(ja);
        }
    }
    return k;
}

static void canonical_forms_agree(void **state)
{
    (void)state;
    static char m[128][256], a[128][512];
    size_t n = corpus(m, a, 128);
    assert_true(n > 20);
    compared = decoded = 0;
    for (size_t i = 0; i < n; i++)
        agree(m[i], a[i]);
    assert_int_equal(decoded, (int)n);
    /* what PostgreSQL printed for a flow of the bench (jsonb key order) */
    agree("{\"vlan\": 1, \"in_port\": 1}",
          "[{\"type\": \"set_vlan_vid\", \"vlan\": 2}, {\"port\": 4, \"type\": \"output\"}]");
    agree("{\"vlan\": \"untagged\", \"in_port\": 3}",
          "[{\"type\": \"meter\", \"meter\": 1346764801}, {\"type\": \"push_vlan\", "
          "\"ethertype\": 33024}, {\"type\": \"set_vlan_vid\", \"vlan\": 10}, {\"port\": 4, "
          "\"type\": \"output\"}]");
    agree("{}", "[]");
    assert_int_equal(decoded, (int)n + 3);
}

static void odd_and_wrong_forms_agree(void **state)
{
    (void)state;
    static const char *const matches[] = {
        "{\"in_port\": 1}",
        " \n{ \"in_port\" :\t1 ,\"vlan\":\r\"untagged\" } \n",
        "{\"in_port\": \"1\"}",
        "{\"in_port\": -1}",
        "{\"in_port\": 4294967296}",
        "{\"in_port\": 1.5}",
        "{\"in_port\": 1e3}",
        "{\"in_port\": 01}",
        "{\"in_port\": -0}",
        "{\"in_port\": 99999999999999999999}",
        "{\"in_port\": 999999999999999999}",
        "{\"in_port\": 1, \"in_port\": 2}",
        "{\"vlan\": \"tagged\"}",
        "{\"vlan\": 5000}",
        "{\"vlan\": 1, \"vlan_vid\": 4097, \"vlan_vid_mask\": 4096}",
        "{\"vlan_vid\": 4097, \"vlan_vid_mask\": 4097}",
        "{\"vlan_vid\": 4097}",
        "{\"vlan_vid\": \"x\", \"vlan_vid_mask\": 1}",
        "{\"x\": {\"y\": 1}, \"in_port\": 2}",
        "{\"x\": [1, 2], \"in_port\": 2}",
        "{\"x\": true}",
        "{\"x\": null, \"in_port\": 2}",
        "{\"x\": \"caf\\u00e9\", \"in_port\": 2}",
        "{\"x\\\"y\": 1}",
        "{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4, \"e\": 5, \"f\": 6, \"g\": 7, \"h\": 8, "
        "\"in_port\": 9}",
        "{\"in_port\": 1} x",
        "{\"in_port\": 1}}",
        "{\"in_port\": 1,}",
        "{\"in_port\" 1}",
        "{in_port: 1}",
        "[]",
        "1",
        "\"in_port\"",
        "",
        "{",
    };
    static const char *const actions[] = {
        "[]",
        "[{\"port\": 4, \"type\": \"output\"}]",
        "[{\"type\": \"output\"}]",
        "[{\"type\": \"output\", \"port\": \"4\"}]",
        "[{\"type\": \"output\", \"port\": -2}]",
        "[{\"type\": \"meter\", \"meter\": 1346764801}, {\"type\": \"output\", \"port\": 1}]",
        "[{\"type\": \"output\", \"port\": 1}, {\"type\": \"meter\", \"meter\": 5}]",
        "[{\"type\": \"meter\", \"meter\": 0}]",
        "[{\"type\": \"meter\", \"meter\": 4294901761}]",
        "[{\"type\": \"meter\"}]",
        "[{\"type\": \"pop_vlan\", \"extra\": [1]}]",
        "[{\"type\": \"pop_vlan\", \"extra\": 1}]",
        "[{\"type\": 5}]",
        "[{\"type\": \"drop\"}]",
        "[{}]",
        "[1]",
        "[[]]",
        "[{\"type\": \"pop_vlan\"},]",
        "[{\"type\": \"pop_vlan\"} {\"type\": \"pop_vlan\"}]",
        "[{\"type\": \"pop_vlan\"}] ]",
        "[{\"type\": \"push_vlan\", \"ethertype\": 34984}, {\"type\": \"set_vlan_vid\", "
        "\"vlan\": 4095}]",
        "[{\"type\": \"set_vlan_vid\", \"vlan\": 70000}]",
        "[{\"type\": \"output\", \"port\": 1}, {\"type\": \"output\", \"port\": 2}, "
        "{\"type\": \"output\", \"port\": 3}, {\"type\": \"output\", \"port\": 4}, "
        "{\"type\": \"output\", \"port\": 5}, {\"type\": \"output\", \"port\": 6}, "
        "{\"type\": \"output\", \"port\": 7}, {\"type\": \"output\", \"port\": 8}, "
        "{\"type\": \"output\", \"port\": 9}, {\"type\": \"output\", \"port\": 10}, "
        "{\"type\": \"output\", \"port\": 11}, {\"type\": \"output\", \"port\": 12}, "
        "{\"type\": \"output\", \"port\": 13}, {\"type\": \"output\", \"port\": 14}, "
        "{\"type\": \"output\", \"port\": 15}, {\"type\": \"output\", \"port\": 16}, "
        "{\"type\": \"output\", \"port\": 17}]",
        "{}",
        "",
        "[",
    };
    compared = decoded = 0;
    for (size_t i = 0; i < sizeof matches / sizeof *matches; i++)
        for (size_t j = 0; j < sizeof actions / sizeof *actions; j++)
            agree(matches[i], actions[j]);
    /* both outcomes are exercised */
    assert_true(decoded > 50);
    assert_true(compared - decoded > 200);
}

/* Random edits of the canonical forms: a deleted, replaced or inserted
 * character, a duplicated piece. Deterministic (a fixed seed). */
static void mutations_agree(void **state)
{
    (void)state;
    static char m[128][256], a[128][512];
    size_t n = corpus(m, a, 128);
    static const char alphabet[] = "{}[]\",: 0123456789-.eE\\tnux\x01\xc3";
    unsigned long long seed = 16;
    compared = decoded = 0;
    for (int round = 0; round < 20000; round++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t k = (size_t)(seed >> 33) % n;
        char mm[600], aa[600];
        snprintf(mm, sizeof mm, "%s", m[k]);
        snprintf(aa, sizeof aa, "%s", a[k]);
        char *t = (seed >> 20) & 1 ? mm : aa;
        int edits = 1 + (int)((seed >> 24) % 3);
        for (int e = 0; e < edits; e++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t len = strlen(t);
            size_t at = len ? (size_t)(seed >> 33) % len : 0;
            char c = alphabet[(seed >> 13) % (sizeof alphabet - 1)];
            switch ((seed >> 40) % 4) {
            case 0: /* delete */
                if (len)
                    memmove(t + at, t + at + 1, len - at);
                break;
            case 1: /* replace */
                if (len)
                    t[at] = c;
                break;
            case 2: /* insert */
                if (len + 2 < 600) {
                    memmove(t + at + 1, t + at, len - at + 1);
                    t[at] = c;
                }
                break;
            default: { /* duplicate a piece */
                size_t pl = 1 + (seed >> 50) % 12;
                if (at + pl <= len && len + pl + 1 < 600) {
                    memmove(t + at + pl, t + at, len - at + 1);
                }
                break;
            }
            }
        }
        agree(mm, aa);
    }
    assert_int_equal(compared, 20000);
    assert_true(decoded > 1000);
    assert_true(compared - decoded > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_forms_agree),
        cmocka_unit_test(odd_and_wrong_forms_agree),
        cmocka_unit_test(mutations_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
