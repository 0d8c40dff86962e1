/* Integration tests of the provisioner against a real Open vSwitch fabric
 * (scripts/fabric.sh) and a real PostgreSQL (tests/run.sh):
 *
 *   fabric  s1 --(10:10)-- s2 --(11:10)-- s3      (line of three)
 *           s1:1 ha1  10.1.0.1   access  (A a1)
 *           s1:2 hat  eth0.100 10.2.0.1  trunk (A a-trunk)
 *           s1:3 hbs  10.1.0.2   access  (B b-same: same-switch peer)
 *           s3:1 hb1  10.1.0.3   access  (B b1)
 *           s3:2 hct  eth0.200 10.2.0.3, eth0.300 10.1.0.4  trunk (C c-trunk)
 *
 * Each circuit kind installs exactly the expected flows (ovs-ofctl
 * dump-flows), becomes active only after every switch's barrier, carries
 * pings while active and not before or after; teardown removes exactly
 * its flows; an OpenFlow error fails the circuit with that error; a switch
 * stopped mid-provision delays activation until it returns; reconcile
 * repairs del-flows and leaves a foreign flow alone; concurrent workers
 * never provision a circuit twice; version negotiation refuses a 1.0-only
 * switch; a switch that connects to the provisioner's listener works.
 *
 * The process forks at once: the child runs the tests, the parent waits
 * and then always removes the fabric (processes, namespaces, veths, dir),
 * also when the child dies of a sanitizer report or a signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <poll.h>
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
#include "workflow/requests.h"

static char fabdir[64], netns[32], root[1024];
static pgt_db db;
static prov_service *svc;

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

static bool wait_state(long long id, const char *want, double secs)
{
    double end = now_s() + secs;
    while (now_s() < end) {
        if (strcmp(state_of(id), want) == 0)
            return true;
        usleep(50 * 1000);
    }
    return strcmp(state_of(id), want) == 0;
}

static void expect_state(long long id, const char *want, double secs)
{
    if (!wait_state(id, want, secs)) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT coalesce(string_agg(kind || ':' || state || ':' || coalesce(last_error,''),"
                 " ' | '), '') FROM jobs WHERE request_id = %lld",
                 id);
        char st[64];
        snprintf(st, sizeof st, "%s", state_of(id));
        fail_msg("request %lld is %s, not %s, after %.0f s (jobs: %s)", id, st, want, secs,
                 pgt_sql(&db, sql));
    }
}

/* Submits from A's admin and has the peer's admin approve: approved. */
static long long request(const char *port, int vlan, long long peer_asn, const char *peer_port,
                         int peer_vlan)
{
    wf_actor a = pgt_actor(&db, "admin@a.example");
    wf_submit_input in = {.port = port, .vlan = vlan, .peer_asn = peer_asn,
                          .peer_port = peer_port, .peer_vlan = peer_vlan};
    long long id = 0;
    pf_err err = {0};
    must(wf_request_submit(&db.env, &a, &in, &id, &err), &err, "submit");
    return id;
}

static void approve(long long id, const char *peer_admin, const char *peer_port, int vlan)
{
    wf_actor p = pgt_actor(&db, peer_admin);
    wf_decision_input d = {.port = peer_port, .vlan = vlan};
    pf_err err = {0};
    must(wf_request_approve(&db.env, &p, id, &d, &err), &err, "approve");
}

static void decommission(long long id)
{
    wf_actor a = pgt_actor(&db, "admin@a.example");
    wf_decision_input d = {0};
    pf_err err = {0};
    must(wf_request_decommission(&db.env, &a, id, &d, &err), &err, "decommission");
}

static long long circuit_of(long long request_id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM circuits WHERE request_id = %lld",
             request_id);
    return atoll(pgt_sql(&db, sql));
}

static int link_vlan(long long circuit, int link_index)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(max(v.vlan), 0) FROM link_vlans v JOIN links l ON l.id = v.link_id"
             " WHERE v.circuit_id = %lld AND l.id = (SELECT id FROM links ORDER BY id"
             " OFFSET %d LIMIT 1)",
             circuit, link_index);
    return atoi(pgt_sql(&db, sql));
}

/* The flows of a switch with a cookie (or every flow when cookie is 0),
 * as ovs-ofctl prints them without statistics, sorted, one per line. */
static void dump(const char *sw, unsigned long long cookie, char *out, size_t cap)
{
    char cmd[1024];
    if (cookie)
        snprintf(cmd, sizeof cmd,
                 "ovs-ofctl -O OpenFlow13 dump-flows unix:%s/%s.mgmt --no-stats "
                 "cookie=0x%llx/-1 | sed 's/^ *//' | sort",
                 fabdir, sw, cookie);
    else
        snprintf(cmd, sizeof cmd,
                 "ovs-ofctl -O OpenFlow13 dump-flows unix:%s/%s.mgmt --no-stats | sed 's/^ *//' "
                 "| sort",
                 fabdir, sw);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    pclose(p);
}

/* Checks that switch sw holds exactly the lines given (sorted by caller
 * or not: both sides are sorted here) under the circuit's cookie. */
