/* Provisioner failover with OpenFlow controller roles (issue 17 part 2),
 * against a real Open vSwitch fabric (scripts/fabric.sh) and a real
 * PostgreSQL (tests/run.sh):
 *
 *   fabric  s1 --(10:10)-- s2 --(11:10)-- s3      (line of three)
 *           s1:1 ha1 10.1.0.1 access (A a1)    s3:1 hb1 10.1.0.3 access (B b1)
 *           s1:2 hat trunk (A a-trunk)         s3:2 hct trunk (C c-trunk)
 *
 * The lease rules alone (db/mastership.h): the first process takes every
 * switch, a second is a standby, an expired lease is taken over with a
 * newer generation and the dead holder's running jobs go back to the
 * queue, a switch the holder does not renew goes to another after a
 * whole lease more.
 *
 * Failover: two worker processes (this binary run again as
 * `--worker NAME`, i.e. prov_service_start in a process of its own, as
 * `peerflow worker --only provisioner` does) hold OpenFlow connections to
 * every switch. A circuit a1 - b1 is active and pinged all along. A batch
 * of trunk circuits is approved; while the master works on it it is
 * killed with SIGKILL. Required: the other process holds every switch's
 * lease with a newer generation within 5 s, every circuit of the batch
 * ends active with exactly its flows, no ping across the active circuit
 * is lost, and a connection that asks for MASTER with the dead master's
 * generation is refused by the switch (OFPRRFC_STALE), so a late write
 * from it cannot land. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/mastership.h"
#include "provisioner/prov.h"
#include "tests/support/pgtest.h"
#include "web/metrics.h"
#include "workflow/admin.h"
#include "workflow/queries.h"
#include "workflow/requests.h"

static char fabdir[64], netns[32], root[1024];
static pgt_db db;

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

static const char *sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *sqlf(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return pgt_sql(&db, sql);
}

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

static bool wait_sql(const char *sql, const char *want, double secs)
{
    double end = now_s() + secs;
    while (now_s() < end) {
        if (strcmp(pgt_sql(&db, sql), want) == 0)
            return true;
        usleep(50 * 1000);
    }
    return strcmp(pgt_sql(&db, sql), want) == 0;
}

static int flows_with_cookie(const char *sw, unsigned long long cookie)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "ovs-ofctl -O OpenFlow13 dump-flows unix:%s/%s.mgmt --no-stats cookie=0x%llx/-1 | "
             "wc -l",
             fabdir, sw, cookie);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* ------------------------------------------------------------ world */

