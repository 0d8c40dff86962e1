/* Integration tests of bandwidth caps (OpenFlow meters) and bundles on a
 * real Open vSwitch fabric (scripts/fabric.sh) and a real PostgreSQL
 * (tests/run.sh), issue 13:
 *
 *   fabric  s1 --(10:10)-- s2
 *           s1:1 ha1 10.3.0.1 (A a1)   s2:1 hb1 10.3.0.2 (B b1)   capped 20 Mbit/s
 *           s1:2 ha2 10.4.0.1 (A a2)   s2:2 hb2 10.4.0.2 (B b2)   uncapped
 *
 * A change of the capped circuit (workflow/changes.h) is applied while a
 * ping flood crosses it: not one ping is lost.
 *           fake: a test double of a switch without bundles (unix socket)
 *
 * A capped circuit gets a meter per end (tagged id, the cap, KBPS|BURST|
 * STATS) and its ingress flows name it; iperf3 TCP through it carries the
 * cap +-15 %, the uncapped circuit at least three times as much; the
 * reconciler re-adds a deleted meter, fixes a wrong rate, deletes an
 * orphan peerflow meter and leaves a foreign one; prov_meter_modify
 * re-rates in place without touching the flows; teardown removes flows
 * then meters and releases the ids; a bundle with one invalid flow leaves
 * the switch unchanged (a plain batch would not); a switch that refuses
 * bundles gets plain batches, logged once.
 *
 * The process forks at once: the child runs the tests, the parent always
 * removes the fabric afterwards (see test_provision.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/provision.h"
#include "provisioner/prov.h"
#include "tests/support/pgtest.h"
#include "workflow/admin.h"
#include "workflow/changes.h"
#include "workflow/requests.h"

static char fabdir[64], netns[32], root[1024];
static pgt_db db;
static prov_service *svc;
static long long capped_id, uncapped_id;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int n_log_lines;
static char last_log[600];

static void test_log(void *arg, const char *line)
{
    (void)arg;
    pthread_mutex_lock(&log_mu);
    n_log_lines++;
    snprintf(last_log, sizeof last_log, "%s", line);
    pthread_mutex_unlock(&log_mu);
}

/* ------------------------------------------------------------ helpers */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
}

/* The output of a shell command (static buffer). */
static const char *out_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *out_of(const char *fmt, ...)
{
    static char buf[16384];
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(buf, 1, sizeof buf - 1, p) : 0;
    buf[n] = '\0';
    if (p)
        pclose(p);
    return buf;
}

static void fab(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fab(const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (sh("bash '%s/scripts/fabric.sh' %s", root, args) != 0) {
        fprintf(stderr, "fabric.sh %s failed\n", args);
        exit(2);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void must(pf_kind k, const pf_err *err, const char *what)
{
    if (k != PF_OK)
        fail_msg("%s: %s", what, err->message);
}

static const char *state_of(long long id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT state FROM peering_requests WHERE id = %lld", id);
    return pgt_sql(&db, sql);
}

static void expect_state(long long id, const char *want, double secs)
{
    double end = now_s() + secs;
    while (now_s() < end && strcmp(state_of(id), want) != 0)
        usleep(50 * 1000);
    if (strcmp(state_of(id), want) != 0) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT coalesce(string_agg(kind || ':' || state || ':' || coalesce(last_error,''),"
                 " ' | '), '') FROM jobs WHERE request_id = %lld",
                 id);
        char st[64];
        snprintf(st, sizeof st, "%s", state_of(id));
        fail_msg("request %lld is %s, not %s (jobs: %s)", id, st, want, pgt_sql(&db, sql));
    }
}

static long long circuit_of(long long request_id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM circuits WHERE request_id = %lld",
             request_id);
    return atoll(pgt_sql(&db, sql));
}

static long long switch_id(const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id FROM switches WHERE name = '%s'", name);
    return atoll(pgt_sql(&db, sql));
}

/* The meter id of a circuit's end. */
static long long meter_of(long long circuit, char end)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(max(meter_id), 0) FROM circuit_meters WHERE circuit_id = %lld AND "
             "end_side = '%c'",
             circuit, end);
    return atoll(pgt_sql(&db, sql));
}

