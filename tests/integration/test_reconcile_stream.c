/* Integration test of the streamed reconcile (issue 16): a switch with
 * thousands of desired flows is reconciled while the rows still come from
 * PostgreSQL, its mods sent in pieces of one bundle (provisioner/fabric.c,
 * prov_net_stream_*). Against a real Open vSwitch (scripts/fabric.sh) and
 * a real PostgreSQL (tests/run.sh), through prov_reconcile_now (what
 * `peerflow reconcile --switch` runs):
 *
 *   - from empty: the switch holds exactly the planned flows (ovs-ofctl
 *     diff-flows against a file of the same flows), a row that does not
 *     decode is not installed, the counts are exact;
 *   - healthy: nothing is sent;
 *   - drift of every kind at once (modified, removed, added, foreign):
 *     each counted and repaired, the foreign flow left alone;
 *   - a mod the switch refuses far into the stream (after pieces went
 *     out): the error names that flow and nothing of the bundle is
 *     applied; once fixed, the next reconcile succeeds;
 *   - a switch without bundles (a test double on a unix socket): the
 *     streamed bundle is refused, every mod is sent again without one.
 *
 * The process forks: the child runs the tests, the parent always removes
 * the fabric. */
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
#include <unistd.h>

#include <cmocka.h>

#include "provisioner/prov.h"
#include "tests/support/pgtest.h"
#include "workflow/admin.h"

enum { N = 3000 }; /* rows in the flows table (one does not decode) */
#define BAD_G 1234 /* the row that does not decode */

static char fabdir[64], netns[32], root[1024], flows_file[128];
static pgt_db db;
static long long circuit;

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

static void must(pf_kind k, const pf_err *err, const char *what)
{
    if (k != PF_OK)
        fail_msg("%s: %s", what, err->message);
}

static prov_reconcile_report reconcile(pf_kind want)
{
    prov_config cfg = {.database_url = db.app_url, .barrier_timeout_ms = 20000};
    prov_reconcile_report rep;
    pf_err err = {0};
    pf_kind k = prov_reconcile_now(&cfg, "s1", &rep, &err);
    if (k != want)
        fail_msg("reconcile gave %d, not %d: %s", k, want, err.message);
    return rep;
}

/* What the switch must hold for row g (the SQL below writes the same):
 * in_port 1000+g; untagged for g % 3 == 0 (push + set), else VLAN
 * 1 + g % 4000 (set, or pop for g % 3 == 2); output 1 + g % 50, or
 * 51 + g % 50 for the rows the drift test modifies (g < mod_below). */
static int out_port(int g, int mod_below)
{
    return g < mod_below ? 51 + g % 50 : 1 + g % 50;
}

/* The ovs-ofctl file of the flows the switch must hold: rows g in
 * [0, upto) except BAD_G and [gap_from, gap_to), the table-miss flow, and
 * extra (a line, or NULL). */
static void write_expected(int upto, int gap_from, int gap_to, int mod_below, const char *extra)
{
    FILE *fp = fopen(flows_file, "w");
    assert_non_null(fp);
    unsigned long long ck = 0x5046000000000000ULL | (unsigned long long)circuit;
    for (int g = 0; g < upto; g++) {
        if (g == BAD_G || (g >= gap_from && g < gap_to))
            continue;
        int port = out_port(g, mod_below);
        if (g % 3 == 0)
            fprintf(fp,
                    "cookie=0x%llx,priority=1000,in_port=%d,vlan_tci=0x0000/0x1fff,"
                    "actions=push_vlan:0x8100,set_field:%d->vlan_vid,output:%d\n",
                    ck, 1000 + g, 4096 + 1 + g % 4000, port);
        else if (g % 3 == 1)
            fprintf(fp,
                    "cookie=0x%llx,priority=1000,in_port=%d,dl_vlan=%d,"
                    "actions=set_field:%d->vlan_vid,output:%d\n",
                    ck, 1000 + g, 1 + g % 4000, 4096 + 2 + g % 4000, port);
        else
            fprintf(fp, "cookie=0x%llx,priority=1000,in_port=%d,dl_vlan=%d,actions=pop_vlan,output:%d\n",
                    ck, 1000 + g, 1 + g % 4000, port);
    }
    fprintf(fp, "cookie=0x5046000000000000,priority=0,actions=drop\n");
    if (extra)
        fprintf(fp, "%s\n", extra);
    fclose(fp);
}