static void build_world(void)
{
    pgt_create(&db, "mastership", false);
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
        {"64501", "s3", "1", "b1", "access", NULL},
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

static prov_config worker_config(const char *url, const char *name)
{
    return (prov_config){.database_url = url,
                         .base_url = "http://peerflow.test",
                         .mail_domain = "peerflow.test",
                         .worker_name = name,
                         .workers = 1,
                         .poll_ms = 50,
                         .lease_s = 60, /* far above the takeover: the requeue is what counts */
                         .barrier_timeout_ms = 3000,
                         .unreachable_fail_ms = 60000,
                         .retry_max_ms = 500,
                         .reconcile_interval_ms = 600000,
                         .counter_interval_ms = -1,
                         .echo_interval_ms = 1000,
                         .dead_after_ms = 4000,
                         .backoff_max_ms = 300,
                         .refresh_ms = 300};
}

/* --worker NAME URL: a provisioner process of its own until SIGTERM. */
static volatile sig_atomic_t worker_stop;
static void on_term(int sig)
{
    (void)sig;
    worker_stop = 1;
}

static int worker_process(const char *name, const char *url)
{
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    prov_config cfg = worker_config(url, name);
    pf_err err;
    prov_service *s = prov_service_start(&cfg, &err);
    if (s == NULL) {
        fprintf(stderr, "worker %s: %s\n", name, err.message);
        return 1;
    }
    while (!worker_stop)
        usleep(50 * 1000);
    prov_service_stop(s);
    return 0;
}

static pid_t start_worker(const char *name)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        /* dies with the test process, also when an assertion ends it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl("/proc/self/exe", "test_mastership", "--worker", name, db.app_url, (char *)NULL);
        _exit(127);
    }
    return p;
}

/* /metrics as the server writes it (malloc'ed). */
static char *metrics_text(void)
{
    wf_actor sys = wf_actor_system("test");
    json_t *g = NULL;
    pf_err err;
    must(wf_gauges(&db.env, &sys, &g, &err), &err, "gauges");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    web_metrics_write(f, g);
    fclose(f);
    json_decref(g);
    return text;
}

static void expect_metric(const char *line, bool present)
{
    char *text = metrics_text();
    bool has = strstr(text, line) != NULL;
    if (has != present)
        fail_msg("/metrics %s '%s':\n%s", present ? "lacks" : "has", line, text);
    free(text);
}

/* ----------------------------------------------------------- leases */

static db_master_stats round_of(const char *me, int lease_ms, const long long *reach, size_t n,
                                db_master_row **rows, size_t *n_rows)
{
    pf_err err;
    db_master_stats st;
    db_scope scope = db_scope_system();
    must(db_begin(db.app, &scope, &err), &err, "begin");
    must(db_master_round(db.app, me, lease_ms, reach, n, rows, n_rows, &st, &err), &err,
         "round");
    must(db_commit(db.app, &err), &err, "commit");
    return st;
}

/* me renews its leases of reach[] every 150 ms for ms. */
static void hold(const char *me, int lease_ms, const long long *reach, size_t n, int ms)
{
    double end = now_s() + ms / 1000.0;
    while (now_s() < end) {
        db_master_row *v = NULL;
        size_t nv = 0;
        round_of(me, lease_ms, reach, n, &v, &nv);
        free(v);
        usleep(150 * 1000);
    }
}

static const db_master_row *row_of(const db_master_row *v, size_t n, long long id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].switch_id == id)
            return &v[i];
    fail_msg("no lease row for switch %lld", id);
    return NULL;
}