static void expect_flows(const char *sw, long long circuit, int n, ...)
{
    char want[16][512];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        snprintf(want[i], sizeof want[i], "cookie=0x%llx, %s",
                 (unsigned long long)prov_cookie(circuit), va_arg(ap, const char *));
    va_end(ap);
    qsort(want, (size_t)n, sizeof want[0], (int (*)(const void *, const void *))strcmp);
    char expect[8192] = "";
    for (int i = 0; i < n; i++) {
        strcat(expect, want[i]);
        strcat(expect, "\n");
    }
    /* sort(1) and strcmp may order differently: compare as sets by
     * re-sorting the expectation with sort(1) too */
    char tmp[] = "/tmp/pf-expect-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, expect, strlen(expect)), (ssize_t)strlen(expect));
    close(fd);
    char cmd[256], sorted[8192];
    snprintf(cmd, sizeof cmd, "sort %s", tmp);
    FILE *p = popen(cmd, "r");
    size_t len = fread(sorted, 1, sizeof sorted - 1, p);
    sorted[len] = '\0';
    pclose(p);
    unlink(tmp);
    char got[8192];
    dump(sw, prov_cookie(circuit), got, sizeof got);
    if (strcmp(got, sorted) != 0)
        fail_msg("flows of circuit %lld on %s:\n--- want\n%s--- got\n%s", circuit, sw, sorted,
                 got);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ping from a member host; true when an answer came back */
static bool ping(const char *host, const char *ip)
{
    return sh("bash '%s/scripts/fabric.sh' exec %s %s ping -c 1 -W 1 %s >/dev/null 2>&1", root,
              fabdir, host, ip) == 0;
}

static bool ping_eventually(const char *host, const char *ip)
{
    for (int i = 0; i < 5; i++)
        if (ping(host, ip))
            return true;
    return false;
}

static void teardown_and_check(long long id, const char **switches, int n_sw)
{
    long long c = circuit_of(id);
    decommission(id);
    expect_state(id, "decommissioned", 15);
    char got[4096];
    for (int i = 0; i < n_sw; i++) {
        dump(switches[i], prov_cookie(c), got, sizeof got);
        if (got[0])
            fail_msg("flows left on %s after teardown: %s", switches[i], got);
    }
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM link_vlans WHERE circuit_id = %lld", c);
    assert_string_equal(pgt_sql(&db, sql), "0");
    snprintf(sql, sizeof sql, "SELECT state FROM circuits WHERE id = %lld", c);
    assert_string_equal(pgt_sql(&db, sql), "removed");
}

/* ------------------------------------------------------------ world */

static void build_world(void)
{
    pgt_create(&db, "provision", false);
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    const char *ca[] = {"noc@a.example"}, *cb[] = {"peering@b.example"},
               *cc[] = {"peering@c.example"};
    wf_network_input na = {"64500", "Net A", "selective", ca, 1, false};
    wf_network_input nb = {"64501", "Net B", "selective", cb, 1, false};
    wf_network_input nc = {"64502", "Net C", "selective", cc, 1, false};
    must(wf_network_add(&db.env, &op, &na, &id, &err), &err, "network A");
    must(wf_network_add(&db.env, &op, &nb, &id, &err), &err, "network B");
    must(wf_network_add(&db.env, &op, &nc, &id, &err), &err, "network C");
    const char *names[] = {"s1", "s2", "s3"};
    for (int i = 0; i < 3; i++) {
        char dpid[20], ep[128];
        snprintf(dpid, sizeof dpid, "%016x", i + 1);
        snprintf(ep, sizeof ep, "unix:%s/%s.sock", fabdir, names[i]);
        wf_switch_input s = {names[i], dpid, ep};
        must(wf_switch_add(&db.env, &op, &s, &id, &err), &err, "switch");
    }
    must(wf_link_add(&db.env, &op, "s1:10", "s2:10", &id, &err), &err, "link 1");
    must(wf_link_add(&db.env, &op, "s2:11", "s3:10", &id, &err), &err, "link 2");
    wf_port_input ports[] = {
        {"64500", "s1", "1", "a1", "access", NULL},
        {"64500", "s1", "2", "a-trunk", "trunk", NULL},
        {"64501", "s1", "3", "b-same", "access", NULL},
        {"64501", "s3", "1", "b1", "access", NULL},
        {"64501", "s1", "70000", "b-bad", "access", NULL},
        {"64502", "s3", "2", "c-trunk", "trunk", NULL},
    };
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        must(wf_port_add(&db.env, &op, &ports[i], &id, &err), &err, "port");
    wf_user_input users[] = {
        {"admin@a.example", "64500", "admin", NULL},
        {"admin@b.example", "64501", "admin", NULL},
        {"admin@c.example", "64502", "admin", NULL},
    };
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
        must(wf_user_add(&db.env, &op, &users[i], &id, &err), &err, "user");
}

static prov_config test_config(int workers)
{
    static char listen[128];
    snprintf(listen, sizeof listen, "unix:%s/pf.sock", fabdir);
    return (prov_config){.database_url = db.app_url,
                         .openflow_listen = listen,
                         .base_url = "http://peerflow.test",
                         .mail_domain = "peerflow.test",
                         .workers = workers,
                         .poll_ms = 50,
                         .lease_s = 30,
                         .barrier_timeout_ms = 3000,
                         .unreachable_fail_ms = 60000,
                         .retry_max_ms = 500,
                         .reconcile_interval_ms = 600000,
                         .echo_interval_ms = 1000,
                         .dead_after_ms = 4000,
                         .backoff_max_ms = 300,
                         .refresh_ms = 300};
}

static void wait_connected(const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id FROM switches WHERE name = '%s'", name);
    long long id = atoll(pgt_sql(&db, sql));
    if (!prov_net_wait_connected(prov_service_net(svc), id, 10000))
        fail_msg("switch %s did not connect", name);
}

/* ------------------------------------------------------------- tests */

static void connect_installs_table_miss_and_records_state(void **state)
{
    (void)state;
    wait_connected("s1");
    wait_connected("s2");
    wait_connected("s3");
    /* the reconciliation on connect installs the table-miss (drop) flow */
    char got[4096];
    double end = now_s() + 10;
    do {
        dump("s2", prov_cookie(0), got, sizeof got);
        if (got[0])
            break;
        usleep(100 * 1000);
    } while (now_s() < end);
    assert_string_equal(got, "cookie=0x5046000000000000, priority=0 actions=drop\n");
    end = now_s() + 5;
    while (now_s() < end &&
           strcmp(pgt_sql(&db, "SELECT count(*) FROM switches WHERE conn_state = 'connected'"
                               " AND conn_changed_at IS NOT NULL AND conn_error IS NULL"),
                  "3") != 0)
        usleep(100 * 1000);
    assert_string_equal(
        pgt_sql(&db, "SELECT count(*) FROM switches WHERE conn_state = 'connected'"
                     " AND conn_changed_at IS NOT NULL AND conn_error IS NULL"),
        "3");
}

static void same_switch_access_access(void **state)
{
    (void)state;
    long long id = request("a1", 0, 64501, "b-same", 0);
    assert_false(ping("ha1", "10.1.0.2")); /* nothing before the circuit */
    approve(id, "admin@b.example", "b-same", 0);
    expect_state(id, "active", 15);
    long long c = circuit_of(id);
    expect_flows("s1", c, 2, "priority=1000,in_port=1,vlan_tci=0x0000/0x1fff actions=output:3",
                 "priority=1000,in_port=3,vlan_tci=0x0000/0x1fff actions=output:1");
    char got[4096];
    dump("s2", prov_cookie(c), got, sizeof got);
    assert_string_equal(got, "");
    assert_string_equal(pgt_sql(&db, "SELECT count(*) FROM flows"), "2");
    assert_true(ping_eventually("ha1", "10.1.0.2"));
    const char *sws[] = {"s1", "s2", "s3"};
    teardown_and_check(id, sws, 3);
    assert_false(ping("ha1", "10.1.0.2"));
}

static void line_access_access_with_data_plane(void **state)
{
    (void)state;
    long long id = request("a1", 0, 64501, "b1", 0);
    assert_false(ping("ha1", "10.1.0.3")); /* pending: no circuit yet */
    approve(id, "admin@b.example", "b1", 0);
    expect_state(id, "active", 15);
    long long c = circuit_of(id);
    int v1 = link_vlan(c, 0), v2 = link_vlan(c, 1);
    assert_true(v1 >= 2 && v2 >= 2);
    char f[8][256];
    snprintf(f[0], 256,
             "priority=1000,in_port=1,vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,"
             "set_field:%d->vlan_vid,output:10",
             4096 + v1);
    snprintf(f[1], 256, "priority=1000,in_port=10,dl_vlan=%d actions=pop_vlan,output:1", v1);
    expect_flows("s1", c, 2, f[0], f[1]);
    /* transit: trunk to trunk, transport VLAN rewritten per link when they differ */
    if (v1 == v2) {
        snprintf(f[2], 256, "priority=1000,in_port=10,dl_vlan=%d actions=output:11", v1);
        snprintf(f[3], 256, "priority=1000,in_port=11,dl_vlan=%d actions=output:10", v2);
    } else {
        snprintf(f[2], 256,
                 "priority=1000,in_port=10,dl_vlan=%d actions=set_field:%d->vlan_vid,output:11",
                 v1, 4096 + v2);
        snprintf(f[3], 256,
                 "priority=1000,in_port=11,dl_vlan=%d actions=set_field:%d->vlan_vid,output:10",
                 v2, 4096 + v1);
    }
    expect_flows("s2", c, 2, f[2], f[3]);
    snprintf(f[4], 256, "priority=1000,in_port=10,dl_vlan=%d actions=pop_vlan,output:1", v2);
    snprintf(f[5], 256,
             "priority=1000,in_port=1,vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,"
             "set_field:%d->vlan_vid,output:10",
             4096 + v2);
    expect_flows("s3", c, 2, f[4], f[5]);
    /* the path and the flows were written to the database */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT jsonb_array_length(path) || '/' || (SELECT count(*) FROM flows WHERE "
             "circuit_id = %lld) || '/' || state FROM circuits WHERE id = %lld",
             c, c);
    assert_string_equal(pgt_sql(&db, sql), "3/6/installed");
    assert_true(ping_eventually("ha1", "10.1.0.3"));
    assert_true(ping_eventually("hb1", "10.1.0.1"));
    const char *sws[] = {"s1", "s2", "s3"};
    teardown_and_check(id, sws, 3);
    assert_false(ping("ha1", "10.1.0.3"));
}

static void line_access_trunk(void **state)
{
    (void)state;
    long long id = request("a1", 0, 64502, "c-trunk", 300);
    approve(id, "admin@c.example", "c-trunk", 300);
    expect_state(id, "active", 15);
    long long c = circuit_of(id);
    int v1 = link_vlan(c, 0), v2 = link_vlan(c, 1);
    char f[4][256];
    snprintf(f[0], 256,
             "priority=1000,in_port=10,dl_vlan=%d actions=set_field:4396->vlan_vid,output:2", v2);
    snprintf(f[1], 256,
             "priority=1000,in_port=2,dl_vlan=300 actions=set_field:%d->vlan_vid,output:10",
             4096 + v2);
    expect_flows("s3", c, 2, f[0], f[1]);
    snprintf(f[2], 256,
             "priority=1000,in_port=1,vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,"
             "set_field:%d->vlan_vid,output:10",
             4096 + v1);
    snprintf(f[3], 256, "priority=1000,in_port=10,dl_vlan=%d actions=pop_vlan,output:1", v1);
    expect_flows("s1", c, 2, f[2], f[3]);
    assert_true(ping_eventually("ha1", "10.1.0.4"));
    const char *sws[] = {"s1", "s2", "s3"};
    teardown_and_check(id, sws, 3);
    assert_false(ping("ha1", "10.1.0.4"));
}

static void line_trunk_trunk_translation(void **state)
{
    (void)state;
    long long id = request("a-trunk", 100, 64502, "c-trunk", 200);
    approve(id, "admin@c.example", "c-trunk", 200);
    expect_state(id, "active", 15);
    long long c = circuit_of(id);
    int v1 = link_vlan(c, 0), v2 = link_vlan(c, 1);
    char f[4][256];
    snprintf(f[0], 256,
             "priority=1000,in_port=2,dl_vlan=100 actions=set_field:%d->vlan_vid,output:10",
             4096 + v1);
    snprintf(f[1], 256,
             "priority=1000,in_port=10,dl_vlan=%d actions=set_field:4196->vlan_vid,output:2", v1);
    expect_flows("s1", c, 2, f[0], f[1]);
    snprintf(f[2], 256,
             "priority=1000,in_port=10,dl_vlan=%d actions=set_field:4296->vlan_vid,output:2", v2);
    snprintf(f[3], 256,
             "priority=1000,in_port=2,dl_vlan=200 actions=set_field:%d->vlan_vid,output:10",
             4096 + v2);
    expect_flows("s3", c, 2, f[2], f[3]);
    assert_true(ping_eventually("hat", "10.2.0.3"));
    const char *sws[] = {"s1", "s2", "s3"};
    teardown_and_check(id, sws, 3);
    assert_false(ping("hat", "10.2.0.3"));
}

static void openflow_error_fails_the_circuit(void **state)
{
    (void)state;
    /* b-bad is OpenFlow port 70000: valid in OpenFlow 1.3, but beyond what
     * Open vSwitch supports, so the switch refuses the flow mod */
    long long id = request("a1", 0, 64501, "b-bad", 0);
    approve(id, "admin@b.example", "b-bad", 0);
    expect_state(id, "failed", 15);
    long long c = circuit_of(id);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT state || ' ' || coalesce(error, '') FROM circuits WHERE id = %lld", c);
    char e[1024];
    snprintf(e, sizeof e, "%s", pgt_sql(&db, sql));
    if (strncmp(e, "failed switch s1 refused flow", 29) != 0 || strstr(e, "(type ") == NULL ||
        strstr(e, "70000") == NULL)
        fail_msg("circuit error not as expected: %s", e);
    /* the request's audit trail carries the error too */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_events WHERE request_id = %lld AND after::text LIKE "
             "'%%refused flow%%'",
             id);
    assert_string_equal(pgt_sql(&db, sql), "1");
    /* nothing of it stays on the switch */
    char got[2048];
    dump("s1", prov_cookie(c), got, sizeof got);
    assert_string_equal(got, "");
    snprintf(sql, sizeof sql, "SELECT state FROM jobs WHERE request_id = %lld AND kind = 'provision'", id);
    assert_string_equal(pgt_sql(&db, sql), "failed");
    printf("# circuit error: %s\n", e);
    /* the operator fixes the port and retries: a fresh plan, active */
    pgt_sql(&db, "UPDATE ports SET ofport = 5 WHERE name = 'b-bad'");
    wf_actor op = wf_actor_cli();
    pf_err err = {0};
    must(wf_request_provision_event(&db.env, &op, id, WF_EV_RETRY, NULL, &err), &err, "retry");
    expect_state(id, "active", 15);
    expect_flows("s1", c, 2, "priority=1000,in_port=1,vlan_tci=0x0000/0x1fff actions=output:5",
                 "priority=1000,in_port=5,vlan_tci=0x0000/0x1fff actions=output:1");
    snprintf(sql, sizeof sql, "SELECT state || '/' || coalesce(error, '-') || '/' || attempts FROM circuits WHERE id = %lld", c);
    assert_string_equal(pgt_sql(&db, sql), "installed/-/2");
    const char *sws[] = {"s1"};
    teardown_and_check(id, sws, 1);
    pgt_sql(&db, "UPDATE ports SET ofport = 70000 WHERE name = 'b-bad'");
}

