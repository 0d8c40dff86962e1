/* Unit tests of workflow/bgp_render.c: what each dialect's text says for
 * each shape of session (tests/unit/bgp_render_shapes.h), and what it
 * refuses. That BIRD and FRR accept the text is bgp_render_test.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/bgp_render_shapes.h"
#include "workflow/bgp_render.h"

#define SECRET "Kq3.x_Zr-8pLw2Vn5Ty7Ub9a"

/* What one dialect writes, as templates: {s} is replaced by a string
 * (an address, a prefix), {n} by a number (an AS, a limit, a length). A
 * template without {s} is the same for both families. */
typedef struct {
    wf_bgp_daemon d;
    const char *neighbor;  /* {s} neighbour address, {n} remote AS */
    const char *local;     /* {s} local address, {n} local AS; NULL: not per family */
    const char *limit;     /* {s} neighbour address, {n} the limit */
    const char *secret;    /* {s} neighbour address */
    const char *permit_le; /* {s} prefix, {n} longest */
    const char *permit_eq; /* {s} prefix; NULL: BIRD's prefix set */
    const char *bogon_or_longer; /* {s} prefix */
} dialect;

static const dialect dialects[] = {
    {WF_BGP_BIRD2, "  neighbor {s} as {n};\n", "  local {s} as {n};\n",
     "    import limit {n} action restart;\n", "  password \"" SECRET "\";\n", "{s}{",
     NULL, "{s}+"},
    {WF_BGP_FRR, " neighbor {s} remote-as {n}\n", NULL, "  neighbor {s} maximum-prefix {n} restart 5\n",
     " neighbor {s} password " SECRET "\n", "permit {s} le {n}\n", "permit {s}\n", "deny {s} le "},
    {WF_BGP_JUNOS, "            neighbor {s};\n", "            local-address {s};\n",
     "                        maximum {n};\n", "            authentication-key \"" SECRET "\";\n",
     "route-filter {s} upto /{n};\n", "route-filter {s} exact;\n", "route-filter {s} orlonger;\n"},
    {WF_BGP_EOS, "   neighbor {s} remote-as {n}\n", NULL, "   neighbor {s} maximum-routes {n}\n",
     "   neighbor {s} password 0 " SECRET "\n", "permit {s} le {n}\n", "permit {s}\n", "deny {s} le "},
};
#define NDIALECTS (sizeof dialects / sizeof dialects[0])

static wf_bgp_session shape(const char *name)
{
    static bgp_shape all[16];
    size_t n = bgp_shapes(all, 16);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].name, name) == 0)
            return all[i].s;
    fail_msg("no shape %s", name);
    return all[0].s;
}

static char *render(wf_bgp_daemon d, const wf_bgp_session *s)
{
    char *out = (char *)1;
    pf_err e;
    pf_kind k = wf_bgp_render(d, s, &out, &e);
    if (k != PF_OK)
        fail_msg("%s: %s (%s): %s", wf_bgp_daemon_name(d), e.code, e.field, e.message);
    assert_non_null(out);
    return out;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static bool has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* tpl with {s} and {n} replaced */
static void fill(char *out, size_t cap, const char *tpl, const char *str, long long n)
{
    size_t k = 0;
    for (const char *p = tpl; *p && k + 1 < cap; p++) {
        if (strncmp(p, "{s}", 3) == 0) {
            k += (size_t)snprintf(out + k, cap - k, "%s", str);
            p += 2;
        } else if (strncmp(p, "{n}", 3) == 0) {
            k += (size_t)snprintf(out + k, cap - k, "%lld", n);
            p += 2;
        } else {
            out[k++] = *p;
        }
        if (k >= cap)
            k = cap - 1;
    }
    out[k] = '\0';
}

static bool has_t(const char *hay, const char *tpl, const char *str, long long n)
{
    char needle[512];
    fill(needle, sizeof needle, tpl, str, n);
    return strstr(hay, needle) != NULL;
}

/* prefix is a member of a BIRD prefix set on a "then accept;" line */
static bool bird_accepts(const char *o, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *line = o; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[16384];
        if (len < sizeof buf) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            if (strstr(buf, "then accept;"))
                for (const char *p = buf; (p = strstr(p, prefix)) != NULL; p += n)
                    if (p > buf && p[-1] == ' ' && (p[n] == ',' || p[n] == ' '))
                        return true;
        }
        if (!end)
            break;
        line = end + 1;
    }
    return false;
}

/* prefix is in a Junos "term registered" (route-filter P exact) or in a
 * prefix-list block (the export) */
static bool junos_accepts(const char *o, const char *prefix)
{
    char want[128];
    const char *blocks[][2] = {{"        term registered {\n", "then accept;"},
                               {"    prefix-list pf-r", "\n    }\n"}};
    for (int b = 0; b < 2; b++) {
        snprintf(want, sizeof want, b == 0 ? "route-filter %s exact;\n" : "        %s;\n", prefix);
        for (const char *p = o; (p = strstr(p, blocks[b][0])) != NULL; p++) {
            const char *end = strstr(p, blocks[b][1]);
            const char *hit = strstr(p, want);
            if (end && hit && hit < end)
                return true;
        }
    }
    return false;
}