static void lease_rules(void **state)
{
    (void)state;
    long long ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = atoll(sqlf("SELECT id FROM switches WHERE name = 's%d'", i + 1));
    db_master_row *v = NULL;
    size_t n = 0;
    /* the first takes every switch it reaches, each with a generation */
    db_master_stats st = round_of("A", 600, ids, 3, &v, &n);
    assert_int_equal(st.taken, 3);
    assert_false(st.standby);
    assert_string_equal(row_of(v, n, ids[0])->worker, "A");
    long long g0 = row_of(v, n, ids[0])->generation;
    assert_true(g0 > 0 && row_of(v, n, ids[2])->generation > 0);
    free(v);
    /* a second is a standby while A is live: it takes nothing, even a
     * switch A does not renew, until that has been expired a lease more */
    st = round_of("B", 600, ids, 3, &v, &n);
    assert_int_equal(st.taken, 0);
    assert_true(st.standby);
    free(v);
    /* A renews s1 and s2 only (it lost s3): the generation stays */
    st = round_of("A", 600, ids, 2, &v, &n);
    assert_int_equal(st.renewed, 2);
    assert_int_equal(row_of(v, n, ids[0])->generation, g0);
    free(v);
    hold("A", 600, ids, 2, 700); /* s3 expired, not yet a lease more */
    st = round_of("B", 600, ids, 3, &v, &n);
    assert_int_equal(st.taken, 0);
    free(v);
    hold("A", 600, ids, 2, 600); /* now a whole lease more: B takes s3 */
    st = round_of("B", 600, ids, 3, &v, &n);
    assert_int_equal(st.taken, 1);
    assert_int_equal(st.requeued, 0); /* A is alive */
    assert_false(st.standby);
    assert_string_equal(row_of(v, n, ids[2])->worker, "B");
    assert_string_equal(row_of(v, n, ids[0])->worker, "A");
    assert_int_equal(row_of(v, n, ids[0])->generation, g0);
    free(v);
    /* A dies holding a running job: once its leases expire, B takes every
     * switch with newer generations and puts A's job back in the queue */
    long long rid = request("a-trunk", 3999, 64502, "c-trunk", 3999);
    sqlf("INSERT INTO jobs (kind, request_id, state, locked_by, locked_at)"
         " VALUES ('teardown', %lld, 'running', 'A:w0', now())", rid);
    hold("B", 600, ids + 2, 1, 700);
    st = round_of("B", 600, ids, 3, &v, &n);
    assert_int_equal(st.taken, 2);
    assert_int_equal(st.requeued, 1);
    assert_true(row_of(v, n, ids[0])->generation > g0);
    assert_string_equal(row_of(v, n, ids[0])->worker, "B");
    free(v);
    assert_string_equal(sqlf("SELECT state || coalesce(locked_by, '-') FROM jobs WHERE request_id"
                             " = %lld", rid),
                        "queued-");
    /* the takeovers from A are audited (not A's first take of nobody's) */
    assert_string_equal(sqlf("SELECT count(*) || '/' || min(after->>'from') || '/' ||"
                             " min(after->>'worker') FROM audit_events"
                             " WHERE action = 'switch.master_changed'"),
                        "3/A/B");
    /* a clean stop hands over at once */
    pf_err err;
    db_scope scope = db_scope_system();
    must(db_begin(db.app, &scope, &err), &err, "begin");
    must(db_master_release(db.app, "B", &err), &err, "release");
    must(db_commit(db.app, &err), &err, "commit");
    st = round_of("A", 600, ids, 3, &v, &n);
    assert_int_equal(st.taken, 3);
    free(v);
    expect_metric("peerflow_switch_master{switch=\"s1\",worker=\"A\"} 1\n", true);
    expect_metric("worker=\"B\"", false);
    /* a worker name is escaped as a Prometheus label value */
    must(db_begin(db.app, &scope, &err), &err, "begin");
    must(db_master_release(db.app, "A", &err), &err, "release");
    must(db_commit(db.app, &err), &err, "commit");
    round_of("p\"\\1", 600, ids, 1, &v, &n);
    free(v);
    expect_metric("peerflow_switch_master{switch=\"s1\",worker=\"p\\\"\\\\1\"} 1\n", true);
    /* leave the fabric to the worker processes (the request stays pending) */
    sqlf("DELETE FROM jobs WHERE request_id = %lld", rid);
    sqlf("DELETE FROM switch_masters");
}

/* --------------------------------------------------------- failover */

static long long switch_id(const char *name)
{
    return atoll(sqlf("SELECT id FROM switches WHERE name = '%s'", name));
}