/* A switch that stays unreachable fails the circuit after the deadline
 * (the job's age is moved back instead of waiting for it). */
static void unreachable_switch_fails_after_deadline(void **state)
{
    (void)state;
    static bool once;
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    if (!once) {
        char ep[128];
        snprintf(ep, sizeof ep, "unix:%s/nowhere.sock", fabdir);
        wf_switch_input s = {"s5", "0000000000000005", ep};
        must(wf_switch_add(&db.env, &op, &s, &id, &err), &err, "switch s5");
        must(wf_link_add(&db.env, &op, "s1:12", "s5:10", &id, &err), &err, "link s1-s5");
        wf_port_input port = {"64501", "s5", "1", "b-far", "access", NULL};
        must(wf_port_add(&db.env, &op, &port, &id, &err), &err, "port b-far");
        once = true;
    }
    long long rid = request("a1", 0, 64501, "b-far", 0);
    /* hold the job back until its age is past the deadline */
    pgt_sql(&db, "UPDATE jobs SET run_after = now() + interval '1 hour' WHERE state = 'queued'");
    approve(rid, "admin@b.example", "b-far", 0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE jobs SET created_at = now() - interval '1 hour', run_after = now()"
             " WHERE request_id = %lld",
             rid);
    pgt_sql(&db, sql);
    expect_state(rid, "failed", 15);
    long long c = circuit_of(rid);
    snprintf(sql, sizeof sql, "SELECT coalesce(error, '') FROM circuits WHERE id = %lld", c);
    const char *e = pgt_sql(&db, sql);
    if (strstr(e, "gave up after") == NULL || strstr(e, "s5 unreachable") == NULL)
        fail_msg("circuit error: %s", e);
    printf("# %s\n", e);
    /* s1 got nothing left behind */
    char got[1024];
    dump("s1", prov_cookie(c), got, sizeof got);
    assert_string_equal(got, "");
    /* teardown with s5 still unreachable: also given up after the
     * deadline, removed in the database (reconcile cleans s5 on return) */
    decommission(rid);
    snprintf(sql, sizeof sql,
             "UPDATE jobs SET created_at = now() - interval '1 hour' WHERE request_id = %lld"
             " AND kind = 'teardown'",
             rid);
    pgt_sql(&db, sql);
    expect_state(rid, "decommissioned", 15);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM link_vlans WHERE circuit_id = %lld", c);
    assert_string_equal(pgt_sql(&db, sql), "0");
    /* s5 stays registered but as a switch that connects to us: it must not
     * make later whole-fabric reconciles report an unreachable switch */
    pgt_sql(&db, "UPDATE switches SET endpoint = NULL WHERE name = 's5'");
}

