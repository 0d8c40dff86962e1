/* OpenFlow over TLS on a real Open vSwitch fabric, with Open vSwitch's
 * own PKI tool (issue 13, part 4):
 *
 *   ovs-pki: a controller CA (signs peerflow's certificate ctl) and a
 *   switch CA (signs sw1 and sw2).
 *   fabric A (namespace NS, where this test runs its provisioner):
 *     s1 (dpid 1) with hosts h1 s1:1 10.5.0.1, h2 s1:2 10.5.0.2;
 *     set-ssl sw1, controller ssl:127.0.0.1:PORT (it connects to us).
 *   fabric B (namespace NSB, a veth 10.99.0.2 <-> 10.99.0.1 to NS):
 *     an impostor bridge with s1's datapath id, set-ssl sw2, controller
 *     ssl:10.99.0.1:PORT.
 *
 * s1 is registered with `peerflow switch add --cert sw1-cert.pem`. A
 * circuit provisions over TLS and carries pings; the impostor, whose
 * certificate the CA signed but is not the one pinned, is refused and
 * audited while s1 stays connected; a plain TCP client on the TLS
 * listener gets no OpenFlow at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "provisioner/prov.h"
#include "provisioner/transport.h"
#include "tests/support/pgtest.h"
#include "workflow/admin.h"
#include "workflow/requests.h"

static char fabdir[64], fabdir_b[64], netns[32], netns_b[32], root[1024], pki[96];
static pgt_db db;
static prov_service *svc;
static int port;

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

static void must_sh(const char *what, int rc)
{
    if (rc != 0) {
        fprintf(stderr, "set-up failed: %s\n", what);
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

static long long switch_id(const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id FROM switches WHERE name = '%s'", name);
    return atoll(pgt_sql(&db, sql));
}

static void build_world(void)
{
    pgt_create(&db, "tls", false);
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    const char *ca[] = {"noc@a.example"}, *cb[] = {"peering@b.example"};
    wf_network_input na = {"64500", "Net A", "selective", ca, 1, false};
    wf_network_input nb = {"64501", "Net B", "selective", cb, 1, false};
    must(wf_network_add(&db.env, &op, &na, &id, &err), &err, "network A");
    must(wf_network_add(&db.env, &op, &nb, &id, &err), &err, "network B");
    /* the CLI pins the certificate from its PEM file */
    if (sh("PEERFLOW_DATABASE_URL='%s' '%s' switch add --name s1 --dpid 0000000000000001 "
           "--cert %s/sw1-cert.pem >/dev/null",
           db.app_url, getenv("PEERFLOW_BIN"), pki) != 0)
        fail_msg("peerflow switch add --cert failed");
    wf_port_input ports[] = {
        {"64500", "s1", "1", "a1", "access", NULL},
        {"64501", "s1", "2", "b1", "access", NULL},
    };
    for (size_t i = 0; i < 2; i++)
        must(wf_port_add(&db.env, &op, &ports[i], &id, &err), &err, "port");
    wf_user_input users[] = {
        {"admin@a.example", "64500", "admin", NULL},
        {"admin@b.example", "64501", "admin", NULL},
    };
    for (size_t i = 0; i < 2; i++)
        must(wf_user_add(&db.env, &op, &users[i], &id, &err), &err, "user");
}

/* ------------------------------------------------------------- tests */

static void pin_is_recorded(void **state)
{
    (void)state;
    char fp[65], why[200];
    char path[160];
    snprintf(path, sizeof path, "%s/sw1-cert.pem", pki);
    assert_true(prov_tx_cert_file_sha256(path, fp, why, sizeof why));
    assert_string_equal(pgt_sql(&db, "SELECT cert_sha256 FROM switches WHERE name = 's1'"), fp);
    /* a malformed fingerprint is refused with a sentence */
    assert_int_not_equal(sh("PEERFLOW_DATABASE_URL='%s' '%s' switch add --name s9 --dpid "
                            "0000000000000009 --cert-fingerprint 12ab 2>/dev/null",
                            db.app_url, getenv("PEERFLOW_BIN")),
                         0);
}