/* `ovs-ofctl dump-meters` of a switch, one meter per line
 * ("meter=ID kbps burst stats bands= type=drop rate=R burst_size=B"). */
static const char *meters(const char *sw)
{
    return out_of("ovs-ofctl -O OpenFlow13 dump-meters unix:%s/%s.mgmt | tail -n +2 | "
                  "sed '/^$/d' | paste -d' ' - - | sort",
                  fabdir, sw);
}

static const char *flows(const char *sw, unsigned long long cookie)
{
    return out_of("ovs-ofctl -O OpenFlow13 dump-flows unix:%s/%s.mgmt --no-stats "
                  "cookie=0x%llx/-1 | sed 's/^ *//' | sort",
                  fabdir, sw, cookie);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static long long request(const char *port, const char *peer_port, int mbps)
{
    wf_actor a = pgt_actor(&db, "admin@a.example");
    wf_submit_input in = {.port = port, .peer_asn = 64501, .peer_port = peer_port,
                          .bandwidth_mbps = mbps, .no_bgp_ipv4 = true, .no_bgp_ipv6 = true};
    long long id = 0;
    pf_err err = {0};
    must(wf_request_submit(&db.env, &a, &in, &id, &err), &err, "submit");
    wf_actor p = pgt_actor(&db, "admin@b.example");
    wf_decision_input d = {.port = peer_port};
    must(wf_request_approve(&db.env, &p, id, &d, &err), &err, "approve");
    return id;
}

/* Mbit/s of TCP from host `from` to `to_ip` (iperf3 server in host `to`). */
static double iperf(const char *from, const char *to, const char *to_ip)
{
    sh("bash '%s/scripts/fabric.sh' exec %s %s iperf3 -s -D -1 -p 5201 "
       "--pidfile %s/iperf-%s.pid >/dev/null 2>&1",
       root, fabdir, to, fabdir, to);
    usleep(300 * 1000);
    const char *o = out_of("bash '%s/scripts/fabric.sh' exec %s %s iperf3 -c %s -p 5201 -t 6 "
                           "-O 1 -J 2>/dev/null | jq -r '.end.sum_received.bits_per_second'",
                           root, fabdir, from, to_ip);
    double bps = atof(o);
    sh("kill $(cat %s/iperf-%s.pid 2>/dev/null) 2>/dev/null", fabdir, to);
    return bps / 1e6;
}

static void wait_reconciles(unsigned long before, double secs)
{
    double end = now_s() + secs;
    while (now_s() < end && prov_service_reconciles(svc) <= before)
        usleep(50 * 1000);
    assert_true(prov_service_reconciles(svc) > before);
}

/* ------------------------------------------------------------ world */

static void build_world(void)
{
    pgt_create(&db, "meters", false);
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    const char *ca[] = {"noc@a.example"}, *cb[] = {"peering@b.example"};
    wf_network_input na = {"64500", "Net A", "selective", ca, 1, false};
    wf_network_input nb = {"64501", "Net B", "selective", cb, 1, false};
    must(wf_network_add(&db.env, &op, &na, &id, &err), &err, "network A");
    must(wf_network_add(&db.env, &op, &nb, &id, &err), &err, "network B");
    const char *names[] = {"s1", "s2"};
    for (int i = 0; i < 2; i++) {
        char dpid[20], ep[128];
        snprintf(dpid, sizeof dpid, "%016x", i + 1);
        snprintf(ep, sizeof ep, "unix:%s/%s.sock", fabdir, names[i]);
        wf_switch_input s = {names[i], dpid, ep};
        must(wf_switch_add(&db.env, &op, &s, &id, &err), &err, "switch");
    }
    char ep[128];
    snprintf(ep, sizeof ep, "unix:%s/fake.sock", fabdir);
    wf_switch_input fake = {"fake", "00000000000000fe", ep};
    must(wf_switch_add(&db.env, &op, &fake, &id, &err), &err, "fake switch");
    must(wf_link_add(&db.env, &op, "s1:10", "s2:10", &id, &err), &err, "link");
    wf_port_input ports[] = {
        {"64500", "s1", "1", "a1", "access", NULL},
        {"64500", "s1", "2", "a2", "access", NULL},
        {"64501", "s2", "1", "b1", "access", NULL},
        {"64501", "s2", "2", "b2", "access", NULL},
    };
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        must(wf_port_add(&db.env, &op, &ports[i], &id, &err), &err, "port");
    wf_user_input users[] = {
        {"admin@a.example", "64500", "admin", NULL},
        {"admin@b.example", "64501", "admin", NULL},
    };
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
        must(wf_user_add(&db.env, &op, &users[i], &id, &err), &err, "user");
}

/* ------------------------------------------------ a switch without bundles
 *
 * Speaks just enough OpenFlow 1.3 through the codec: HELLO, FEATURES,
 * ECHO, BARRIER, empty flow stats and meter config replies, flow mods
 * taken silently, and every EXPERIMENTER message refused with
 * bad_request/bad_experimenter, as a switch without ONF extension 230
 * answers an OPEN_REQUEST. */

static int fake_listen_fd = -1;
static volatile int fake_stop;
static int fake_flow_mods, fake_experimenters;

static void fake_send(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w <= 0)
            return;
        b += w;
        n -= (size_t)w;
    }
}