static void switch_down_mid_provision_then_active(void **state)
{
    (void)state;
    long long id = request("a1", 0, 64501, "b1", 0);
    fab("stop-switchd %s", fabdir);
    approve(id, "admin@b.example", "b1", 0);
    expect_state(id, "provisioning", 10);
    sleep(2);
    assert_string_equal(state_of(id), "provisioning");
    assert_string_equal(pgt_sql(&db, "SELECT conn_state FROM switches WHERE name = 's2'"),
                        "disconnected");
    assert_true(pgt_sql(&db, "SELECT conn_error FROM switches WHERE name = 's2'")[0] != '\0');
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(last_error, '') FROM jobs WHERE request_id = %lld AND kind = "
             "'provision'",
             id);
    assert_non_null(strstr(pgt_sql(&db, sql), "unreachable"));
    fab("start-switchd %s", fabdir);
    expect_state(id, "active", 20);
    long long c = circuit_of(id);
    char got[4096];
    dump("s2", prov_cookie(c), got, sizeof got);
    assert_int_equal(count_lines(got), 2);
    dump("s2", prov_cookie(0), got, sizeof got);
    assert_int_equal(count_lines(got), 1); /* table-miss back after the restart */
    assert_true(ping_eventually("ha1", "10.1.0.3"));
    const char *sws[] = {"s1", "s2", "s3"};
    teardown_and_check(id, sws, 3);
}

static void reconcile_repairs_drift_and_leaves_foreign_flows(void **state)
{
    (void)state;
    long long id = request("a1", 0, 64501, "b1", 0);
    approve(id, "admin@b.example", "b1", 0);
    expect_state(id, "active", 15);
    long long c = circuit_of(id);
    assert_true(ping_eventually("ha1", "10.1.0.3"));
    /* drift: s2 loses every flow; s1 gets a foreign flow and a stray flow
     * with peerflow's tag (a circuit that no longer exists) */
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 del-flows unix:%s/s2.mgmt", fabdir), 0);
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 add-flow unix:%s/s1.mgmt "
                        "'cookie=0x1234,priority=5,in_port=7,actions=drop'",
                        fabdir),
                     0);
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 add-flow unix:%s/s1.mgmt "
                        "'cookie=0x504600000000abcd,priority=1000,in_port=8,actions=output:1'",
                        fabdir),
                     0);
    assert_false(ping("ha1", "10.1.0.3"));
    char before[4096];
    dump("s3", 0, before, sizeof before);
    sleep(1);
    /* the CLI, a process of its own */
    char out[2048];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "PEERFLOW_DATABASE_URL='%s' '%s' reconcile 2>&1", db.app_url,
             getenv("PEERFLOW_BIN"));
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    if (rc != 0 || strstr(out, "reconciled 3 switches") == NULL ||
        strstr(out, " 3 added") == NULL || strstr(out, "1 removed") == NULL ||
        strstr(out, "1 foreign left alone") == NULL)
        fail_msg("peerflow reconcile: rc %d, output: %s", rc, out);
    printf("# %s", out);
    char got[4096];
    dump("s2", prov_cookie(c), got, sizeof got);
    assert_int_equal(count_lines(got), 2);
    dump("s2", prov_cookie(0), got, sizeof got);
    assert_int_equal(count_lines(got), 1);
    dump("s1", 0x1234, got, sizeof got);
    assert_int_equal(count_lines(got), 1); /* foreign: left alone */
    dump("s1", 0x504600000000abcdULL, got, sizeof got);
    assert_string_equal(got, ""); /* ours but not desired: removed */
    /* the flows that were right were not touched: same text, and still
     * the flows installed before (their age did not restart) */
    char after[4096];
    dump("s3", 0, after, sizeof after);
    assert_string_equal(before, after);
    snprintf(cmd, sizeof cmd,
             "ovs-ofctl -O OpenFlow13 dump-flows unix:%s/s3.mgmt cookie=0x%llx/-1 | "
             "grep -o 'duration=[0-9.]*' | cut -d= -f2 | sort -n | head -1",
             fabdir, (unsigned long long)prov_cookie(c));
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    assert_true(atof(out) >= 1.0);
    assert_true(ping_eventually("ha1", "10.1.0.3"));
    /* audited */
    assert_true(atoi(pgt_sql(&db, "SELECT count(*) FROM audit_events WHERE action = "
                                  "'fabric.drift_repaired' AND actor_label = 'cli'")) >= 2);
    /* a second run finds nothing to do */
    snprintf(cmd, sizeof cmd, "PEERFLOW_DATABASE_URL='%s' '%s' reconcile --switch s2 2>&1",
             db.app_url, getenv("PEERFLOW_BIN"));
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    rc = pclose(p);
    if (rc != 0 || strstr(out, "reconciled 1 switch ") == NULL || strstr(out, " 0 added") == NULL ||
        strstr(out, "3 unchanged") == NULL)
        fail_msg("second reconcile: rc %d, output: %s", rc, out);
    /* an unknown switch is a clear error */
    snprintf(cmd, sizeof cmd,
             "PEERFLOW_DATABASE_URL='%s' '%s' reconcile --switch nope >/dev/null 2>&1",
             db.app_url, getenv("PEERFLOW_BIN"));
    assert_int_equal(WEXITSTATUS(system(cmd)), 3);
    /* the service's own reconciler repairs too (what runs on connect and
     * periodically) */
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 del-flows unix:%s/s3.mgmt", fabdir), 0);
    unsigned long r0 = prov_service_reconciles(svc);
    prov_service_request_reconcile(svc, 0);
    double end = now_s() + 10;
    while (prov_service_reconciles(svc) < r0 + 3 && now_s() < end)
        usleep(50 * 1000);
    dump("s3", prov_cookie(c), got, sizeof got);
    assert_int_equal(count_lines(got), 2);
    assert_true(ping_eventually("ha1", "10.1.0.3"));
    const char *sws[] = {"s1", "s2", "s3"};
    teardown_and_check(id, sws, 3);
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 del-flows unix:%s/s1.mgmt cookie=0x1234/-1", fabdir), 0);
}

