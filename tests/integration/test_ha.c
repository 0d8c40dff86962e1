/* The database layer for a failover (issue 17, part 1): multi-host
 * connection strings work through both connection paths (as connected,
 * and switched to a role by db/role.c), peerflow's connection defaults
 * (connect_timeout, TCP keepalives) are set and the URL's own values win,
 * and a transaction whose COMMIT was sent when the connection broke is
 * never run again (it may have committed on the old primary).
 *
 * The whole failover, with a real standby promoted under load, is
 * tests/integration/ha_test.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db_internal.h"
#include "tests/support/pgtest.h"

static const char *sock_dir, *pg_port;

/* A TCP port on 127.0.0.1 nothing listens on (bound, never listened:
 * a connection there is refused at once, like a dead primary's). */
static int dead_port(int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(*fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

/* The value libpq uses for keyword on this connection. */
static const char *conn_option(db_conn *c, const char *keyword, char *buf, size_t n)
{
    PQconninfoOption *o = PQconninfo(c->pg);
    buf[0] = '\0';
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (strcmp(p->keyword, keyword) == 0 && p->val)
            snprintf(buf, n, "%s", p->val);
    PQconninfoFree(o);
    return buf;
}

static const char *show(db_conn *c, const char *setting)
{
    static char val[64];
    char sql[96];
    snprintf(sql, sizeof sql, "SHOW %s", setting);
    PGresult *r = PQexec(c->pg, sql);
    snprintf(val, sizeof val, "%s", PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?");
    PQclear(r);
    return val;
}

static const char *current_user(db_conn *c)
{
    static char user[64];
    PGresult *r = PQexec(c->pg, "SELECT current_user");
    snprintf(user, sizeof user, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return user;
}

/* The first host is down, the second is the primary: every way peerflow
 * connects (as connected; a superuser switched to peerflow_app or
 * peerflow_worker, which rebuilds the parameters from the parsed URL)
 * ends on the second, in both spellings of a multi-host string. */
static void multi_host_urls_reach_the_primary(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "ha_multi", false);
    int fd, dead = dead_port(&fd);
    char kv[1024], url[1024];
    snprintf(kv, sizeof kv,
             "host=127.0.0.1,%s port=%d,%s dbname=pft_ha_multi user=peerflow "
             "target_session_attrs=read-write",
             sock_dir, dead, pg_port);
    snprintf(url, sizeof url,
             "postgresql://peerflow@127.0.0.1:%d,127.0.0.1:%s/pft_ha_multi"
             "?target_session_attrs=read-write",
             dead, pg_port);
    const char *urls[] = {kv, url};
    for (int i = 0; i < 2; i++) {
        pf_err err = {0};
        db_conn *c = db_connect(urls[i], &err);
        if (c == NULL)
            fail_msg("db_connect(%s): %s", urls[i], err.message);
        assert_string_equal(current_user(c), "peerflow");
        db_close(c);
        c = db_connect_as(urls[i], DB_ROLE_APP, &err);
        if (c == NULL)
            fail_msg("db_connect_as(%s): %s", urls[i], err.message);
        assert_string_equal(current_user(c), "peerflow_app");
        char buf[256];
        assert_string_equal(conn_option(c, "target_session_attrs", buf, sizeof buf),
                            "read-write");
        /* a reconnect walks the list again and lands on the primary, as the role */
        PQreset(c->pg);
        assert_int_equal(PQstatus(c->pg), CONNECTION_OK);
        assert_string_equal(current_user(c), "peerflow_app");
        db_close(c);
        c = db_connect_as(urls[i], DB_ROLE_WORKER, &err);
        assert_non_null(c);
        assert_string_equal(current_user(c), "peerflow_worker");
        db_close(c);
    }
    close(fd);
    pgt_drop(&db);
}

/* keepalives and connect_timeout are on by default, JIT off, on both
 * paths, and a value in the URL wins over peerflow's. */
static void connection_defaults_and_url_wins(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "ha_defaults", false);
    char plain[512], own[1024], buf[64];
    snprintf(plain, sizeof plain, "host=%s port=%s dbname=pft_ha_defaults user=peerflow",
             sock_dir, pg_port);
    snprintf(own, sizeof own, "%s keepalives_idle=42 connect_timeout=7", plain);
    pf_err err = {0};
    for (int as_role = 0; as_role < 2; as_role++) {
        db_conn *c = as_role ? db_connect_as(plain, DB_ROLE_APP, &err) : db_connect(plain, &err);
        assert_non_null(c);
        assert_string_equal(conn_option(c, "keepalives", buf, sizeof buf), "1");
        assert_string_equal(conn_option(c, "keepalives_idle", buf, sizeof buf), "10");
        assert_string_equal(conn_option(c, "keepalives_interval", buf, sizeof buf), "3");
        assert_string_equal(conn_option(c, "keepalives_count", buf, sizeof buf), "3");
        assert_string_equal(conn_option(c, "connect_timeout", buf, sizeof buf), "5");
        assert_string_equal(show(c, "jit"), "off");
        db_close(c);
        c = as_role ? db_connect_as(own, DB_ROLE_APP, &err) : db_connect(own, &err);
        assert_non_null(c);
        assert_string_equal(conn_option(c, "keepalives_idle", buf, sizeof buf), "42");
        assert_string_equal(conn_option(c, "connect_timeout", buf, sizeof buf), "7");
        assert_string_equal(conn_option(c, "keepalives_count", buf, sizeof buf), "3");
        db_close(c);
        char jit_on[1100];
        snprintf(jit_on, sizeof jit_on, "%s options='-c jit=on'", plain);
        c = as_role ? db_connect_as(jit_on, DB_ROLE_APP, &err) : db_connect(jit_on, &err);
        assert_non_null(c);
        assert_string_equal(show(c, "jit"), "on");
        db_close(c);
    }
    pgt_drop(&db);
}

struct commit_probe {
    pgt_db *db;
    int calls;
};

/* Inserts a row, then has the server end this very connection before
 * COMMIT goes out: the COMMIT is sent and finds the connection broken,
 * exactly what a client sees when the primary dies during its commit. */
static pf_kind insert_then_lose(db_conn *c, void *ctx, pf_err *err)
{
    struct commit_probe *p = ctx;
    p->calls++;
    pf_kind k = db_exec_script(c, "INSERT INTO networks (asn, name) VALUES (64998, 'HA probe')",
                               err);
    if (k != PF_OK)
        return k;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d, 5000)", PQbackendPID(c->pg));
    pgt_sql(p->db, sql);
    return PF_OK;
}

static void lost_commit_is_not_retried(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "ha_commit", false);
    struct commit_probe p = {.db = &db};
    db_scope sys = db_scope_system();
    pf_err err = {0};
    unsigned long before = db_reconnects(db.app);
    assert_int_equal(db_run_tx(db.app, &sys, insert_then_lose, &p, &err), PF_EUNAVAIL);
    assert_int_equal(p.calls, 1); /* once: the outcome was unknown */
    assert_string_equal(err.code, "database_unavailable");
    assert_int_equal(err.retry_after, 5);
    assert_non_null(strstr(err.message, "may have been saved"));
    /* (here it was not: the server ended the session before COMMIT) */
    assert_string_equal(pgt_sql(&db, "SELECT count(*) FROM networks WHERE asn = 64998"), "0");
    /* the connection was made again for the next transaction */
    assert_true(db_reconnects(db.app) > before);
    assert_int_equal(db_ping(db.app, &err), PF_OK);
    pgt_drop(&db);
}

