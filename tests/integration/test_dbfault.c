/* The database layer across a PostgreSQL restart (issue "Trust", item 6):
 * a broken connection is noticed and made again, the transaction that had
 * not committed runs once more, LISTEN is renewed, and while the server
 * is down every call fails fast with PF_EUNAVAIL and a Retry-After.
 *
 * Restarts the shared test cluster (tests/run.sh runs one suite at a time);
 * the teardown always starts it again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db.h"
#include "tests/support/pgtest.h"

static char pgdir[512], root[512];

static void cluster(const char *verb)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/pg.sh' %s '%s' %s >/dev/null", root, verb, pgdir,
             strcmp(verb, "start") == 0 ? "--fast" : "");
    if (system(cmd) != 0)
        fail_msg("pg.sh %s failed", verb);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static pf_kind count_tx(db_conn *c, void *ctx, pf_err *err)
{
    (void)ctx;
    return db_exec_script(c, "SELECT count(*) FROM peering_requests", err);
}

static pf_kind insert_tx(db_conn *c, void *ctx, pf_err *err)
{
    (void)ctx;
    return db_exec_script(c, "INSERT INTO networks (asn, name) VALUES (64999, 'Fault probe')", err);
}

static void restart_costs_nothing_and_listen_is_renewed(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "dbfault", false);
    pf_err err = {0};
    db_conn *listener = db_connect_as(db.app_url, DB_ROLE_WORKER, &err);
    assert_non_null(listener);
    assert_int_equal(db_listen(listener, "pf_fault_test", &err), PF_OK);
    db_scope sys = db_scope_system();
    assert_int_equal(db_run_tx(db.app, &sys, count_tx, NULL, &err), PF_OK);

    cluster("stop");
    cluster("start");
    PQreset(db.owner);

    /* the pooled connection is broken; the work still succeeds, once */
    if (db_run_tx(db.app, &sys, insert_tx, NULL, &err) != PF_OK)
        fail_msg("after the restart: %s", err.message);
    assert_string_equal(pgt_sql(&db, "SELECT count(*) FROM networks WHERE asn = 64999"),
                        "1");
    assert_true(db_reconnects(db.app) >= 1);
    /* the listener learns its connection broke (wake up: work may have
     * been missed), and its LISTEN is renewed */
    assert_true(db_wait_notify(listener, 3000));
    assert_true(db_reconnects(listener) >= 1);
    pgt_sql(&db, "NOTIFY pf_fault_test");
    assert_true(db_wait_notify(listener, 3000));
    assert_false(db_wait_notify(listener, 200)); /* and nothing more */

    /* down: fast, clear, retry later - and a listener waits, never spins */
    cluster("stop");
    double t0 = now_s();
    pf_err_clear(&err);
    assert_int_equal(db_run_tx(db.app, &sys, count_tx, NULL, &err), PF_EUNAVAIL);
    assert_string_equal(err.code, "database_unavailable");
    assert_int_equal(err.retry_after, 5);
    assert_true(now_s() - t0 < 5.0);
    t0 = now_s();
    assert_false(db_wait_notify(listener, 500));
    assert_true(now_s() - t0 >= 0.4);
    cluster("start");
    PQreset(db.owner);
    assert_int_equal(db_run_tx(db.app, &sys, count_tx, NULL, &err), PF_OK);
    db_close(listener);
    pgt_drop(&db);
}

/* A server that accepts and never answers (a hung host): connecting gives
 * up after DB_CONNECT_TIMEOUT (5 s), not never. A loopback socket that
 * listens and stays silent plays the hung server. */
static void silent_server_times_out(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    char url[128];
    snprintf(url, sizeof url, "host=127.0.0.1 port=%d dbname=x user=y sslmode=disable",
             ntohs(sa.sin_port));
    pf_err err = {0};
    double t0 = now_s();
    alarm(30); /* a regression must fail the suite, not hang it */
    db_conn *c = db_connect_as(url, DB_ROLE_APP, &err);
    alarm(0);
    double took = now_s() - t0;
    close(fd);
    assert_null(c);
    assert_int_equal(err.kind, PF_EUNAVAIL);
    assert_int_equal(err.retry_after, 5);
    if (took < 3.0 || took > 8.0)
        fail_msg("gave up after %.1f s, not about 5", took);
}

static int always_start(void **state)
{
    (void)state;
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/pg.sh' start '%s' --fast >/dev/null 2>&1", root,
             pgdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const char *host = getenv("PEERFLOW_TEST_PG_HOST"), *r = getenv("PEERFLOW_ROOT");
    if (host == NULL || r == NULL) {
        fprintf(stderr, "run through tests/run.sh\n");
        return 2;
    }
    snprintf(root, sizeof root, "%s", r);
    snprintf(pgdir, sizeof pgdir, "%s", host);
    char *slash = strrchr(pgdir, '/');
    if (slash != NULL)
        *slash = '\0'; /* PEERFLOW_TEST_PG_HOST is DIR/run */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(restart_costs_nothing_and_listen_is_renewed, always_start),
        cmocka_unit_test(silent_server_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, always_start);
}