/* Several services with several workers each, many requests at once:
 * every request goes through provisioning exactly once. */
static void concurrent_workers_never_provision_twice(void **state)
{
    (void)state;
    prov_config cfg2 = test_config(3);
    cfg2.openflow_listen = NULL;
    cfg2.worker_name = "second";
    pf_err err;
    prov_service *svc2 = prov_service_start(&cfg2, &err);
    if (svc2 == NULL)
        fail_msg("second service: %s", err.message);
    enum { N = 8 };
    long long ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = request("a-trunk", 1000 + i, 64502, "c-trunk", 2000 + i);
    for (int i = 0; i < N; i++)
        approve(ids[i], "admin@c.example", "c-trunk", 2000 + i);
    for (int i = 0; i < N; i++)
        expect_state(ids[i], "active", 30);
    prov_service_stop(svc2);
    char sql[512];
    for (int i = 0; i < N; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FILTER (WHERE after->>'state' = 'provisioning') || '/' ||"
                 " count(*) FILTER (WHERE after->>'state' = 'active') || '/' ||"
                 " (SELECT count(*) FROM audit_events a2 WHERE a2.request_id = %lld AND"
                 "  a2.action = 'circuit.planned')"
                 " FROM audit_events WHERE request_id = %lld AND action = 'request.state_changed'",
                 ids[i], ids[i]);
        assert_string_equal(pgt_sql(&db, sql), "1/1/1");
        snprintf(sql, sizeof sql,
                 "SELECT count(*) || '/' || sum(attempts) || '/' || min(state) FROM jobs WHERE "
                 "request_id = %lld",
                 ids[i]);
        assert_string_equal(pgt_sql(&db, sql), "1/1/done");
    }
    /* each circuit: its own transport VLAN on each link, 2 flows a switch */
    assert_string_equal(pgt_sql(&db, "SELECT count(DISTINCT (link_id, vlan)) FROM link_vlans"),
                        "16");
    char got[16384];
    dump("s2", 0, got, sizeof got);
    assert_int_equal(count_lines(got), 2 * N + 1);
    for (int i = 0; i < N; i++) {
        wf_actor a = pgt_actor(&db, "admin@a.example");
        wf_decision_input d = {0};
        must(wf_request_decommission(&db.env, &a, ids[i], &d, &err), &err, "decommission");
    }
    for (int i = 0; i < N; i++)
        expect_state(ids[i], "decommissioned", 30);
    dump("s2", 0, got, sizeof got);
    assert_int_equal(count_lines(got), 1);
    assert_string_equal(pgt_sql(&db, "SELECT count(*) FROM link_vlans"), "0");
}

/* The job queue alone: SKIP LOCKED hands each job to one claimer, and a
 * running job whose lease ran out is claimed again. */
struct claimer {
    const char *url;
    const char *name;
    long long got[64];
    int n;
};

static void *claim_loop(void *arg)
{
    struct claimer *c = arg;
    pf_err err;
    db_conn *conn = db_connect(c->url, &err);
    for (;;) {
        db_scope scope = db_scope_system();
        db_prov_job job;
        if (db_begin(conn, &scope, &err) != PF_OK)
            break;
        if (db_prov_job_claim(conn, c->name, 60, &job, &err) != PF_OK) {
            db_rollback(conn);
            break;
        }
        usleep(2000); /* hold the row lock a little */
        db_commit(conn, &err);
        if (job.id == 0)
            break;
        c->got[c->n++] = job.id;
    }
    db_close(conn);
    return NULL;
}