/* the dialect lets exactly this prefix through */
static bool permits_eq(const dialect *t, const char *o, const char *prefix)
{
    if (t->d == WF_BGP_BIRD2)
        return bird_accepts(o, prefix);
    if (t->d == WF_BGP_JUNOS)
        return junos_accepts(o, prefix);
    return has_t(o, t->permit_eq, prefix, 0);
}

/* the text between the first "from" and the next "to" (or the end) */
static char *between(const char *hay, const char *from, const char *to)
{
    const char *a = strstr(hay, from);
    assert_non_null(a);
    const char *b = to ? strstr(a + strlen(from), to) : NULL;
    size_t n = b ? (size_t)(b - a) : strlen(a);
    char *r = malloc(n + 1);
    assert_non_null(r);
    memcpy(r, a, n);
    r[n] = '\0';
    return r;
}

static void daemon_names(void **state)
{
    (void)state;
    const char *names[] = {"bird2", "frr", "junos", "eos"};
    for (int i = 0; i < 4; i++) {
        wf_bgp_daemon d;
        assert_true(wf_bgp_daemon_parse(names[i], &d));
        assert_int_equal(d, i);
        assert_string_equal(wf_bgp_daemon_name(d), names[i]);
        assert_non_null(strstr(wf_bgp_daemon_list(), names[i]));
    }
    wf_bgp_daemon d = WF_BGP_FRR;
    assert_false(wf_bgp_daemon_parse("bird", &d));
    assert_false(wf_bgp_daemon_parse("FRR", &d));
    assert_false(wf_bgp_daemon_parse("", &d));
    assert_false(wf_bgp_daemon_parse(NULL, &d));
    assert_int_equal(d, WF_BGP_FRR);
    char *out = (char *)1;
    pf_err e;
    wf_bgp_session s = shape("both_md5");
    assert_int_equal(wf_bgp_render(WF_BGP__COUNT, &s, &out, &e), PF_EINVALID);
    assert_null(out);
    assert_string_equal(e.code, "unknown_daemon");
    assert_non_null(strstr(e.message, "bird2, frr, junos, eos"));
}

/* neighbours, local addresses and ASes, description, secret, limits,
 * for v4 only, v6 only and both */
static void families(void **state)
{
    (void)state;
    const char *shapes[] = {"v4_md5", "v6_md5", "both_md5"};
    for (size_t k = 0; k < 3; k++) {
        wf_bgp_session s = shape(shapes[k]);
        for (size_t i = 0; i < NDIALECTS; i++) {
            const dialect *t = &dialects[i];
            char *o = render(t->d, &s);
            const wf_bgp_family *f[2] = {&s.v4, &s.v6};
            int limit[2] = {s.max_prefix4, s.max_prefix6};
            for (int j = 0; j < 2; j++) {
                bool on = f[j]->present;
                assert_int_equal(has_t(o, t->neighbor, f[j]->neighbor_ip, s.remote_asn), on);
                if (t->local)
                    assert_int_equal(has_t(o, t->local, f[j]->local_ip, s.local_asn), on);
                assert_int_equal(has_t(o, t->limit, f[j]->neighbor_ip, limit[j]), on);
                if (strstr(t->secret, "{s}"))
                    assert_int_equal(has_t(o, t->secret, f[j]->neighbor_ip, 0), on);
                else
                    assert_true(has_t(o, t->secret, "", 0));
            }
            int nfam = s.v4.present + s.v6.present;
            assert_int_equal(count(o, SECRET), nfam);
            assert_int_equal(count(o, "peerflow request 12: AS64501 Peer Net"), nfam);
            assert_true(has(o, "AS64500 (Example Transit)"));
            if (t->d == WF_BGP_FRR || t->d == WF_BGP_EOS) {
                assert_int_equal(count(o, "router bgp 64500\n"), 1);
            }
            if (t->d == WF_BGP_JUNOS) {
                assert_int_equal(count(o, "peer-as 64501;"), nfam);
                assert_int_equal(count(o, "/* local AS64500 */"), nfam);
                assert_int_equal(count(o, "teardown idle-timeout 5;"), nfam);
            }
            free(o);
        }
    }
}

/* BIRD: names from the request id, one protocol and channel per family,
 * and nothing a main bird.conf already has */
static void bird_structure(void **state)
{
    (void)state;
    wf_bgp_session s = shape("both_md5");
    char *o = render(WF_BGP_BIRD2, &s);
    assert_true(has(o, "protocol bgp pf_r12_v4 {\n"));
    assert_true(has(o, "protocol bgp pf_r12_v6 {\n"));
    assert_true(has(o, "filter pf_r12_in4 {\n"));
    assert_true(has(o, "filter pf_r12_out6 {\n"));
    char *v4 = between(o, "protocol bgp pf_r12_v4", "\n}\n");
    assert_true(has(v4, "  ipv4 {\n    import filter pf_r12_in4;\n    export filter pf_r12_out4;\n"));
    assert_null(strstr(v4, "ipv6"));
    free(v4);
    char *v6 = between(o, "protocol bgp pf_r12_v6", "\n}\n");
    assert_true(has(v6, "  ipv6 {\n    import filter pf_r12_in6;\n    export filter pf_r12_out6;\n"));
    free(v6);
    assert_null(strstr(o, "\nrouter id"));
    assert_null(strstr(o, "\nprotocol kernel"));
    assert_null(strstr(o, "\nprotocol device"));
    assert_int_equal(count(o, "{"), count(o, "}"));
    free(o);

    s.request_id = 987;
    o = render(WF_BGP_BIRD2, &s);
    assert_true(has(o, "protocol bgp pf_r987_v4 {\n"));
    assert_null(strstr(o, "pf_r12_"));
    free(o);
}