static void kill_master_mid_batch(void **state)
{
    (void)state;
    pid_t w1 = start_worker("w1");
    assert_true(w1 > 0);
    const char *masters_w1 = "SELECT count(*) FROM switch_masters WHERE worker = 'w1' AND"
                             " expires_at > now()";
    if (!wait_sql(masters_w1, "3", 15))
        fail_msg("w1 did not become master of the three switches");
    pid_t w2 = start_worker("w2");
    assert_true(w2 > 0);
    /* an active circuit, pinged across the failover */
    long long keep = request("a1", 0, 64501, "b1", 0);
    approve(keep, "admin@b.example", "b1", 0);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT state FROM peering_requests WHERE id = %lld", keep);
    if (!wait_sql(sql, "active", 30))
        fail_msg("the first circuit is not active: %s", pgt_sql(&db, sql));
    assert_int_equal(sh("bash '%s/scripts/fabric.sh' exec %s ha1 ping -c 3 -W 1 10.1.0.3 "
                        ">/dev/null 2>&1", root, fabdir), 0);
    long long gen_before = atoll(sqlf("SELECT max(generation) FROM switch_masters"));
    sleep(1); /* w2 has connected and found itself a standby */
    assert_string_equal(sqlf("SELECT count(*) FROM switch_masters WHERE worker = 'w2'"), "0");
    /* pings every 100 ms for 12 s, in the background */
    char pinglog[128];
    snprintf(pinglog, sizeof pinglog, "%s/ping.log", fabdir);
    sh("bash '%s/scripts/fabric.sh' exec %s ha1 ping -i 0.1 -w 12 -W 1 10.1.0.3 > %s 2>&1 &",
       root, fabdir, pinglog);
    /* the batch */
    enum { N = 24 };
    long long ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = request("a-trunk", 1000 + i, 64502, "c-trunk", 2000 + i);
    for (int i = 0; i < N; i++)
        approve(ids[i], "admin@c.example", "c-trunk", 2000 + i);
    /* kill w1 once it has started on the batch and before it is done */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM peering_requests WHERE id >= %lld AND state = 'active'",
             ids[0]);
    double end = now_s() + 30;
    int active = 0;
    while (now_s() < end) {
        active = atoi(pgt_sql(&db, sql));
        if (active >= 1)
            break;
        usleep(5 * 1000);
    }
    if (active < 1 || active >= N)
        fail_msg("w1 was not mid-batch: %d of %d circuits active", active, N);
    assert_int_equal(kill(w1, SIGKILL), 0);
    double t_kill = now_s();
    waitpid(w1, NULL, 0);
    printf("# killed the master w1 with %d of %d circuits of the batch active\n", active, N);
    /* w2 takes over every switch within 5 s, with newer generations */
    const char *masters_w2 = "SELECT count(*) FROM switch_masters WHERE worker = 'w2' AND"
                             " expires_at > now()";
    bool taken = wait_sql(masters_w2, "3", 5.5);
    double takeover = now_s() - t_kill;
    if (!taken || takeover > 5.0)
        fail_msg("w2 holds %s of 3 switches %.1f s after the kill", pgt_sql(&db, masters_w2),
                 takeover);
    printf("# takeover by w2: %.2f s after SIGKILL of the master\n", takeover);
    expect_metric("peerflow_switch_master{switch=\"s2\",worker=\"w2\"} 1\n", true);
    expect_metric("worker=\"w1\"", false);
    assert_string_equal(sqlf("SELECT count(*) FROM audit_events WHERE action ="
                             " 'switch.master_changed' AND after->>'from' = 'w1' AND"
                             " after->>'worker' = 'w2'"),
                        "3");
    char min_gen[32];
    snprintf(min_gen, sizeof min_gen, "%s", sqlf("SELECT min(generation) FROM switch_masters"));
    assert_true(atoll(min_gen) > gen_before);
    /* it finishes the batch */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM peering_requests WHERE id >= %lld AND state = 'active'",
             ids[0]);
    char want[16];
    snprintf(want, sizeof want, "%d", N);
    if (!wait_sql(sql, want, 60))
        fail_msg("only %s of %d circuits active after the takeover (jobs: %s)",
                 pgt_sql(&db, sql), N,
                 sqlf("SELECT string_agg(DISTINCT state || ':' || coalesce(last_error, ''), ' | ')"
                      " FROM jobs"));
    printf("# all %d circuits active %.1f s after the kill\n", N, now_s() - t_kill);
    /* one job each, done; only the one w1 was running at the kill ran
     * again (the standby w2 claimed nothing before: no bounced jobs) */
    snprintf(sql, sizeof sql,
             "SELECT count(*) || '/' || count(*) FILTER (WHERE state = 'done') || '/' ||"
             " count(*) FILTER (WHERE attempts > 1) FROM jobs WHERE request_id >= %lld",
             ids[0]);
    const char *jobs = pgt_sql(&db, sql);
    printf("# batch jobs (all/done/run again): %s\n", jobs);
    if (strcmp(jobs, "24/24/0") != 0 && strcmp(jobs, "24/24/1") != 0)
        fail_msg("batch jobs (all/done/run again): %s", jobs);
    /* exactly their flows: 2 per circuit on each switch of the path */
    const char *sws[] = {"s1", "s2", "s3"};
    for (int i = 0; i < N; i++) {
        long long c = atoll(sqlf("SELECT id FROM circuits WHERE request_id = %lld", ids[i]));
        for (int k = 0; k < 3; k++) {
            int got = flows_with_cookie(sws[k], prov_cookie(c));
            if (got != 2)
                fail_msg("circuit %lld has %d flows on %s, not 2", c, got, sws[k]);
        }
    }
    for (int k = 0; k < 3; k++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd,
                 "test $(ovs-ofctl -O OpenFlow13 dump-flows unix:%s/%s.mgmt --no-stats | wc -l)"
                 " -eq %d", fabdir, sws[k], 2 * (N + 1) + 1);
        if (sh("%s", cmd) != 0)
            fail_msg("%s does not hold exactly the %d flows of the circuits and the table-miss",
                     sws[k], 2 * (N + 1) + 1);
    }
    /* the pings across the circuit active before were never interrupted */
    while (now_s() < t_kill + 13)
        usleep(100 * 1000);
    sleep(1);
    char cmd[256], out[512] = "";
    snprintf(cmd, sizeof cmd, "grep 'packet loss' %s", pinglog);
    FILE *p = popen(cmd, "r");
    size_t nr = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[nr] = '\0';
    if (p)
        pclose(p);
    printf("# pings across the active circuit during the failover: %s", out);
    if (strstr(out, " 0% packet loss") == NULL)
        fail_msg("pings were lost during the failover: %s", out);
    /* a late write from the dead master: its generation is refused */
    prov_net_config nc = {.database_url = db.app_url, .roles = true, .refresh_ms = 200,
                          .backoff_max_ms = 300};
    pf_err err;
    prov_net *old = prov_net_start(&nc, &err);
    if (old == NULL)
        fail_msg("prov_net: %s", err.message);
    long long s2 = switch_id("s2");
    assert_true(prov_net_wait_connected(old, s2, 10000));
    prov_net_set_role(old, s2, true, (uint64_t)gen_before, 10000);
    uint32_t role = 0;
    uint64_t g = 0;
    end = now_s() + 3;
    char why[400] = "";
    while (now_s() < end && !prov_net_is_master(old, s2))
        usleep(50 * 1000);
    assert_false(prov_net_is_master(old, s2));
    prov_net_role(old, s2, &role, &g);
    assert_int_not_equal(role, OFPCR_ROLE_MASTER);
    struct ofp_flow f;
    ofp_flow_init(&f);
    f.cookie = 0x5046000000ffffffull;
    f.priority = 7;
    ofp_match_in_port(&f.match, 77);
    prov_result res;
    assert_false(prov_net_batch(old, s2, &f, 1, 2000, &res));
    assert_true(res.not_master);
    snprintf(why, sizeof why, "%s", res.message);
    if (strstr(why, "stale") == NULL)
        fail_msg("the switch did not refuse the old generation as stale: %s", why);
    printf("# a write with the dead master's generation %lld: %s\n", gen_before, why);
    prov_net_stop(old);
    assert_int_equal(flows_with_cookie("s2", 0x5046000000ffffffull), 0);
    /* the audit chain still verifies */
    wf_actor cli = wf_actor_cli();
    db_audit_verdict verdict;
    must(wf_audit_verify(&db.env, &cli, &verdict, &err), &err, "audit verify");
    if (!verdict.ok)
        fail_msg("audit chain: %s", verdict.problem);
    /* w2 stops cleanly, releasing its leases */
    kill(w2, SIGTERM);
    int status = 0;
    waitpid(w2, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_string_equal(pgt_sql(&db, masters_w2), "0");
}