static void job_claims_are_exclusive_and_leases_expire(void **state)
{
    (void)state;
    pgt_db q;
    pgt_create(&q, "provision_jobs", false);
    pgt_seed_world(&q);
    /* 20 jobs on one request (the one-open-job index is per kind, so the
     * rows are inserted as done first, then reopened) */
    pgt_sql(&q, "INSERT INTO peering_requests (requester_network_id, requester_port_id,"
                " peer_network_id) SELECT a.id, p.id, b.id FROM networks a, networks b, ports p"
                " WHERE a.asn = 64500 AND b.asn = 64501 AND p.name = 'a1'");
    pgt_sql(&q, "INSERT INTO jobs (kind, request_id, state) SELECT 'provision', r.id, 'done'"
                " FROM peering_requests r, generate_series(1, 20)");
    pgt_sql(&q, "ALTER TABLE jobs DISABLE TRIGGER ALL");
    pgt_sql(&q, "DROP INDEX jobs_one_open");
    pgt_sql(&q, "UPDATE jobs SET state = 'queued'");
    pthread_t t[3];
    struct claimer c[3] = {{q.app_url, "w1", {0}, 0}, {q.app_url, "w2", {0}, 0},
                           {q.app_url, "w3", {0}, 0}};
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, claim_loop, &c[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    int total = 0;
    for (int i = 0; i < 3; i++)
        total += c[i].n;
    assert_int_equal(total, 20);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < c[i].n; k++)
            for (int j = 0; j < 3; j++)
                for (int m = 0; m < c[j].n; m++)
                    if ((i != j || k != m) && c[i].got[k] == c[j].got[m])
                        fail_msg("job %lld claimed twice", c[i].got[k]);
    assert_string_equal(pgt_sql(&q, "SELECT count(*) FROM jobs WHERE state = 'running'"), "20");
    /* nothing is due now: every job is running under a live lease */
    struct claimer late = {q.app_url, "late", {0}, 0};
    claim_loop(&late);
    assert_int_equal(late.n, 0);
    /* a worker died: its lease runs out, another worker takes the job */
    pgt_sql(&q, "UPDATE jobs SET locked_at = now() - interval '2 minutes' WHERE id ="
                " (SELECT min(id) FROM jobs)");
    claim_loop(&late);
    assert_int_equal(late.n, 1);
    assert_string_equal(pgt_sql(&q, "SELECT locked_by || '/' || attempts FROM jobs WHERE id ="
                                    " (SELECT min(id) FROM jobs)"),
                        "late/2");
    /* the dead worker's late report is refused: it no longer owns it */
    pf_err err;
    db_scope scope = db_scope_system();
    bool owned = true;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT locked_by FROM jobs WHERE id = %lld", late.got[0]);
    assert_int_equal(db_begin(q.app, &scope, &err), PF_OK);
    assert_int_equal(db_prov_job_finish(q.app, late.got[0], "w1", true, NULL, &owned, &err), PF_OK);
    db_commit(q.app, &err);
    assert_false(owned);
    assert_string_equal(pgt_sql(&q, sql), "late");
    pgt_drop(&q);
}

static void version_negotiation_refuses_openflow10(void **state)
{
    (void)state;
    fab("switch %s s9 0000000000000009", fabdir);
    fab("vsctl %s set bridge s9 protocols=OpenFlow10", fabdir);
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    char ep[128];
    snprintf(ep, sizeof ep, "unix:%s/s9.sock", fabdir);
    wf_switch_input s = {"s9", "0000000000000009", ep};
    must(wf_switch_add(&db.env, &op, &s, &id, &err), &err, "switch s9");
    double end = now_s() + 10;
    const char *e = "";
    while (now_s() < end) {
        e = pgt_sql(&db, "SELECT conn_state || ': ' || coalesce(conn_error, '') FROM switches"
                         " WHERE name = 's9'");
        if (strstr(e, "1.3") != NULL)
            break;
        usleep(100 * 1000);
    }
    if (strncmp(e, "disconnected: ", 14) != 0 || strstr(e, "OpenFlow") == NULL ||
        strstr(e, "1.3") == NULL)
        fail_msg("s9: %s", e);
    printf("# s9 refused: %s\n", e);
    prov_net_stats st;
    prov_net_get_stats(prov_service_net(svc), id, &st);
    assert_true(st.refused >= 1);
    assert_int_equal(st.connects, 0);
    /* other switches are unaffected */
    assert_string_equal(pgt_sql(&db, "SELECT conn_state FROM switches WHERE name = 's2'"),
                        "connected");
    pgt_sql(&db, "DELETE FROM switches WHERE name = 's9'");
}

static void switch_connecting_to_listener(void **state)
{
    (void)state;
    /* s4 has no endpoint: it connects to the provisioner's listener and is
     * known by its datapath id */
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    wf_switch_input s = {"s4", "0000000000000004", NULL};
    must(wf_switch_add(&db.env, &op, &s, &id, &err), &err, "switch s4");
    usleep(500 * 1000); /* the manager learns the switch at its next refresh */
    fab("switch %s s4 0000000000000004", fabdir);
    fab("controller %s s4 unix:%s/pf.sock", fabdir, fabdir);
    if (!prov_net_wait_connected(prov_service_net(svc), id, 10000))
        fail_msg("s4 did not connect to the listener");
    char got[1024];
    double end = now_s() + 10;
    do {
        dump("s4", prov_cookie(0), got, sizeof got);
        if (got[0])
            break;
        usleep(100 * 1000);
    } while (now_s() < end);
    assert_string_equal(got, "cookie=0x5046000000000000, priority=0 actions=drop\n");
}

/* A switch that stops answering (the whole ovs-vswitchd frozen with
 * SIGSTOP: the socket stays open, nothing comes back) is declared dead by
 * the ECHO keepalive, and reconnects when it answers again. */
static void dead_peer_detected_by_echo(void **state)
{
    (void)state;
    long long s1 = atoll(pgt_sql(&db, "SELECT id FROM switches WHERE name = 's1'"));
    prov_net_stats before;
    prov_net_get_stats(prov_service_net(svc), s1, &before);
    assert_int_equal(sh("kill -STOP $(cat %s/ovs-vswitchd.pid)", fabdir), 0);
    double t0 = now_s(), end = t0 + 15;
    char e[512] = "";
    while (now_s() < end) {
        snprintf(e, sizeof e, "%s",
                 pgt_sql(&db, "SELECT conn_state || ': ' || coalesce(conn_error, '')"
                              " FROM switches WHERE name = 's1'"));
        if (strncmp(e, "disconnected", 12) == 0)
            break;
        usleep(100 * 1000);
    }
    double took = now_s() - t0;
    assert_int_equal(sh("kill -CONT $(cat %s/ovs-vswitchd.pid)", fabdir), 0);
    if (strstr(e, "ECHO") == NULL)
        fail_msg("s1 while frozen: %s", e);
    printf("# frozen switch declared dead after %.1f s: %s\n", took, e);
    assert_true(took >= 2.0 && took < 10.0); /* dead_after_ms = 4000, echo every 1000 */
    wait_connected("s1");
    prov_net_stats after;
    prov_net_get_stats(prov_service_net(svc), s1, &after);
    assert_true(after.echo_timeouts > before.echo_timeouts);
    assert_true(after.connects > before.connects);
}

/* A switch that accepts the connection and never says a word does not
 * hold up provisioning elsewhere. */
static int blackhole_fd = -1;