/* FRR and EOS: each neighbour is active only in its own family; the
 * policy is attached in the family; FRR's prefix lists come first */
static void frr_eos_families(void **state)
{
    (void)state;
    const char *shapes[] = {"both_md5", "v4_md5", "v6_md5"};
    for (size_t k = 0; k < 3; k++) {
        wf_bgp_session s = shape(shapes[k]);
        char *o = render(WF_BGP_FRR, &s);
        assert_true(strstr(o, "ip") < strstr(o, "router bgp"));
        assert_null(strstr(strstr(o, "router bgp"), "prefix-list pf-r12-in4 seq"));
        if (s.v4.present) {
            char *af = between(o, " address-family ipv4 unicast\n", " exit-address-family");
            assert_true(has(af, "  neighbor 100.64.0.1 activate\n"));
            assert_true(has(af, "  neighbor 100.64.0.1 prefix-list pf-r12-in4 in\n"));
            assert_true(has(af, "  neighbor 100.64.0.1 prefix-list pf-r12-out4 out\n"));
            free(af);
        }
        if (s.v6.present) {
            /* the ipv4 block exists to take the v6 neighbour out of it */
            char *af = between(o, " address-family ipv4 unicast\n", " exit-address-family");
            assert_true(has(af, "  no neighbor 2001:db8:100::1 activate\n"));
            free(af);
            af = between(o, " address-family ipv6 unicast\n", " exit-address-family");
            assert_true(has(af, "  neighbor 2001:db8:100::1 activate\n"));
            assert_true(has(af, "  neighbor 2001:db8:100::1 prefix-list pf-r12-in6 in\n"));
            assert_true(has(af, "  neighbor 2001:db8:100::1 prefix-list pf-r12-out6 out\n"));
            assert_null(strstr(af, "100.64.0.1"));
            free(af);
        } else {
            assert_null(strstr(o, "address-family ipv6"));
            assert_null(strstr(o, "no neighbor"));
        }
        assert_true(has(o, "exit\n"));
        free(o);

        o = render(WF_BGP_EOS, &s);
        if (s.v6.present) {
            char *af = between(o, "   address-family ipv4\n", "   address-family ipv6");
            assert_true(has(af, "      no neighbor 2001:db8:100::1 activate\n"));
            free(af);
            af = between(o, "   address-family ipv6\n", NULL);
            assert_true(has(af, "      neighbor 2001:db8:100::1 activate\n"));
            assert_true(has(af, "      neighbor 2001:db8:100::1 route-map PF-R12-IN6 in\n"));
            assert_true(has(af, "      neighbor 2001:db8:100::1 route-map PF-R12-OUT6 out\n"));
            assert_null(strstr(af, "100.64.0.1"));
            free(af);
            assert_true(has(o, "route-map PF-R12-IN6 permit 10\n   match ipv6 address prefix-list PF-R12-IN6\n"));
        }
        if (s.v4.present) {
            assert_true(has(o, "      neighbor 100.64.0.1 route-map PF-R12-IN4 in\n"));
            assert_true(has(o, "route-map PF-R12-IN4 permit 10\n   match ip address prefix-list PF-R12-IN4\n"));
            assert_true(has(o, "route-map PF-R12-OUT4 deny 20\n"));
        }
        free(o);
    }
}

/* Junos: groups per family, policies defined and used */
static void junos_structure(void **state)
{
    (void)state;
    wf_bgp_session s = shape("both_md5");
    char *o = render(WF_BGP_JUNOS, &s);
    assert_true(has(o, "policy-options {\n"));
    assert_true(has(o, "protocols {\n    bgp {\n"));
    assert_true(has(o, "        group pf-r12-v4 {\n            type external;\n"));
    assert_true(has(o, "        group pf-r12-v6 {\n"));
    char *g4 = between(o, "group pf-r12-v4", "group pf-r12-v6");
    assert_true(has(g4, "import pf-r12-in4;\n"));
    assert_true(has(g4, "export pf-r12-out4;\n"));
    assert_true(has(g4, "family inet {\n"));
    assert_null(strstr(g4, "inet6"));
    free(g4);
    char *g6 = between(o, "group pf-r12-v6", NULL);
    assert_true(has(g6, "family inet6 {\n"));
    assert_true(has(g6, "local-address 2001:db8:100::;\n"));
    free(g6);
    assert_true(has(o, "policy-statement pf-r12-in4 {\n"));
    assert_true(has(o, "policy-statement pf-r12-out6 {\n"));
    assert_true(has(o, "    prefix-list pf-r12-out4 {\n        192.0.2.0/24;\n    }\n"));
    assert_true(has(o, "route-filter 0.0.0.0/0 prefix-length-range /25-/32;\n"));
    assert_true(has(o, "route-filter ::/0 prefix-length-range /49-/128;\n"));
    assert_int_equal(count(o, "{"), count(o, "}"));
    assert_int_equal(count(o, "/*"), count(o, "*/"));
    free(o);
}