/* The switch holds exactly the flows of flows_file. */
static void expect_switch_holds_file(const char *what)
{
    char out[160];
    snprintf(out, sizeof out, "%s.diff", flows_file);
    int rc = sh("ovs-ofctl -O OpenFlow13 diff-flows unix:%s/s1.mgmt %s > %s 2>&1", fabdir,
                flows_file, out);
    FILE *fp = fopen(out, "r");
    assert_non_null(fp);
    char line[512] = "";
    int lines = 0;
    char first[512] = "";
    while (fgets(line, sizeof line, fp))
        if (lines++ == 0)
            snprintf(first, sizeof first, "%s", line);
    fclose(fp);
    unlink(out);
    if (rc != 0 || lines != 0)
        fail_msg("%s: the switch differs from the plan in %d lines (rc %d), first: %s", what,
                 lines, rc, first);
}

/* Rows g in [from, to) of the flows table, as the planner writes them. */
static void insert_rows(int from, int to, int mod_below)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "INSERT INTO flows (circuit_id, switch_id, priority, match, actions, cookie)"
             " SELECT %lld, s.id, 1000,"
             " CASE WHEN g %% 3 = 0 THEN jsonb_build_object('in_port', 1000 + g, 'vlan', 'untagged')"
             "      ELSE jsonb_build_object('in_port', 1000 + g, 'vlan', 1 + g %% 4000) END,"
             " CASE WHEN g = %d THEN '[{\"type\": \"bogus\"}]'::jsonb"
             "      WHEN g %% 3 = 0 THEN jsonb_build_array("
             "        jsonb_build_object('type', 'push_vlan', 'ethertype', 33024),"
             "        jsonb_build_object('type', 'set_vlan_vid', 'vlan', 1 + g %% 4000),"
             "        jsonb_build_object('type', 'output', 'port', CASE WHEN g < %d THEN 51 ELSE 1 END + g %% 50))"
             "      WHEN g %% 3 = 1 THEN jsonb_build_array("
             "        jsonb_build_object('type', 'set_vlan_vid', 'vlan', 2 + g %% 4000),"
             "        jsonb_build_object('type', 'output', 'port', CASE WHEN g < %d THEN 51 ELSE 1 END + g %% 50))"
             "      ELSE jsonb_build_array(jsonb_build_object('type', 'pop_vlan'),"
             "        jsonb_build_object('type', 'output', 'port', CASE WHEN g < %d THEN 51 ELSE 1 END + g %% 50)) END,"
             " x'5046000000000000'::bigint | %lld"
             " FROM generate_series(%d, %d) g, switches s WHERE s.name = 's1'",
             circuit, BAD_G, mod_below, mod_below, mod_below, circuit, from, to - 1);
    pgt_sql(&db, sql);
}

static void install_from_empty_is_exact(void **state)
{
    (void)state;
    insert_rows(0, N, 0);
    assert_int_equal(sh("ovs-ofctl -O OpenFlow13 del-flows unix:%s/s1.mgmt", fabdir), 0);
    prov_reconcile_report rep = reconcile(PF_OK);
    assert_int_equal(rep.switches, 1);
    assert_int_equal(rep.total.desired, N); /* N - 1 rows that decode + the table-miss */
    assert_int_equal(rep.total.added, N);
    assert_int_equal(rep.total.modified + rep.total.removed + rep.total.unchanged, 0);
    write_expected(N, 0, 0, 0, NULL);
    expect_switch_holds_file("install from empty");
}

static void healthy_switch_gets_nothing(void **state)
{
    (void)state;
    prov_reconcile_report rep = reconcile(PF_OK);
    assert_int_equal(rep.total.added + rep.total.modified + rep.total.removed, 0);
    assert_int_equal(rep.total.unchanged, N);
    expect_switch_holds_file("healthy");
}

static void every_drift_at_once_repaired(void **state)
{
    (void)state;
    /* modified: rows below 700 now output elsewhere (in the database);
     * removed: rows 1500-2099 no longer desired; added: rows N..N+599 new;
     * foreign: a flow of another controller */
    pgt_sql(&db, "DELETE FROM flows WHERE priority = 1000 AND (match->>'in_port')::int - 1000 < 700");
    insert_rows(0, 700, 700);
    pgt_sql(&db, "DELETE FROM flows WHERE priority = 1000 AND (match->>'in_port')::int - 1000"
                 " BETWEEN 1500 AND 2099");
    insert_rows(N, N + 600, 700);
    assert_int_equal(
        sh("ovs-ofctl -O OpenFlow13 add-flow unix:%s/s1.mgmt "
           "cookie=0x1234,priority=7,in_port=9,actions=drop",
           fabdir),
        0);
    prov_reconcile_report rep = reconcile(PF_OK);
    assert_int_equal(rep.total.modified, 700);
    assert_int_equal(rep.total.removed, 600);
    assert_int_equal(rep.total.added, 600);
    assert_int_equal(rep.total.foreign, 1);
    assert_int_equal(rep.total.unchanged, N - 1 - 700 - 600 + 1);
    write_expected(N + 600, 1500, 2100, 700, "cookie=0x1234,priority=7,in_port=9,actions=drop");
    expect_switch_holds_file("after the drift");
}