static void fake_serve(int fd)
{
    static uint8_t in[1 << 17];
    uint8_t out[512];
    size_t have = 0, len;
    ofp_encode_hello(out, sizeof out, 1, 1u << OFP13_VERSION, &len, NULL);
    fake_send(fd, out, len);
    while (!fake_stop) {
        ssize_t r = read(fd, in + have, sizeof in - have);
        if (r <= 0)
            return;
        have += (size_t)r;
        size_t off = 0, mlen;
        while (ofp_frame_length(in + off, have - off, &mlen, NULL) == OFP_OK) {
            const uint8_t *m = in + off;
            struct ofp_msg_header h;
            ofp_decode_header(m, mlen, &h, NULL);
            uint16_t mp = 0;
            switch (h.type) {
            case OFPT_FEATURES_REQUEST: {
                struct ofp_features f = {.datapath_id = 0xfe, .n_tables = 254};
                ofp_encode_features_reply(out, sizeof out, h.xid, &f, &len, NULL);
                fake_send(fd, out, len);
                break;
            }
            case OFPT_ECHO_REQUEST:
                ofp_encode_echo_reply(out, sizeof out, h.xid, NULL, 0, &len, NULL);
                fake_send(fd, out, len);
                break;
            case OFPT_BARRIER_REQUEST:
                ofp_encode_barrier_reply(out, sizeof out, h.xid, &len, NULL);
                fake_send(fd, out, len);
                break;
            case OFPT_FLOW_MOD:
                __atomic_add_fetch(&fake_flow_mods, 1, __ATOMIC_SEQ_CST);
                break;
            case OFPT_ROLE_REQUEST: { /* grants any role (issue 17) */
                struct ofp_role role;
                if (ofp_decode_role_request(m, mlen, &role, NULL) == OFP_OK &&
                    ofp_encode_role_reply(out, sizeof out, h.xid, &role, &len, NULL) == OFP_OK)
                    fake_send(fd, out, len);
                break;
            }
            case OFPT_EXPERIMENTER:
                __atomic_add_fetch(&fake_experimenters, 1, __ATOMIC_SEQ_CST);
                ofp_encode_error(out, sizeof out, h.xid, OFPET_BAD_REQUEST,
                                 3 /* bad_experimenter */, m, mlen < 64 ? mlen : 64, &len,
                                 NULL);
                fake_send(fd, out, len);
                break;
            case OFPT_MULTIPART_REQUEST:
                ofp_decode_multipart_header(m, mlen, OFPT_MULTIPART_REQUEST, &mp, NULL, NULL);
                if (mp == OFPMP_FLOW)
                    ofp_encode_flow_stats_reply(out, sizeof out, h.xid, 0, NULL, 0, &len, NULL);
                else
                    ofp_encode_meter_config_reply(out, sizeof out, h.xid, 0, NULL, 0, &len,
                                                  NULL);
                fake_send(fd, out, len);
                break;
            default:
                break;
            }
            off += mlen;
        }
        memmove(in, in + off, have - off);
        have -= off;
    }
}