static void silent_switch_does_not_block_others(void **state)
{
    (void)state;
    char path[100], ep[160];
    snprintf(path, sizeof path, "%s/blackhole.sock", fabdir);
    snprintf(ep, sizeof ep, "unix:%s", path);
    blackhole_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    assert_int_equal(bind(blackhole_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(blackhole_fd, 8), 0); /* the kernel accepts; nobody answers */
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    wf_switch_input s = {"s6", "0000000000000006", ep};
    must(wf_switch_add(&db.env, &op, &s, &id, &err), &err, "switch s6");
    usleep(500 * 1000); /* the provisioner is now waiting for s6's HELLO */
    double t0 = now_s();
    long long rid = request("a1", 0, 64501, "b-same", 0);
    approve(rid, "admin@b.example", "b-same", 0);
    expect_state(rid, "active", 10);
    double took = now_s() - t0;
    printf("# active in %.2f s while s6 is silent\n", took);
    assert_true(took < 3.0);
    assert_string_not_equal(pgt_sql(&db, "SELECT conn_state FROM switches WHERE name = 's6'"),
                            "connected");
    const char *sws[] = {"s1"};
    teardown_and_check(rid, sws, 1);
    /* and the silent one is given up with a clear reason */
    double end = now_s() + 10;
    const char *e = "";
    while (now_s() < end &&
           strstr(e = pgt_sql(&db, "SELECT coalesce(conn_error, '') FROM switches WHERE name = 's6'"),
                  "handshake") == NULL)
        usleep(100 * 1000);
    if (strstr(e, "no OpenFlow handshake") == NULL)
        fail_msg("s6: %s", e);
    pgt_sql(&db, "UPDATE switches SET endpoint = NULL WHERE name = 's6'");
    close(blackhole_fd);
}

/* A locked switches table (the state recorder and the switch list both
 * wait for it) does not stall the OpenFlow connections: barriers keep
 * being answered and no connection is dropped for a missed ECHO, and the
 * state change that happened meanwhile lands once the lock is released. */
static void locked_database_does_not_stall_connections(void **state)
{
    (void)state;
    prov_net *net = prov_service_net(svc);
    long long s1 = atoll(pgt_sql(&db, "SELECT id FROM switches WHERE name = 's1'"));
    wait_connected("s1");
    /* s7 accepts the connection and never answers: its handshake times
     * out (5 s) while the table is locked */
    char path[100], ep[160];
    snprintf(path, sizeof path, "%s/mute.sock", fabdir);
    snprintf(ep, sizeof ep, "unix:%s", path);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 8), 0);
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long s7;
    wf_switch_input s = {"s7", "0000000000000007", ep};
    must(wf_switch_add(&db.env, &op, &s, &s7, &err), &err, "switch s7");
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    if (poll(&pfd, 1, 10000) != 1)
        fail_msg("the provisioner did not connect to s7");
    int afd = accept(lfd, NULL, NULL);
    assert_true(afd >= 0);
    prov_net_stats before;
    prov_net_get_stats(net, s1, &before);

    PGconn *locker = PQconnectdb(db.owner_url);
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    PQclear(PQexec(locker, "BEGIN"));
    PGresult *r = PQexec(locker, "LOCK TABLE switches IN ACCESS EXCLUSIVE MODE");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    double t0 = now_s();
    int rounds = 0, answered = 0;
    while (now_s() - t0 < 7.0) { /* > dead_after_ms (4 s) and the handshake (5 s) */
        prov_result res;
        rounds++;
        if (prov_net_batch(net, s1, NULL, 0, 1000, &res))
            answered++;
        else
            printf("# barrier to s1 while the table is locked: %s\n", res.message);
        usleep(250 * 1000);
    }
    prov_net_stats during;
    prov_net_get_stats(net, s1, &during);
    bool s7_closed = prov_net_connected(net, s7) == false;
    PQclear(PQexec(locker, "COMMIT"));
    PQfinish(locker);
    printf("# %d of %d barriers answered during a 7 s table lock\n", answered, rounds);
    assert_int_equal(answered, rounds);
    assert_int_equal(during.disconnects, before.disconnects);
    assert_int_equal(during.echo_timeouts, before.echo_timeouts);
    assert_true(prov_net_connected(net, s1));
    assert_true(s7_closed);
    /* the handshake failure of s7 is recorded once the database answers */
    double end = now_s() + 5;
    const char *e = "";
    while (now_s() < end &&
           strstr(e = pgt_sql(&db, "SELECT conn_state || ': ' || coalesce(conn_error, '')"
                                   " FROM switches WHERE name = 's7'"),
                  "handshake") == NULL)
        usleep(50 * 1000);
    if (strncmp(e, "disconnected: ", 14) != 0 || strstr(e, "no OpenFlow handshake") == NULL)
        fail_msg("s7 after the lock: %s", e);
    pgt_sql(&db, "DELETE FROM switches WHERE name = 's7'");
    close(afd);
    close(lfd);
}

/* flows/s of one pipelined batch with one barrier, against ovs-ofctl
 * add-flows of the same flows into the same switch; and a reconcile of
 * them after the switch lost them, against ovs-ofctl replace-flows. */