/* A master that was paused (not dead) while another took over: it still
 * believes it is master (its lease has not run out by its clock), but the
 * switch demoted its connection when the newer generation asked for
 * MASTER, and refuses its writes with OFPBRC_IS_SLAVE - a bundle as well,
 * which must not be mistaken for a switch without bundles. */
static void late_write_of_a_demoted_master_is_refused(void **state)
{
    (void)state;
    prov_net_config nc = {.database_url = db.app_url, .roles = true, .refresh_ms = 200,
                          .backoff_max_ms = 300};
    pf_err err;
    prov_net *a = prov_net_start(&nc, &err), *b = prov_net_start(&nc, &err);
    if (a == NULL || b == NULL)
        fail_msg("prov_net: %s", err.message);
    long long s1 = switch_id("s1");
    assert_true(prov_net_wait_connected(a, s1, 10000));
    assert_true(prov_net_wait_connected(b, s1, 10000));
    uint64_t g1 = (uint64_t)atoll(sqlf("SELECT nextval('switch_master_generation')"));
    uint64_t g2 = (uint64_t)atoll(sqlf("SELECT nextval('switch_master_generation')"));
    prov_net_set_role(a, s1, true, g1, 60000);
    double end = now_s() + 5;
    while (now_s() < end && !prov_net_is_master(a, s1))
        usleep(20 * 1000);
    assert_true(prov_net_is_master(a, s1));
    prov_net_set_role(b, s1, true, g2, 60000);
    end = now_s() + 5;
    while (now_s() < end && !prov_net_is_master(b, s1))
        usleep(20 * 1000);
    assert_true(prov_net_is_master(b, s1));
    /* a has not heard of it: by its own state it may still write */
    assert_true(prov_net_is_master(a, s1));
    struct ofp_flow f[2];
    for (int i = 0; i < 2; i++) {
        ofp_flow_init(&f[i]);
        f[i].cookie = 0x5046000000fffff0ull + (unsigned)i;
        f[i].priority = 7;
        ofp_match_in_port(&f[i].match, 90 + (uint32_t)i);
    }
    prov_result res;
    assert_false(prov_net_batch(a, s1, f, 1, 2000, &res));
    printf("# a flow mod of the demoted master: %s\n", res.message);
    assert_true(res.not_master && res.unreachable);
    assert_non_null(strstr(res.message, "is_slave"));
    assert_false(prov_net_is_master(a, s1)); /* it knows now */
    /* and a bundle (two mods), asked again as master with its old
     * generation: refused as stale, nothing sent */
    prov_net_stats st;
    prov_net_set_role(a, s1, true, g1, 60000);
    assert_false(prov_net_batch(a, s1, f, 2, 2000, &res));
    assert_true(res.not_master);
    prov_net_get_stats(a, s1, &st);
    assert_int_equal(st.bundle_fallbacks, 0);
    assert_int_equal(flows_with_cookie("s1", 0x5046000000fffff0ull), 0);
    assert_int_equal(flows_with_cookie("s1", 0x5046000000fffff1ull), 0);
    /* the current master writes: a bundle of two */
    assert_true(prov_net_batch(b, s1, f, 2, 2000, &res));
    assert_int_equal(flows_with_cookie("s1", 0x5046000000fffff0ull), 1);
    prov_net_get_stats(b, s1, &st);
    assert_int_equal(st.bundle_fallbacks, 0);
    sh("ovs-ofctl -O OpenFlow13 del-flows unix:%s/s1.mgmt cookie=0x5046000000fffff0/-2", fabdir);
    prov_net_stop(a);
    prov_net_stop(b);
}