/* import: registered prefixes up to /24 and /48, exact when already that
 * long; a longer registration is left out, saying why; bogons first */
static void import_policy(void **state)
{
    (void)state;
    wf_bgp_session s = shape("both_plain");
    for (size_t i = 0; i < NDIALECTS; i++) {
        const dialect *t = &dialects[i];
        char *o = render(t->d, &s);
        assert_true(has_t(o, t->permit_le, "203.0.112.0/22", 24));
        assert_true(has_t(o, t->permit_le, "2001:db8:2000::/36", 48));
        assert_true(permits_eq(t, o, "2001:db8:3::/48"));
        assert_true(permits_eq(t, o, "198.51.100.0/24"));
        assert_false(has_t(o, t->permit_le, "198.51.100.0/24", 24));
        assert_false(has_t(o, t->permit_le, "203.0.113.0/25", 24));
        assert_false(has_t(o, t->permit_le, "203.0.113.0/25", 25));
        assert_false(permits_eq(t, o, "203.0.113.0/25"));
        assert_true(has(o, "203.0.113.0/25: longer than /24, never imported"));
        const char *b4[] = {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
                            "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4",
                            "240.0.0.0/4"};
        for (size_t j = 0; j < sizeof b4 / sizeof b4[0]; j++) {
            assert_true(has_t(o, t->bogon_or_longer, b4[j], 0));
            /* the denies come before the first permit */
            char needle[64];
            fill(needle, sizeof needle, t->bogon_or_longer, b4[j], 0);
            assert_true(strstr(o, needle) < strstr(o, "203.0.112.0/22"));
        }
        const char *b6[] = {"::/8", "fc00::/7", "fe80::/10", "ff00::/8"};
        for (size_t j = 0; j < sizeof b6 / sizeof b6[0]; j++)
            assert_true(has_t(o, t->bogon_or_longer, b6[j], 0));
        /* documentation ranges are not bogons here (docs/bgp.md) */
        assert_false(has_t(o, t->bogon_or_longer, "192.0.2.0/24", 0));
        assert_false(has_t(o, t->bogon_or_longer, "198.51.100.0/24", 0));
        free(o);
    }
    char *o = render(WF_BGP_BIRD2, &s);
    assert_true(has(o, "[ 198.51.100.0/24, 203.0.112.0/22{22,24} ] then accept;\n"));
    assert_true(has(o, "if net ~ [ 0.0.0.0/0, 0.0.0.0/8+,"));
    assert_true(has(o, "if net ~ [ ::/0, ::/8+, fc00::/7+, fe80::/10+, ff00::/8+ ] then reject;\n"));
    assert_true(has(o, "  if net.len > 24 then reject;\n"));
    assert_true(has(o, "  if net.len > 48 then reject;\n"));
    free(o);
    o = render(WF_BGP_FRR, &s);
    assert_true(has(o, "ip prefix-list pf-r12-in4 seq 5 deny 0.0.0.0/0\n"));
    assert_true(has(o, "ipv6 prefix-list pf-r12-in6 seq 5 deny ::/0\n"));
    assert_true(has(o, "ip prefix-list pf-r12-in4 seq 55 permit 198.51.100.0/24\n"));
    assert_true(has(o, "ip prefix-list pf-r12-in4 seq 65 deny any\n"));
    free(o);
    o = render(WF_BGP_JUNOS, &s);
    assert_true(has(o, "route-filter 0.0.0.0/0 exact;\n"));
    assert_true(has(o, "route-filter ::/0 exact;\n"));
    assert_true(has(o, "route-filter 198.51.100.0/24 exact;\n"));
    free(o);
    o = render(WF_BGP_EOS, &s);
    assert_true(has(o, "   seq 10 deny 0.0.0.0/0\n"));
    assert_true(has(o, "   seq 10 deny ::/0\n"));
    free(o);
}

/* export: the local network's registered prefixes, exact, nothing else */
static void export_policy(void **state)
{
    (void)state;
    wf_bgp_session s = shape("both_plain");
    char *o = render(WF_BGP_FRR, &s);
    assert_true(has(o, "ip prefix-list pf-r12-out4 seq 5 permit 192.0.2.0/24\n"
                       "ip prefix-list pf-r12-out4 seq 10 deny any\n"));
    assert_true(has(o, "ipv6 prefix-list pf-r12-out6 seq 5 permit 2001:db8:1000::/36\n"
                       "ipv6 prefix-list pf-r12-out6 seq 10 deny any\n"));
    free(o);
    o = render(WF_BGP_BIRD2, &s);
    assert_true(has(o, "filter pf_r12_out4 {\n  if net ~ [ 192.0.2.0/24 ] then accept;\n  reject;\n}\n"));
    free(o);
    o = render(WF_BGP_EOS, &s);
    assert_true(has(o, "ip prefix-list PF-R12-OUT4\n   seq 10 permit 192.0.2.0/24\n"
                       "   seq 20 deny 0.0.0.0/0 le 32\n"));
    free(o);
    o = render(WF_BGP_JUNOS, &s);
    char *p = between(o, "policy-statement pf-r12-out4", "policy-statement");
    assert_true(has(p, "prefix-list pf-r12-out4;\n"));
    assert_true(has(p, "then accept;"));
    assert_null(strstr(p, "route-filter"));
    free(p);
    free(o);
}