static void *fake_main(void *arg)
{
    (void)arg;
    while (!fake_stop) {
        int fd = accept(fake_listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        fake_serve(fd);
        close(fd);
    }
    return NULL;
}

/* ------------------------------------------------------------- tests */

static void capped_circuit_gets_meters_before_flows(void **state)
{
    (void)state;
    capped_id = request("a1", "b1", 20);
    uncapped_id = request("a2", "b2", 0);
    expect_state(capped_id, "active", 20);
    expect_state(uncapped_id, "active", 20);
    long long c = circuit_of(capped_id);
    long long ma = meter_of(c, 'a'), mb = meter_of(c, 'b');
    assert_true((ma & 0xffff0000LL) == 0x50460000LL);
    assert_true((mb & 0xffff0000LL) == 0x50460000LL);
    char want[256];
    snprintf(want, sizeof want,
             "meter=%lld kbps burst stats bands= type=drop rate=20000 burst_size=10000\n", ma);
    assert_string_equal(meters("s1"), want);
    snprintf(want, sizeof want,
             "meter=%lld kbps burst stats bands= type=drop rate=20000 burst_size=10000\n", mb);
    assert_string_equal(meters("s2"), want);
    /* the ingress flow names the meter; the egress one does not */
    const char *f = flows("s1", prov_cookie(c));
    snprintf(want, sizeof want, "in_port=1,vlan_tci=0x0000/0x1fff actions=meter:%lld,push_vlan", ma);
    if (strstr(f, want) == NULL || count_lines(f) != 2)
        fail_msg("s1 flows of the capped circuit:\n%s", f);
    assert_int_equal(strstr(strstr(f, "in_port=10"), "meter:") != NULL, 0);
    f = flows("s2", prov_cookie(c));
    snprintf(want, sizeof want, "in_port=1,vlan_tci=0x0000/0x1fff actions=meter:%lld,push_vlan", mb);
    if (strstr(f, want) == NULL)
        fail_msg("s2 flows of the capped circuit:\n%s", f);
    /* the uncapped circuit has none */
    assert_int_equal(meter_of(circuit_of(uncapped_id), 'a'), 0);
    assert_null(strstr(flows("s1", prov_cookie(circuit_of(uncapped_id))), "meter:"));
}

static void cap_holds_under_tcp(void **state)
{
    (void)state;
    /* TCP through the userspace fabric needs the hosts' transmit checksum
     * offload off (tests/e2e/routers.sh rt_tx_csum_off) */
    const char *hosts[] = {"ha1", "hb1", "ha2", "hb2"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(sh("bash -c 'source %s/tests/e2e/routers.sh && rt_tx_csum_off "
                            "%s-%s eth0'",
                            root, netns, hosts[i]),
                         0);
    double capped = iperf("ha1", "hb1", "10.3.0.2");
    double uncapped = iperf("ha2", "hb2", "10.4.0.2");
    printf("# iperf3 TCP: capped at 20 Mbit/s: %.1f Mbit/s; uncapped: %.1f Mbit/s\n", capped,
           uncapped);
    if (capped < 17.0 || capped > 23.0)
        fail_msg("the capped circuit carried %.1f Mbit/s, not 20 +-15%%", capped);
    if (uncapped < 3 * 20.0)
        fail_msg("the uncapped circuit carried %.1f Mbit/s, less than 3 x 20", uncapped);
}

static void reconcile_repairs_meters_and_leaves_foreign(void **state)
{
    (void)state;
    long long c = circuit_of(capped_id);
    long long ma = meter_of(c, 'a'), mb = meter_of(c, 'b');
    /* drift: s1 loses its meter (and with it the flow that uses it); s2's
     * rate is wrong; s1 holds an orphan peerflow meter and a foreign one */
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 del-meter unix:%s/s1.mgmt meter=%lld", fabdir,
                        ma),
                     0);
    assert_int_equal(count_lines(flows("s1", prov_cookie(c))), 1);
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 mod-meter unix:%s/s2.mgmt "
                        "'meter=%lld,kbps,burst,stats,bands=type=drop,rate=5000,burst_size=1000'",
                        fabdir, mb),
                     0);
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 add-meter unix:%s/s1.mgmt "
                        "'meter=%lld,kbps,bands=type=drop,rate=1000'",
                        fabdir, 0x5046ffffLL),
                     0);
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 add-meter unix:%s/s1.mgmt "
                        "'meter=7,kbps,bands=type=drop,rate=1000'",
                        fabdir),
                     0);
    unsigned long before = prov_service_reconciles(svc);
    prov_service_request_reconcile(svc, 0);
    wait_reconciles(before, 20);
    /* one pass may have started before the request: wait for a second */
    before = prov_service_reconciles(svc);
    prov_service_request_reconcile(svc, 0);
    wait_reconciles(before, 20);
    char want[256];
    snprintf(want, sizeof want,
             "meter=%lld kbps burst stats bands= type=drop rate=20000 burst_size=10000\n", ma);
    const char *m1 = meters("s1");
    if (strncmp(m1, want, strlen(want)) != 0 || strstr(m1, "\nmeter=7 ") == NULL ||
        count_lines(m1) != 2)
        fail_msg("meters of s1 after reconciliation:\n%s", m1); /* orphan gone, 7 kept */
    snprintf(want, sizeof want,
             "meter=%lld kbps burst stats bands= type=drop rate=20000 burst_size=10000\n", mb);
    assert_string_equal(meters("s2"), want);
    assert_int_equal(count_lines(flows("s1", prov_cookie(c))), 2);
    assert_true(atoi(pgt_sql(&db, "SELECT count(*) FROM audit_events WHERE action = "
                                  "'fabric.drift_repaired' AND after::text LIKE '%meters%'")) >= 2);
    sh("ovs-ofctl -O OpenFlow13 del-meter unix:%s/s1.mgmt meter=7", fabdir);
}