static void refused_mod_late_in_the_stream_applies_nothing(void **state)
{
    (void)state;
    /* many mods (the rows 0-999 output elsewhere again), and one the
     * switch refuses (a port beyond OpenFlow's range), written last */
    pgt_sql(&db, "UPDATE flows SET actions = jsonb_set(actions, ARRAY[(jsonb_array_length(actions)"
                 " - 1)::text, 'port'], to_jsonb(1 + ((match->>'in_port')::int - 1000) % 50))"
                 " WHERE priority = 1000 AND (match->>'in_port')::int - 1000 < 1000"
                 " AND (match->>'in_port')::int - 1000 <> 1234");
    pgt_sql(&db, "UPDATE flows SET actions = '[{\"type\": \"output\", \"port\": 70000}]'"
                 " WHERE priority = 1000 AND (match->>'in_port')::int = 1000 + 2900");
    prov_config cfg = {.database_url = db.app_url, .barrier_timeout_ms = 20000};
    prov_reconcile_report rep;
    pf_err err = {0};
    pf_kind k = prov_reconcile_now(&cfg, "s1", &rep, &err);
    printf("# refused: %s\n", err.message);
    assert_int_equal(k, PF_ECONFLICT);
    assert_non_null(strstr(err.message, "on flow"));
    assert_non_null(strstr(err.message, "in_port=3900"));
    assert_non_null(strstr(err.message, "output:70000"));
    /* the bundle was discarded: the switch is as it was */
    expect_switch_holds_file("after the refused bundle");
    /* fixed, the next reconcile applies all of it */
    pgt_sql(&db, "UPDATE flows SET actions = jsonb_build_array(jsonb_build_object('type',"
                 " 'pop_vlan'), jsonb_build_object('type', 'output', 'port', 1 + 2900 % 50))"
                 " WHERE priority = 1000 AND (match->>'in_port')::int = 1000 + 2900");
    rep = reconcile(PF_OK);
    assert_int_equal(rep.total.modified, 700); /* back to the first ports */
    assert_int_equal(rep.total.added + rep.total.removed, 0);
    write_expected(N + 600, 1500, 2100, 0, "cookie=0x1234,priority=7,in_port=9,actions=drop");
    expect_switch_holds_file("after the fix");
}

/* ------------------------------------------- a switch without bundles
 *
 * Answers the handshake, barriers and (empty) flow and meter dumps,
 * counts flow mods, and refuses every EXPERIMENTER message (the bundle
 * messages) as a switch without the bundle extension does. */

static int fake_fd = -1;
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
    for (;;) {
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
            len = 0;
            if (h.type == OFPT_FEATURES_REQUEST) {
                struct ofp_features f = {.datapath_id = 0xfe, .n_tables = 254};
                ofp_encode_features_reply(out, sizeof out, h.xid, &f, &len, NULL);
            } else if (h.type == OFPT_ECHO_REQUEST) {
                ofp_encode_echo_reply(out, sizeof out, h.xid, NULL, 0, &len, NULL);
            } else if (h.type == OFPT_BARRIER_REQUEST) {
                ofp_encode_barrier_reply(out, sizeof out, h.xid, &len, NULL);
            } else if (h.type == OFPT_FLOW_MOD) {
                __atomic_add_fetch(&fake_flow_mods, 1, __ATOMIC_SEQ_CST);
            } else if (h.type == OFPT_EXPERIMENTER) {
                __atomic_add_fetch(&fake_experimenters, 1, __ATOMIC_SEQ_CST);
                ofp_encode_error(out, sizeof out, h.xid, OFPET_BAD_REQUEST,
                                 3 /* bad_experimenter */, m, mlen < 64 ? mlen : 64, &len, NULL);
            } else if (h.type == OFPT_MULTIPART_REQUEST) {
                ofp_decode_multipart_header(m, mlen, OFPT_MULTIPART_REQUEST, &mp, NULL, NULL);
                if (mp == OFPMP_FLOW)
                    ofp_encode_flow_stats_reply(out, sizeof out, h.xid, 0, NULL, 0, &len, NULL);
                else
                    ofp_encode_meter_config_reply(out, sizeof out, h.xid, 0, NULL, 0, &len,
                                                  NULL);
            }
            if (len)
                fake_send(fd, out, len);
            off += mlen;
        }
        memmove(in, in + off, have - off);
        have -= off;
    }
}