/* registered bogons, the default route and too-long prefixes never reach
 * a permit, in either direction (a /25 is still exported: exact) */
static void odd_registrations(void **state)
{
    (void)state;
    wf_bgp_session s = shape("odd_prefixes");
    for (size_t i = 0; i < NDIALECTS; i++) {
        const dialect *t = &dialects[i];
        char *o = render(t->d, &s);
        assert_true(permits_eq(t, o, "198.51.100.0/24"));
        assert_false(permits_eq(t, o, "10.0.0.0/8"));
        assert_false(has_t(o, t->permit_le, "10.0.0.0/8", 24));
        assert_false(has_t(o, t->permit_le, "0.0.0.0/0", 24));
        assert_false(permits_eq(t, o, "0.0.0.0/0"));
        assert_false(has_t(o, t->permit_le, "100.64.1.0/24", 24));
        assert_false(permits_eq(t, o, "100.64.1.0/24"));
        assert_false(has_t(o, t->permit_le, "fc00::/8", 48));
        assert_false(has_t(o, t->permit_le, "::/0", 48));
        assert_false(permits_eq(t, o, "2001:db8:4::/56"));
        assert_true(has(o, "10.0.0.0/8: a bogon or the default route, never imported"));
        assert_true(has(o, "10.0.0.0/8: a bogon or the default route, never exported"));
        assert_true(has(o, "0.0.0.0/0: a bogon or the default route, never exported"));
        assert_true(has(o, "fc00::/8: a bogon or the default route, never imported"));
        assert_true(has(o, "2001:db8:4::/56: longer than /48, never imported"));
        assert_true(has(o, "198.51.100.128/25: longer than /24, never imported"));
        free(o);
    }
    char *o = render(WF_BGP_FRR, &s);
    assert_true(has(o, "ip prefix-list pf-r12-out4 seq 10 permit 198.51.100.128/25\n"));
    assert_false(has(o, "permit 0.0.0.0/0"));
    assert_false(has(o, "permit 10.0.0.0/8"));
    free(o);
}

static void max_prefix_absent(void **state)
{
    (void)state;
    wf_bgp_session s = shape("no_max_prefix");
    for (size_t i = 0; i < NDIALECTS; i++) {
        const dialect *t = &dialects[i];
        char *o = render(t->d, &s);
        assert_false(has_t(o, t->limit, s.v4.neighbor_ip, 0));
        assert_false(has_t(o, t->limit, s.v6.neighbor_ip, 0));
        assert_int_equal(count(o, "no max-prefix is registered for AS64501 (IPv4)"), 1);
        assert_int_equal(count(o, "no max-prefix is registered for AS64501 (IPv6)"), 1);
        assert_null(strstr(o, "import limit"));
        assert_null(strstr(o, "maximum-prefix"));
        assert_null(strstr(o, "maximum-routes"));
        assert_null(strstr(o, "prefix-limit"));
        free(o);
    }
    /* one family with a limit, the other without */
    s.max_prefix6 = 7;
    char *o = render(WF_BGP_FRR, &s);
    assert_int_equal(count(o, "maximum-prefix"), 1);
    assert_true(has(o, "  neighbor 2001:db8:100::1 maximum-prefix 7 restart 5\n"));
    assert_true(has(o, "no max-prefix is registered for AS64501 (IPv4)"));
    free(o);
}

static void no_secret(void **state)
{
    (void)state;
    wf_bgp_session s = shape("both_plain");
    for (size_t i = 0; i < NDIALECTS; i++) {
        char *o = render(dialects[i].d, &s);
        assert_null(strstr(o, SECRET));
        assert_null(strstr(o, "password"));
        assert_null(strstr(o, "authentication-key"));
        free(o);
    }
}