static void modify_rerates_in_place(void **state)
{
    (void)state;
    long long c = circuit_of(capped_id);
    long long ma = meter_of(c, 'a');
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE peering_requests SET bandwidth_mbps = 50 WHERE id = %lld",
             capped_id);
    pgt_sql(&db, sql);
    const char *before = out_of("ovs-ofctl -O OpenFlow13 dump-flows unix:%s/s1.mgmt "
                                "cookie=0x%llx/-1 | grep -o 'duration=[0-9]*' | sort | head -1",
                                fabdir, (unsigned long long)prov_cookie(c));
    double age = atof(strchr(before, '=') ? strchr(before, '=') + 1 : "0");
    prov_modify_report rep;
    pf_err err;
    db_conn *dc = db_connect_as(db.app_url, DB_ROLE_WORKER, &err);
    assert_non_null(dc);
    must(prov_meter_modify(prov_service_net(svc), dc, capped_id, 0, 3000, &rep, &err), &err,
         "modify");
    db_close(dc);
    assert_int_equal(rep.modified, 2);
    assert_int_equal(rep.bandwidth_mbps, 50);
    char want[256];
    snprintf(want, sizeof want,
             "meter=%lld kbps burst stats bands= type=drop rate=50000 burst_size=25000\n", ma);
    assert_string_equal(meters("s1"), want);
    /* the flows were not re-installed: their age goes on */
    const char *after = out_of("ovs-ofctl -O OpenFlow13 dump-flows unix:%s/s1.mgmt "
                               "cookie=0x%llx/-1 | grep -o 'duration=[0-9]*' | sort | head -1",
                               fabdir, (unsigned long long)prov_cookie(c));
    assert_true(atof(strchr(after, '=') ? strchr(after, '=') + 1 : "0") >= age);
    /* a change of the live circuit (workflow/changes.h): A asks, B
     * approves, the service's "modify" job applies it in place */
    wf_actor a = pgt_actor(&db, "admin@a.example"), b = pgt_actor(&db, "admin@b.example");
    wf_change_input ch = {.bandwidth_mbps = 30};
    long long change;
    /* a ping flood across the circuit while the change is applied: 1000
     * pings 5 ms apart (5 s), the change lands in the middle, none lost */
    sh("bash '%s/scripts/fabric.sh' exec %s ha1 ping -q -i 0.005 -c 1000 -W 1 10.3.0.2 "
       "> %s/flood.out 2>&1 &",
       root, fabdir, fabdir);
    usleep(1000 * 1000);
    must(wf_change_open(&db.env, &a, capped_id, &ch, &change, &err), &err, "ask");
    must(wf_change_decide(&db.env, &b, capped_id, change, true, NULL, &err), &err, "approve");
    snprintf(sql, sizeof sql, "SELECT state || ':' || coalesce(error, '') FROM request_changes "
                              "WHERE id = %lld",
             change);
    double end = now_s() + 15;
    while (now_s() < end && strncmp(pgt_sql(&db, sql), "applied", 7) != 0)
        usleep(50 * 1000);
    assert_string_equal(pgt_sql(&db, sql), "applied:");
    snprintf(sql, sizeof sql,
             "SELECT bandwidth_mbps || ' ' || (SELECT string_agg(state, ',') FROM jobs j WHERE "
             "j.request_id = r.id AND j.kind = 'modify') FROM peering_requests r WHERE id = %lld",
             capped_id);
    assert_string_equal(pgt_sql(&db, sql), "30 done");
    end = now_s() + 15;
    while (now_s() < end && atoi(out_of("grep -c 'packets transmitted' %s/flood.out", fabdir)) == 0)
        usleep(100 * 1000);
    const char *flood = out_of("grep 'packets transmitted' %s/flood.out", fabdir);
    printf("# ping flood across the change: %s", flood);
    if (strstr(flood, "1000 packets transmitted, 1000 received") == NULL)
        fail_msg("pings were lost while the change was applied: %s", flood);
    snprintf(want, sizeof want,
             "meter=%lld kbps burst stats bands= type=drop rate=30000 burst_size=15000\n", ma);
    assert_string_equal(meters("s1"), want);
    assert_string_equal(state_of(capped_id), "active");
    /* a cap cannot be added in place */
    dc = db_connect_as(db.app_url, DB_ROLE_WORKER, &err);
    assert_int_equal(prov_meter_modify(prov_service_net(svc), dc, uncapped_id, 10, 3000, &rep,
                                       &err),
                     PF_ECONFLICT);
    assert_string_equal(err.code, "cap_not_in_place");
    db_close(dc);
}