static void circuit_provisions_over_tls(void **state)
{
    (void)state;
    long long s1 = switch_id("s1");
    if (!prov_net_wait_connected(prov_service_net(svc), s1, 15000)) {
        char e[300];
        prov_net_last_error(prov_service_net(svc), s1, e, sizeof e);
        fail_msg("s1 did not connect over TLS: %s", e);
    }
    wf_actor a = pgt_actor(&db, "admin@a.example");
    wf_submit_input in = {.port = "a1", .peer_asn = 64501, .peer_port = "b1",
                          .no_bgp_ipv4 = true, .no_bgp_ipv6 = true};
    long long id = 0;
    pf_err err = {0};
    must(wf_request_submit(&db.env, &a, &in, &id, &err), &err, "submit");
    wf_actor p = pgt_actor(&db, "admin@b.example");
    wf_decision_input d = {.port = "b1"};
    must(wf_request_approve(&db.env, &p, id, &d, &err), &err, "approve");
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT state FROM peering_requests WHERE id = %lld", id);
    double end = now_s() + 20;
    while (now_s() < end && strcmp(pgt_sql(&db, sql), "active") != 0)
        usleep(100 * 1000);
    assert_string_equal(pgt_sql(&db, sql), "active");
    bool pinged = false;
    for (int i = 0; i < 5 && !pinged; i++)
        pinged = sh("bash '%s/scripts/fabric.sh' exec %s h1 ping -c 1 -W 1 10.5.0.2 >/dev/null "
                    "2>&1",
                    root, fabdir) == 0;
    assert_true(pinged);
}

static void impostor_refused_first_stays(void **state)
{
    (void)state;
    long long s1 = switch_id("s1");
    prov_net_stats before, after;
    prov_net_get_stats(prov_service_net(svc), s1, &before);
    /* fabric B's bridge claims s1's datapath id with sw2's certificate */
    must_sh("impostor controller",
            sh("bash '%s/scripts/fabric.sh' vsctl %s set-controller s1 ssl:10.99.0.1:%d",
               root, fabdir_b, port));
    double end = now_s() + 20;
    while (now_s() < end &&
           atoi(pgt_sql(&db, "SELECT count(*) FROM audit_events WHERE action = "
                             "'switch.connection_refused'")) == 0)
        usleep(100 * 1000);
    const char *after_json = pgt_sql(&db, "SELECT coalesce(max(after::text), '') FROM "
                                          "audit_events WHERE action = "
                                          "'switch.connection_refused'");
    if (strstr(after_json, "presented_sha256") == NULL)
        fail_msg("no audited refusal of the impostor (audit: '%s')", after_json);
    printf("# audited: %s\n", after_json);
    /* the impostor keeps retrying; s1 stays connected through all of it */
    sleep(3);
    prov_net_get_stats(prov_service_net(svc), s1, &after);
    assert_true(after.refused > before.refused);
    assert_int_equal(after.disconnects, before.disconnects);
    assert_true(prov_net_connected(prov_service_net(svc), s1));
    assert_int_equal(sh("bash '%s/scripts/fabric.sh' exec %s h1 ping -c 1 -W 2 10.5.0.2 "
                        ">/dev/null 2>&1",
                        root, fabdir),
                     0);
    sh("bash '%s/scripts/fabric.sh' vsctl %s del-controller s1", root, fabdir_b);
}