/* nothing registered: still a policy, and it lets nothing through */
static void no_prefixes(void **state)
{
    (void)state;
    wf_bgp_session s = shape("no_prefixes");
    for (size_t i = 0; i < NDIALECTS; i++) {
        char *o = render(dialects[i].d, &s);
        assert_int_equal(count(o, "AS64501 has no registered IPv4 prefix: nothing is imported"), 1);
        assert_int_equal(count(o, "AS64501 has no registered IPv6 prefix: nothing is imported"), 1);
        assert_int_equal(count(o, "AS64500 has no registered IPv4 prefix: nothing is exported"), 1);
        assert_int_equal(count(o, "AS64500 has no registered IPv6 prefix: nothing is exported"), 1);
        switch (dialects[i].d) {
        case WF_BGP_BIRD2:
            assert_null(strstr(o, "accept"));
            assert_int_equal(count(o, "  reject;\n}\n"), 4);
            assert_int_equal(count(o, "import filter pf_r12_in"), 2);
            assert_int_equal(count(o, "export filter pf_r12_out"), 2);
            break;
        case WF_BGP_FRR:
            assert_null(strstr(o, "permit"));
            assert_int_equal(count(o, "-out4 seq 5 deny any\n"), 1);
            assert_int_equal(count(o, "-out6 seq 5 deny any\n"), 1);
            assert_int_equal(count(o, "-in4 seq 55 deny any\n"), 1);
            assert_true(has(o, "  neighbor 100.64.0.1 prefix-list pf-r12-in4 in\n"));
            assert_true(has(o, "  neighbor 100.64.0.1 prefix-list pf-r12-out4 out\n"));
            assert_true(has(o, "  neighbor 2001:db8:100::1 prefix-list pf-r12-in6 in\n"));
            assert_true(has(o, "  neighbor 2001:db8:100::1 prefix-list pf-r12-out6 out\n"));
            break;
        case WF_BGP_JUNOS:
            assert_null(strstr(o, "then accept"));
            assert_null(strstr(o, "prefix-list pf-r12-out4 {"));
            assert_int_equal(count(o, "term rest {\n            then reject;"), 4);
            assert_int_equal(count(o, "import pf-r12-in"), 2);
            break;
        case WF_BGP_EOS:
            /* the only permits are the route-maps' match entries */
            assert_int_equal(count(o, " permit "), 4);
            assert_int_equal(count(o, " permit 10\n   match "), 4);
            assert_int_equal(count(o, "   seq 10 deny 0.0.0.0/0 le 32\n"), 1);
            assert_int_equal(count(o, "route-map PF-R12-IN4 in\n"), 1);
            break;
        default: fail();
        }
        free(o);
    }
}

static void many_prefixes(void **state)
{
    (void)state;
    wf_bgp_session s = shape("many_prefixes");
    for (size_t i = 0; i < NDIALECTS; i++) {
        const dialect *t = &dialects[i];
        char *o = render(t->d, &s);
        for (size_t j = 0; j < s.import4.n; j++)
            assert_true(permits_eq(t, o, s.import4.cidr[j]));
        for (size_t j = 0; j < s.import6.n; j++)
            assert_true(permits_eq(t, o, s.import6.cidr[j]));
        if (t->d == WF_BGP_FRR) {
            assert_int_equal(count(o, "ip prefix-list pf-r12-in4 seq "), 10 + 300 + 1);
            assert_true(has(o, "ip prefix-list pf-r12-in4 seq 1550 permit 198.19.43.0/24\n"));
            assert_true(has(o, "ip prefix-list pf-r12-in4 seq 1555 deny any\n"));
        }
        free(o);
    }
}

/* a network name cannot end a string, a statement or a line */
static void hostile_names(void **state)
{
    (void)state;
    wf_bgp_session s = shape("hostile_names");
    for (size_t i = 0; i < NDIALECTS; i++) {
        char *o = render(dialects[i].d, &s);
        assert_null(strstr(o, "x\""));
        assert_null(strstr(o, "\"; }"));
        assert_null(strstr(o, "protocol kernel {"));
        assert_null(strstr(o, "\nrouter bgp 1\n"));
        assert_null(strstr(o, "neighbor 1.1.1.1 remote-as 2\n"));
        assert_null(strstr(o, "\\"));
        assert_null(strstr(o, "\xc3"));
        assert_null(strstr(o, ";#"));
        assert_true(has(o, "AS4200000000 (x__ _ protocol kernel _ export all_ __ _)"));
        assert_true(has(o, "AS4200000001 (a_router bgp 1_ neighbor 1.1.1.1 remote-as 2 _ /_ _ _ "
                           "____ __)"));
        /* 80 characters */
        assert_true(has(o, "peerflow request 4000000000: AS4200000001 a_router bgp 1_ neighbor "
                           "1.1.1.1 remot"));
        assert_false(has(o, "peerflow request 4000000000: AS4200000001 a_router bgp 1_ neighbor "
                            "1.1.1.1 remote"));
        if (dialects[i].d == WF_BGP_BIRD2 || dialects[i].d == WF_BGP_JUNOS) {
            assert_int_equal(count(o, "{"), count(o, "}"));
            assert_int_equal(count(o, "\"") % 2, 0);
        }
        if (dialects[i].d == WF_BGP_JUNOS)
            assert_int_equal(count(o, "/*"), count(o, "*/"));
        if (dialects[i].d == WF_BGP_BIRD2)
            assert_true(has(o, "protocol bgp pf_r4000000000_v4 {\n  description \"peerflow request "
                               "4000000000: AS4200000001 a_router"));
        free(o);
    }
    /* what the filter keeps, it keeps as is; it cuts long names, and an
     * empty one becomes "unnamed" */
    s = shape("both_md5");
    s.remote_name = "  Peer Net (AS-1) ./,_  ";
    char *o = render(WF_BGP_FRR, &s);
    assert_true(has(o, "description peerflow request 12: AS64501 Peer Net (AS-1) ./,_\n"));
    free(o);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    s.remote_name = longname;
    o = render(WF_BGP_FRR, &s);
    /* the header comment has the name cut at 64 bytes, the description
     * (EOS takes 80 characters) is cut at 80 */
    char want[128];
    snprintf(want, sizeof want, "AS64501 (%.64s).\n", longname);
    assert_true(has(o, want));
    snprintf(want, sizeof want, "%.65s", longname);
    assert_false(has(o, want));
    snprintf(want, sizeof want, "description peerflow request 12: AS64501 %.51s\n", longname);
    assert_true(has(o, want));
    /* a cut that ends in a space leaves no trailing space: the 51st
     * character of the name is the 80th of the description */
    char spaced[100];
    memset(spaced, 'n', sizeof spaced - 1);
    spaced[sizeof spaced - 1] = '\0';
    spaced[50] = ' ';
    s.remote_name = spaced;
    free(o);
    o = render(WF_BGP_EOS, &s);
    snprintf(want, sizeof want, "description peerflow request 12: AS64501 %.50s\n", spaced);
    assert_true(has(o, want));
    assert_int_equal(strlen(strstr(want, "peerflow")), 79 + 1);
    free(o);
    s.remote_name = NULL;
    s.local_name = "   ";
    o = render(WF_BGP_BIRD2, &s);
    assert_true(has(o, "AS64500 (unnamed) and AS64501 (unnamed)"));
    free(o);
}