static void bundle_with_invalid_flow_changes_nothing(void **state)
{
    (void)state;
    long long s1 = switch_id("s1");
    struct ofp_flow mods[2];
    for (int i = 0; i < 2; i++) {
        ofp_flow_init(&mods[i]);
        mods[i].priority = 50;
        mods[i].cookie = 0x77;
        ofp_match_in_port(&mods[i].match, 30 + (uint32_t)i);
        ofp_flow_add_output(&mods[i], 31, 0);
    }
    /* the second names a meter the switch does not have */
    mods[1].has_meter = true;
    mods[1].meter_id = 999;
    prov_result res;
    assert_false(prov_net_batch(prov_service_net(svc), s1, mods, 2, 3000, &res));
    assert_false(res.unreachable);
    assert_int_equal(res.failed_index, 1);
    printf("# bundle refused: %s\n", res.message);
    assert_string_equal(flows("s1", 0x77), ""); /* the first did not land either */
    /* without a bundle the first one would have landed: the difference
     * the bundle makes */
    assert_false(prov_net_batch_plain(prov_service_net(svc), s1, mods, 2, 3000, &res));
    assert_int_equal(res.failed_index, 1);
    assert_int_equal(count_lines(flows("s1", 0x77)), 1);
    sh("ovs-ofctl -O OpenFlow13 del-flows unix:%s/s1.mgmt cookie=0x77/-1", fabdir);
    /* and a good bundle lands whole */
    mods[1].has_meter = false;
    assert_true(prov_net_batch(prov_service_net(svc), s1, mods, 2, 3000, &res));
    assert_int_equal(count_lines(flows("s1", 0x77)), 2);
    sh("ovs-ofctl -O OpenFlow13 del-flows unix:%s/s1.mgmt cookie=0x77/-1", fabdir);
    prov_net_stats st;
    prov_net_get_stats(prov_service_net(svc), s1, &st);
    assert_int_equal(st.bundle_fallbacks, 0);
}