/* -------------------------------------------------------------- main */

static int run_all(void)
{
    fab("up %s %s", fabdir, netns);
    fab("switch %s s1 0000000000000001", fabdir);
    fab("switch %s s2 0000000000000002", fabdir);
    fab("switch %s s3 0000000000000003", fabdir);
    fab("link %s s1 10 s2 10", fabdir);
    fab("link %s s2 11 s3 10", fabdir);
    fab("host %s ha1 s1 1 10.1.0.1/24", fabdir);
    fab("trunk %s hat s1 2", fabdir);
    fab("host %s hb1 s3 1 10.1.0.3/24", fabdir);
    fab("trunk %s hct s3 2", fabdir);
    build_world();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lease_rules),
        cmocka_unit_test(kill_master_mid_batch),
        cmocka_unit_test(late_write_of_a_demoted_master_is_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pgt_drop(&db);
    return rc;
}

static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--worker") == 0)
        return worker_process(argv[2], argv[3]);
    if (geteuid() != 0 || system("command -v ovs-vswitchd >/dev/null 2>&1") != 0) {
        printf("skipped: needs root and Open vSwitch\n");
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
    /* always: processes, namespaces, veths, the directory (the worker
     * processes died with the test process: PR_SET_PDEATHSIG) */
    sh("bash '%s/scripts/fabric.sh' down %s", root, fabdir);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "test process died of signal %d\n", WTERMSIG(status));
    return 1;
}