static void expect_refused(const wf_bgp_session *s, const char *code, const char *field)
{
    for (size_t i = 0; i < NDIALECTS; i++) {
        char *out = (char *)1;
        pf_err e;
        assert_int_equal(wf_bgp_render(dialects[i].d, s, &out, &e), PF_EINVALID);
        assert_null(out);
        assert_string_equal(e.code, code);
        assert_string_equal(e.field, field);
        assert_true(strlen(e.message) > 10);
    }
}

static void refusals(void **state)
{
    (void)state;
    wf_bgp_session s;
    const char *bad4[] = {"100.64.0.256", "100.064.0.0", "100.64.0", "2001:db8::1", "", "100.64.0.0 ",
                          "100.64.0.0;"};
    for (size_t i = 0; i < sizeof bad4 / sizeof bad4[0]; i++) {
        s = shape("both_md5");
        s.v4.local_ip = bad4[i];
        expect_refused(&s, "bad_address", "v4.local_ip");
        s = shape("both_md5");
        s.v4.neighbor_ip = bad4[i];
        expect_refused(&s, "bad_address", "v4.neighbor_ip");
    }
    s = shape("both_md5");
    s.v4.local_ip = NULL;
    expect_refused(&s, "bad_address", "v4.local_ip");
    const char *bad6[] = {"2001:DB8:100::", "2001:db8:100:0::", "100.64.0.0", "2001:db8:100::/127",
                          "2001:db8:100:::"};
    for (size_t i = 0; i < sizeof bad6 / sizeof bad6[0]; i++) {
        s = shape("both_md5");
        s.v6.local_ip = bad6[i];
        expect_refused(&s, "bad_address", "v6.local_ip");
    }
    /* the neighbour must be another address of the same link */
    s = shape("both_md5");
    s.v4.neighbor_ip = "100.64.0.2";
    expect_refused(&s, "bad_address", "v4.neighbor_ip");
    s = shape("both_md5");
    s.v6.neighbor_ip = "2001:db8:100::";
    expect_refused(&s, "bad_address", "v6.neighbor_ip");
    s = shape("both_md5");
    s.v4.prefix_length = 32;
    expect_refused(&s, "bad_prefix_length", "v4.prefix_length");
    /* an absent family is not looked at */
    s = shape("both_md5");
    s.v6.present = false;
    s.v6.local_ip = "junk";
    char *o = render(WF_BGP_FRR, &s);
    assert_null(strstr(o, "junk"));
    free(o);

    const char *bad_secret[] = {"", "ab\"cd", "ab cd", "ab;cd", "ab'cd", "ab\ncd", "ab}cd",
                                "ab\\cd", "ab#cd", "\xc3\xa9t\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_secret / sizeof bad_secret[0]; i++) {
        s = shape("both_md5");
        s.md5_secret = bad_secret[i];
        expect_refused(&s, "bad_secret", "md5_secret");
    }
    char long_secret[82];
    memset(long_secret, 'a', 81);
    long_secret[81] = '\0';
    s = shape("both_md5");
    s.md5_secret = long_secret;
    expect_refused(&s, "bad_secret", "md5_secret");
    long_secret[80] = '\0';
    o = render(WF_BGP_BIRD2, &s);
    char want[128];
    snprintf(want, sizeof want, "password \"%s\";", long_secret);
    assert_true(has(o, want));
    free(o);

    const char *bad_cidr4[] = {"198.51.100.1/24", "198.51.100.0/024", "198.51.100.0",
                               "198.51.100.0/33", "198.51.100.0/", "/24", "198.51.100.0/24 ",
                               "2001:db8::/32", "198.51.100.0/-1", "198.51.100.0/+24"};
    for (size_t i = 0; i < sizeof bad_cidr4 / sizeof bad_cidr4[0]; i++) {
        const char *list[] = {"192.0.2.0/24", bad_cidr4[i]};
        s = shape("both_md5");
        s.import4 = (wf_bgp_prefixes){list, 2};
        expect_refused(&s, "bad_cidr", "import4");
        s = shape("both_md5");
        s.export4 = (wf_bgp_prefixes){list, 2};
        expect_refused(&s, "bad_cidr", "export4");
    }
    const char *bad_cidr6[] = {"2001:DB8::/32", "2001:db8::1/32", "2001:db8::/129", "2001:0db8::/32",
                               "198.51.100.0/24", "2001:db8::/032"};
    for (size_t i = 0; i < sizeof bad_cidr6 / sizeof bad_cidr6[0]; i++) {
        const char *list[] = {bad_cidr6[i]};
        s = shape("both_md5");
        s.import6 = (wf_bgp_prefixes){list, 1};
        expect_refused(&s, "bad_cidr", "import6");
        s = shape("both_md5");
        s.export6 = (wf_bgp_prefixes){list, 1};
        expect_refused(&s, "bad_cidr", "export6");
    }
    const char *nulls[] = {NULL};
    s = shape("both_md5");
    s.import4 = (wf_bgp_prefixes){nulls, 1};
    expect_refused(&s, "bad_cidr", "import4");
    s = shape("both_md5");
    s.import4 = (wf_bgp_prefixes){NULL, 3};
    expect_refused(&s, "bad_cidr", "import4");

    s = shape("both_md5");
    s.v4.present = s.v6.present = false;
    expect_refused(&s, "no_family", "family");
    s = shape("both_md5");
    s.local_asn = 0;
    expect_refused(&s, "bad_asn", "local_asn");
    s = shape("both_md5");
    s.remote_asn = 4294967295LL;
    expect_refused(&s, "bad_asn", "remote_asn");
    s = shape("both_md5");
    s.request_id = 0;
    expect_refused(&s, "bad_request_id", "request_id");
    s = shape("both_md5");
    s.max_prefix6 = -1;
    expect_refused(&s, "bad_max_prefix", "max_prefix6");
}