static void switch_without_bundles_falls_back_logged_once(void **state)
{
    (void)state;
    long long fake = switch_id("fake");
    if (!prov_net_wait_connected(prov_service_net(svc), fake, 10000))
        fail_msg("the fake switch did not connect");
    int logs0 = n_log_lines;
    int mods0 = __atomic_load_n(&fake_flow_mods, __ATOMIC_SEQ_CST);
    struct ofp_flow mods[3];
    for (int i = 0; i < 3; i++) {
        ofp_flow_init(&mods[i]);
        mods[i].priority = 5;
        ofp_match_in_port(&mods[i].match, 1 + (uint32_t)i);
        ofp_flow_add_output(&mods[i], 9, 0);
    }
    prov_result res;
    for (int round = 0; round < 3; round++)
        if (!prov_net_batch(prov_service_net(svc), fake, mods, 3, 3000, &res))
            fail_msg("batch %d on a switch without bundles: %s", round, res.message);
    assert_int_equal(n_log_lines - logs0, 1);
    printf("# logged: %s\n", last_log);
    assert_non_null(strstr(last_log, "switch fake refused an OpenFlow bundle"));
    /* the first round only: its OPEN and three adds, all refused */
    assert_int_equal(__atomic_load_n(&fake_experimenters, __ATOMIC_SEQ_CST), 4);
    assert_int_equal(__atomic_load_n(&fake_flow_mods, __ATOMIC_SEQ_CST) - mods0, 9);
    prov_net_stats st;
    prov_net_get_stats(prov_service_net(svc), fake, &st);
    assert_int_equal(st.bundle_fallbacks, 1);
}

static void teardown_removes_flows_then_meters(void **state)
{
    (void)state;
    long long c = circuit_of(capped_id);
    wf_actor a = pgt_actor(&db, "admin@a.example");
    wf_decision_input d = {0};
    pf_err err = {0};
    must(wf_request_decommission(&db.env, &a, capped_id, &d, &err), &err, "decommission");
    expect_state(capped_id, "decommissioned", 20);
    assert_string_equal(flows("s1", prov_cookie(c)), "");
    assert_string_equal(meters("s1"), "");
    assert_string_equal(meters("s2"), "");
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM circuit_meters WHERE circuit_id = %lld", c);
    assert_string_equal(pgt_sql(&db, sql), "0");
    /* the uncapped circuit still carries traffic */
    assert_int_equal(sh("bash '%s/scripts/fabric.sh' exec %s ha2 ping -c 1 -W 2 10.4.0.2 "
                        ">/dev/null 2>&1",
                        root, fabdir),
                     0);
}