static void plain_tcp_refused(void **state)
{
    (void)state;
    unsigned long before = prov_net_tls_refused(prov_service_net(svc));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    uint8_t hello[16];
    size_t len;
    ofp_encode_hello(hello, sizeof hello, 1, 1u << OFP13_VERSION, &len, NULL);
    assert_int_equal(write(fd, hello, len), (ssize_t)len);
    /* no OpenFlow comes back: the connection is closed (a TLS alert at
     * most, never a HELLO) */
    uint8_t buf[256];
    size_t got = 0;
    double end = now_s() + 10;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (now_s() > end || poll(&p, 1, 500) < 0)
            break;
        if (!(p.revents & (POLLIN | POLLHUP)))
            continue;
        ssize_t r = read(fd, buf + got, sizeof buf - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    assert_true(now_s() <= end); /* closed, not timed out */
    assert_false(got >= 8 && buf[0] == OFP13_VERSION && buf[1] == OFPT_HELLO);
    end = now_s() + 5;
    while (now_s() < end && prov_net_tls_refused(prov_service_net(svc)) == before)
        usleep(50 * 1000);
    assert_true(prov_net_tls_refused(prov_service_net(svc)) > before);
}

/* ------------------------------------------------------------- set-up */

static int run_all(void)
{
    /* fabric A, with this process inside its namespace (below) */
    must_sh("fabric A", sh("bash '%s/scripts/fabric.sh' up %s %s", root, fabdir, netns));
    must_sh("s1", sh("bash '%s/scripts/fabric.sh' switch %s s1 0000000000000001", root, fabdir));
    must_sh("h1", sh("bash '%s/scripts/fabric.sh' host %s h1 s1 1 10.5.0.1/24", root, fabdir));
    must_sh("h2", sh("bash '%s/scripts/fabric.sh' host %s h2 s1 2 10.5.0.2/24", root, fabdir));
    /* the PKI: ovs-pki's controller CA signs peerflow's certificate, its
     * switch CA the switches' */
    snprintf(pki, sizeof pki, "%s/pki", fabdir);
    must_sh("ovs-pki", sh("mkdir -p %s %s/tlsdir && cd %s && "
                          "ovs-pki --dir=%s/ca init >/dev/null 2>&1 && "
                          "ovs-pki --dir=%s/ca req+sign ctl controller >/dev/null 2>&1 && "
                          "ovs-pki --dir=%s/ca req+sign sw1 switch >/dev/null 2>&1 && "
                          "ovs-pki --dir=%s/ca req+sign sw2 switch >/dev/null 2>&1",
                          pki, fabdir, pki, pki, pki, pki, pki));
    must_sh("tls dir", sh("cp %s/ctl-privkey.pem %s/tlsdir/key.pem && cp %s/ctl-cert.pem "
                          "%s/tlsdir/cert.pem && cp %s/ca/switchca/cacert.pem "
                          "%s/tlsdir/cacert.pem",
                          pki, fabdir, pki, fabdir, pki, fabdir));
    must_sh("s1 ssl", sh("bash '%s/scripts/fabric.sh' vsctl %s set-ssl %s/sw1-privkey.pem "
                         "%s/sw1-cert.pem %s/ca/controllerca/cacert.pem",
                         root, fabdir, pki, pki, pki));
    /* fabric B: the impostor, joined to A by a veth */
    must_sh("fabric B", sh("bash '%s/scripts/fabric.sh' up %s %s", root, fabdir_b, netns_b));
    must_sh("impostor", sh("bash '%s/scripts/fabric.sh' switch %s s1 0000000000000001", root,
                           fabdir_b));
    must_sh("impostor ssl", sh("bash '%s/scripts/fabric.sh' vsctl %s set-ssl %s/sw2-privkey.pem "
                               "%s/sw2-cert.pem %s/ca/controllerca/cacert.pem",
                               root, fabdir_b, pki, pki, pki));
    must_sh("veth", sh("ip link add pft-a netns %s type veth peer name pft-b netns %s && "
                       "ip -n %s addr add 10.99.0.1/30 dev pft-a && ip -n %s link set pft-a up && "
                       "ip -n %s addr add 10.99.0.2/30 dev pft-b && ip -n %s link set pft-b up",
                       netns, netns_b, netns, netns, netns_b, netns_b));
    char nspath[128];
    snprintf(nspath, sizeof nspath, "/var/run/netns/%s", netns);
    int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "cannot enter %s: %s\n", nspath, strerror(errno));
        return 1;
    }
    close(nsfd);
    build_world();
    port = 16653 + (int)(getpid() % 1000);
    static char listen_on[64], tls_dir[128];
    snprintf(listen_on, sizeof listen_on, "ssl:0.0.0.0:%d", port);
    snprintf(tls_dir, sizeof tls_dir, "%s/tlsdir", fabdir);
    prov_config cfg = {.database_url = db.app_url,
                       .openflow_listen = listen_on,
                       .openflow_tls_dir = tls_dir,
                       .workers = 1,
                       .poll_ms = 50,
                       .barrier_timeout_ms = 3000,
                       .unreachable_fail_ms = 60000,
                       .retry_max_ms = 500,
                       .reconcile_interval_ms = 600000,
                       .echo_interval_ms = 1000,
                       .dead_after_ms = 4000,
                       .backoff_max_ms = 300,
                       .refresh_ms = 300};
    pf_err err;
    svc = prov_service_start(&cfg, &err);
    if (svc == NULL) {
        fprintf(stderr, "provisioner: %s\n", err.message);
        return 1;
    }
    must_sh("s1 controller", sh("bash '%s/scripts/fabric.sh' vsctl %s set-controller s1 "
                                "ssl:127.0.0.1:%d",
                                root, fabdir, port));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pin_is_recorded),
        cmocka_unit_test(circuit_provisions_over_tls),
        cmocka_unit_test(impostor_refused_first_stays),
        cmocka_unit_test(plain_tcp_refused),
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
    if (geteuid() != 0 || system("command -v ovs-vswitchd >/dev/null 2>&1") != 0 ||
        system("command -v ovs-pki >/dev/null 2>&1") != 0) {
        printf("skipped: needs root, Open vSwitch and ovs-pki\n");
        return 77;
    }
    const char *r = getenv("PEERFLOW_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    snprintf(fabdir, sizeof fabdir, "/tmp/pft.%d", (int)getpid());
    snprintf(fabdir_b, sizeof fabdir_b, "/tmp/pfu.%d", (int)getpid());
    snprintf(netns, sizeof netns, "pfs%d", (int)getpid());
    snprintf(netns_b, sizeof netns_b, "pfx%d", (int)getpid());
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
    sh("bash '%s/scripts/fabric.sh' down %s", root, fabdir_b);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "test process died of signal %d\n", WTERMSIG(status));
    return 1;
}