static void helpers(void **state)
{
    (void)state;
    pf_err e;
    int fam = 0;
    assert_int_equal(wf_bgp_check_prefix("198.51.100.0/24", "cidr", &fam, &e), PF_OK);
    assert_int_equal(fam, 4);
    assert_int_equal(wf_bgp_check_prefix("2001:db8::/32", "cidr", &fam, &e), PF_OK);
    assert_int_equal(fam, 6);
    assert_int_equal(wf_bgp_check_prefix("0.0.0.0/0", "cidr", NULL, &e), PF_OK);
    assert_int_equal(wf_bgp_check_prefix("198.51.100.7/24", "cidr", &fam, &e), PF_EINVALID);
    assert_string_equal(e.code, "bad_cidr");
    assert_string_equal(e.field, "cidr");
    assert_int_equal(wf_bgp_check_prefix(NULL, "cidr", &fam, &e), PF_EINVALID);

    const char *bogon[] = {"0.0.0.0/0", "0.0.0.0/8", "0.1.0.0/16", "10.0.0.0/8", "10.255.255.0/24",
                           "100.64.0.0/10", "100.127.0.0/16", "127.0.0.1/32", "169.254.0.0/16",
                           "172.16.0.0/12", "172.31.0.0/16", "192.168.0.0/16", "192.168.1.0/24",
                           "224.0.0.0/4", "239.0.0.0/8", "240.0.0.0/4", "255.255.255.255/32",
                           "::/0", "::/8", "::1/128", "fc00::/7", "fd00::/8", "fe80::/10",
                           "febf::/16", "ff00::/8", "ff02::1/128"};
    for (size_t i = 0; i < sizeof bogon / sizeof bogon[0]; i++)
        if (!wf_bgp_prefix_is_bogon(bogon[i]))
            fail_msg("%s should be a bogon", bogon[i]);
    const char *fine[] = {"0.0.0.0/1", "0.0.0.0/7", "11.0.0.0/8", "100.128.0.0/10", "172.32.0.0/16",
                          "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15",
                          "2001:db8::/32", "::/1", "fe00::/9", "fec0::/10", "2000::/3",
                          "not a prefix", "10.0.0.1/8"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        if (wf_bgp_prefix_is_bogon(fine[i]))
            fail_msg("%s should not be a bogon", fine[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(daemon_names),     cmocka_unit_test(families),
        cmocka_unit_test(bird_structure),   cmocka_unit_test(frr_eos_families),
        cmocka_unit_test(junos_structure),  cmocka_unit_test(import_policy),
        cmocka_unit_test(export_policy),    cmocka_unit_test(odd_registrations),
        cmocka_unit_test(max_prefix_absent), cmocka_unit_test(no_secret),
        cmocka_unit_test(no_prefixes),      cmocka_unit_test(many_prefixes),
        cmocka_unit_test(hostile_names),    cmocka_unit_test(refusals),
        cmocka_unit_test(helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