/* The same with a queued write (db_defer): the write waits for COMMIT's
 * pipeline, the connection is gone when that goes out. Same answer, and
 * nothing half-written. */
static const db_stmt probe_insert = {
    "pft_probe_insert", "INSERT INTO networks (asn, name) VALUES ($1, 'HA probe')", 1};

static pf_kind queue_then_lose(db_conn *c, void *ctx, pf_err *err)
{
    struct commit_probe *p = ctx;
    p->calls++;
    const char *params[1] = {"64997"};
    pf_kind k = db_defer(c, &probe_insert, params, err);
    if (k != PF_OK)
        return k;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d, 5000)", PQbackendPID(c->pg));
    pgt_sql(p->db, sql);
    return PF_OK;
}

static void lost_commit_of_queued_writes_is_not_retried(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "ha_commit_queued", false);
    struct commit_probe p = {.db = &db};
    db_scope sys = db_scope_system();
    pf_err err = {0};
    assert_int_equal(db_run_tx(db.app, &sys, queue_then_lose, &p, &err), PF_EUNAVAIL);
    assert_int_equal(p.calls, 1);
    assert_string_equal(err.code, "database_unavailable");
    assert_non_null(strstr(err.message, "may have been saved"));
    assert_string_equal(pgt_sql(&db, "SELECT count(*) FROM networks WHERE asn = 64997"), "0");
    assert_int_equal(db_ping(db.app, &err), PF_OK);
    pgt_drop(&db);
}

int main(void)
{
    sock_dir = getenv("PEERFLOW_TEST_PG_HOST");
    pg_port = getenv("PEERFLOW_TEST_PG_PORT");
    if (sock_dir == NULL || pg_port == NULL) {
        fprintf(stderr, "run through tests/run.sh\n");
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(multi_host_urls_reach_the_primary),
        cmocka_unit_test(connection_defaults_and_url_wins),
        cmocka_unit_test(lost_commit_is_not_retried),
        cmocka_unit_test(lost_commit_of_queued_writes_is_not_retried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