static void measure_batch_and_reconcile(void **state)
{
    (void)state;
    enum { N = 2000 };
    prov_net *net = prov_service_net(svc);
    long long s3 = atoll(pgt_sql(&db, "SELECT id FROM switches WHERE name = 's3'"));
    struct ofp_flow *f = calloc(N, sizeof *f);
    char path[] = "/tmp/pf-flows-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    for (int i = 0; i < N; i++) {
        ofp_flow_init(&f[i]);
        f[i].priority = 500;
        f[i].cookie = prov_cookie(0xbe00000000LL);
        ofp_match_in_port(&f[i].match, 20000 + (uint32_t)i);
        ofp_match_vlan(&f[i].match, (uint16_t)(1 + i % 4000));
        ofp_flow_add_set_vlan_vid(&f[i], 7);
        ofp_flow_add_output(&f[i], 10, 0);
        fprintf(fp, "cookie=0x%llx,priority=500,in_port=%d,dl_vlan=%d,actions=set_field:%d->vlan_vid,output:10\n",
                (unsigned long long)f[i].cookie, 20000 + i, 1 + i % 4000, 4096 + 7);
    }
    fclose(fp);
    prov_result res;
    /* the locked table of the test before outlasted the mastership lease:
     * the next round takes the switches again (docs/fabric.md) */
    for (int i = 0; i < 100 && !prov_net_is_master(net, s3); i++)
        usleep(50 * 1000);
    double t0 = now_s();
    assert_true(prov_net_batch(net, s3, f, N, 20000, &res));
    double ours = now_s() - t0;
    prov_result dres;
    assert_true(prov_delete_cookie(net, s3, f[0].cookie, NULL, 0, 20000, &dres));
    t0 = now_s();
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 add-flows unix:%s/s3.mgmt %s", fabdir, path), 0);
    double base = now_s() - t0;
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 del-flows unix:%s/s3.mgmt cookie=0x%llx/-1",
                        fabdir, (unsigned long long)f[0].cookie),
                     0);
    printf("# batch of %d flow mods + 1 barrier: %.1f ms = %.0f flows/s; ovs-ofctl add-flows: "
           "%.1f ms = %.0f flows/s; ratio %.2f\n",
           N, ours * 1000, N / ours, base * 1000, N / base, base / ours);
    free(f);
    unlink(path);

    /* reconcile N desired flows (N/2 trunk-trunk circuits written straight
     * into the database, as the planner would) after the switch lost them */
    pgt_sql(&db, "INSERT INTO peering_requests (requester_network_id, requester_port_id,"
                 " peer_network_id) SELECT a.id, p.id, b.id FROM networks a, networks b, ports p"
                 " WHERE a.asn = 64500 AND b.asn = 64501 AND p.name = 'a1'");
    pgt_sql(&db, "INSERT INTO circuits (request_id, state) SELECT max(id), 'installed'"
                 " FROM peering_requests");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO flows (circuit_id, switch_id, priority, match, actions, cookie)"
             " SELECT c.id, %lld, 1000, jsonb_build_object('in_port', 30000 + g, 'vlan', 1 + g %% 4000),"
             " '[{\"type\":\"set_vlan_vid\",\"vlan\":9},{\"type\":\"output\",\"port\":10}]'::jsonb,"
             " x'5046000000000000'::bigint | c.id"
             " FROM circuits c, generate_series(0, %d) g WHERE c.state = 'installed'",
             s3, N - 1);
    pgt_sql(&db, sql);
    long long cid = atoll(pgt_sql(&db, "SELECT max(id) FROM circuits WHERE state = 'installed'"));
    prov_drift d;
    pf_err err;
    t0 = now_s();
    assert_int_equal(prov_reconcile_switch(net, db.app, s3, "s3", "test", 20000, &d, &err), PF_OK);
    double rec = now_s() - t0;
    assert_int_equal(d.added, N);
    t0 = now_s();
    assert_int_equal(prov_reconcile_switch(net, db.app, s3, "s3", "test", 20000, &d, &err), PF_OK);
    double rec2 = now_s() - t0;
    assert_int_equal(d.added + d.removed + d.modified, 0);
    assert_int_equal(d.unchanged, N + 1);
    /* baseline: replace-flows of the same set */
    snprintf(sql, sizeof sql,
             "ovs-ofctl -O OpenFlow13 dump-flows unix:%s/s3.mgmt --no-stats > %s.all && "
             "ovs-ofctl -O OpenFlow13 del-flows unix:%s/s3.mgmt cookie=0x%llx/-1",
             fabdir, path, fabdir, (unsigned long long)prov_cookie(cid));
    assert_int_equal(sh("%s", sql), 0);
    t0 = now_s();
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 replace-flows unix:%s/s3.mgmt %s.all", fabdir, path), 0);
    double base2 = now_s() - t0;
    char all[64];
    snprintf(all, sizeof all, "%s.all", path);
    unlink(all);
    printf("# reconcile after loss of %d flows: %.1f ms (ovs-ofctl replace-flows: %.1f ms, "
           "ratio %.2f); reconcile of a healthy switch (%d flows): %.1f ms\n",
           N, rec * 1000, base2 * 1000, base2 / rec, N + 1, rec2 * 1000);
    /* clean up: the circuit is removed, its flows go */
    snprintf(sql, sizeof sql, "UPDATE circuits SET state = 'removed' WHERE id = %lld", cid);
    pgt_sql(&db, sql);
    assert_int_equal(prov_reconcile_switch(net, db.app, s3, "s3", "test", 20000, &d, &err), PF_OK);
    assert_int_equal(d.removed, N);
    snprintf(sql, sizeof sql, "DELETE FROM flows WHERE circuit_id = %lld", cid);
    pgt_sql(&db, sql);
}

/* -------------------------------------------------------------- main */

static int run_all(void)
{
    /* the fabric */
    fab("up %s %s", fabdir, netns);
    fab("switch %s s1 0000000000000001", fabdir);
    fab("switch %s s2 0000000000000002", fabdir);
    fab("switch %s s3 0000000000000003", fabdir);
    fab("link %s s1 10 s2 10", fabdir);
    fab("link %s s2 11 s3 10", fabdir);
    fab("host %s ha1 s1 1 10.1.0.1/24", fabdir);
    fab("trunk %s hat s1 2", fabdir);
    fab("vlan %s hat 100 10.2.0.1/24", fabdir);
    fab("host %s hbs s1 3 10.1.0.2/24", fabdir);
    fab("host %s hb1 s3 1 10.1.0.3/24", fabdir);
    fab("trunk %s hct s3 2", fabdir);
    fab("vlan %s hct 200 10.2.0.3/24", fabdir);
    fab("vlan %s hct 300 10.1.0.4/24", fabdir);
    build_world();
    prov_config cfg = test_config(2);
    pf_err err;
    svc = prov_service_start(&cfg, &err);
    if (svc == NULL) {
        fprintf(stderr, "provisioner: %s\n", err.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_installs_table_miss_and_records_state),
        cmocka_unit_test(same_switch_access_access),
        cmocka_unit_test(line_access_access_with_data_plane),
        cmocka_unit_test(line_access_trunk),
        cmocka_unit_test(line_trunk_trunk_translation),
        cmocka_unit_test(openflow_error_fails_the_circuit),
        cmocka_unit_test(unreachable_switch_fails_after_deadline),
        cmocka_unit_test(switch_down_mid_provision_then_active),
        cmocka_unit_test(reconcile_repairs_drift_and_leaves_foreign_flows),
        cmocka_unit_test(concurrent_workers_never_provision_twice),
        cmocka_unit_test(job_claims_are_exclusive_and_leases_expire),
        cmocka_unit_test(version_negotiation_refuses_openflow10),
        cmocka_unit_test(switch_connecting_to_listener),
        cmocka_unit_test(dead_peer_detected_by_echo),
        cmocka_unit_test(silent_switch_does_not_block_others),
        cmocka_unit_test(locked_database_does_not_stall_connections),
        cmocka_unit_test(measure_batch_and_reconcile),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    prov_service_stop(svc);
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
    if (geteuid() != 0 || system("command -v ovs-vswitchd >/dev/null 2>&1") != 0) {
        printf("skipped: needs root and Open vSwitch\n");
        return 77; /* tests/run.sh counts it as skipped */
    }
    const char *r = getenv("PEERFLOW_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    snprintf(fabdir, sizeof fabdir, "/tmp/pff.%d", (int)getpid());
    snprintf(netns, sizeof netns, "pft%d", (int)getpid());
    fflush(stdout);
    child = fork();
    if (child < 0)
        return 2;
    if (child == 0)
        exit(run_all()); /* exit, not _exit: LeakSanitizer checks at exit */
    struct sigaction sa = {.sa_handler = forward};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
    }
    /* always: processes, namespaces, veths, the directory */
    sh("bash '%s/scripts/fabric.sh' down %s", root, fabdir);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "test process died of signal %d\n", WTERMSIG(status));
    return 1;
}