static int run_all(void)
{
    fab("up %s %s", fabdir, netns);
    fab("switch %s s1 0000000000000001", fabdir);
    fab("switch %s s2 0000000000000002", fabdir);
    fab("link %s s1 10 s2 10", fabdir);
    fab("host %s ha1 s1 1 10.3.0.1/24", fabdir);
    fab("host %s ha2 s1 2 10.4.0.1/24", fabdir);
    fab("host %s hb1 s2 1 10.3.0.2/24", fabdir);
    fab("host %s hb2 s2 2 10.4.0.2/24", fabdir);
    /* the fake switch listens on a unix socket the provisioner connects to */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/fake.sock", fabdir);
    fake_listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fake_listen_fd < 0 || bind(fake_listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(fake_listen_fd, 4) != 0) {
        fprintf(stderr, "fake switch: cannot listen on %s\n", sa.sun_path);
        return 1;
    }
    pthread_t fake_thread;
    pthread_create(&fake_thread, NULL, fake_main, NULL);
    build_world();
    static char listen_on[128];
    snprintf(listen_on, sizeof listen_on, "unix:%s/pf.sock", fabdir);
    prov_config cfg = {.database_url = db.app_url,
                       .openflow_listen = listen_on,
                       .base_url = "http://peerflow.test",
                       .mail_domain = "peerflow.test",
                       .workers = 2,
                       .poll_ms = 50,
                       .lease_s = 30,
                       .barrier_timeout_ms = 3000,
                       .unreachable_fail_ms = 60000,
                       .retry_max_ms = 500,
                       .reconcile_interval_ms = 600000,
                       .echo_interval_ms = 1000,
                       .dead_after_ms = 4000,
                       .backoff_max_ms = 300,
                       .refresh_ms = 300,
                       .log = test_log};
    pf_err err;
    svc = prov_service_start(&cfg, &err);
    if (svc == NULL) {
        fprintf(stderr, "provisioner: %s\n", err.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capped_circuit_gets_meters_before_flows),
        cmocka_unit_test(cap_holds_under_tcp),
        cmocka_unit_test(reconcile_repairs_meters_and_leaves_foreign),
        cmocka_unit_test(modify_rerates_in_place),
        cmocka_unit_test(bundle_with_invalid_flow_changes_nothing),
        cmocka_unit_test(switch_without_bundles_falls_back_logged_once),
        cmocka_unit_test(teardown_removes_flows_then_meters),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    prov_service_stop(svc);
    fake_stop = 1;
    shutdown(fake_listen_fd, SHUT_RDWR);
    close(fake_listen_fd);
    pthread_join(fake_thread, NULL);
    pgt_drop(&db);
    return rc;
}

static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

int main(void)
{
    if (geteuid() != 0 || system("command -v ovs-vswitchd >/dev/null 2>&1") != 0 ||
        system("command -v iperf3 >/dev/null 2>&1") != 0) {
        printf("skipped: needs root, Open vSwitch and iperf3\n");
        return 77;
    }
    const char *r = getenv("PEERFLOW_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    snprintf(fabdir, sizeof fabdir, "/tmp/pfm.%d", (int)getpid());
    snprintf(netns, sizeof netns, "pfm%d", (int)getpid());
    fflush(stdout);
    child = fork();
    if (child < 0)
        return 2;
    if (child == 0)
        exit(run_all());
    struct sigaction sa = {.sa_handler = forward};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
    }
    sh("bash '%s/scripts/fabric.sh' down %s", root, fabdir);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "test process died of signal %d\n", WTERMSIG(status));
    return 1;
}