static void *fake_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(fake_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        fake_serve(fd);
        close(fd);
    }
}

static void switch_without_bundles_gets_every_mod_plain(void **state)
{
    (void)state;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/fake.sock", fabdir);
    fake_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fake_fd >= 0);
    assert_int_equal(bind(fake_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fake_fd, 4), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fake_main, NULL), 0);
    pthread_detach(t); /* it ends with the process */
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    char ep[128];
    snprintf(ep, sizeof ep, "unix:%s", sa.sun_path);
    wf_switch_input s = {"fake", "00000000000000fe", ep};
    must(wf_switch_add(&db.env, &op, &s, &id, &err), &err, "fake switch");
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO flows (circuit_id, switch_id, priority, match, actions, cookie)"
             " SELECT %lld, %lld, 1000, jsonb_build_object('in_port', 1000 + g),"
             " '[{\"type\": \"output\", \"port\": 2}]'::jsonb, x'5046000000000000'::bigint | %lld"
             " FROM generate_series(0, 1999) g",
             circuit, id, circuit);
    pgt_sql(&db, sql);
    prov_config cfg = {.database_url = db.app_url, .barrier_timeout_ms = 20000};
    prov_reconcile_report rep;
    pf_kind k = prov_reconcile_now(&cfg, "fake", &rep, &err);
    if (k != PF_OK)
        fail_msg("reconcile of the switch without bundles: %s", err.message);
    assert_int_equal(rep.total.added, 2001);
    /* the streamed bundle: its OPEN and its 2001 adds, all refused; then
     * every mod again, plain */
    assert_int_equal(__atomic_load_n(&fake_experimenters, __ATOMIC_SEQ_CST), 1 + 2001);
    assert_int_equal(__atomic_load_n(&fake_flow_mods, __ATOMIC_SEQ_CST), 2001);
}

static int run_all(void)
{
    if (sh("bash '%s/scripts/fabric.sh' up %s %s", root, fabdir, netns) != 0 ||
        sh("bash '%s/scripts/fabric.sh' switch %s s1 0000000000000001", root, fabdir) != 0) {
        fprintf(stderr, "fabric.sh failed\n");
        return 2;
    }
    pgt_create(&db, "reconcile_stream", false);
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    const char *ca[] = {"noc@a.example"}, *cb[] = {"peering@b.example"};
    wf_network_input na = {"64500", "Net A", "selective", ca, 1, false};
    wf_network_input nb = {"64501", "Net B", "selective", cb, 1, false};
    must(wf_network_add(&db.env, &op, &na, &id, &err), &err, "network A");
    must(wf_network_add(&db.env, &op, &nb, &id, &err), &err, "network B");
    char ep[128];
    snprintf(ep, sizeof ep, "unix:%s/s1.sock", fabdir);
    wf_switch_input s = {"s1", "0000000000000001", ep};
    must(wf_switch_add(&db.env, &op, &s, &id, &err), &err, "switch");
    wf_port_input p = {"64500", "s1", "1", "a1", "access", NULL};
    must(wf_port_add(&db.env, &op, &p, &id, &err), &err, "port");
    pgt_sql(&db, "INSERT INTO peering_requests (requester_network_id, requester_port_id,"
                 " peer_network_id) SELECT a.id, p.id, b.id FROM networks a, networks b, ports p"
                 " WHERE a.asn = 64500 AND b.asn = 64501 AND p.name = 'a1'");
    circuit = atoll(pgt_sql(&db, "INSERT INTO circuits (request_id, state) SELECT max(id),"
                                 " 'installed' FROM peering_requests RETURNING id"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(install_from_empty_is_exact),
        cmocka_unit_test(healthy_switch_gets_nothing),
        cmocka_unit_test(every_drift_at_once_repaired),
        cmocka_unit_test(refused_mod_late_in_the_stream_applies_nothing),
        cmocka_unit_test(switch_without_bundles_gets_every_mod_plain),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(flows_file);
    if (fake_fd >= 0)
        shutdown(fake_fd, SHUT_RDWR), close(fake_fd);
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
        return 77;
    }
    const char *r = getenv("PEERFLOW_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    snprintf(fabdir, sizeof fabdir, "/tmp/pfrs.%d", (int)getpid());
    snprintf(netns, sizeof netns, "pfrs%d", (int)getpid());
    snprintf(flows_file, sizeof flows_file, "/tmp/pfrs-flows.%d", (int)getpid());
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
