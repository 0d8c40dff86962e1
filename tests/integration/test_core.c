/* Integration tests of the core against a real PostgreSQL: migrations,
 * the database's own transition guard, the append-only audit chain,
 * row-level security, concurrent decisions, reports, atomicity, expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "db/migrate.h"
#include "tests/support/pgtest.h"
#include "workflow/admin.h"
#include "workflow/queries.h"
#include "workflow/requests.h"

/* ------------------------------------------------------------ helpers */

static long long submit(pgt_db *db, const char *who, const char *port, int vlan, long long peer)
{
    wf_actor a = pgt_actor(db, who);
    wf_submit_input in = {.port = port, .vlan = vlan, .peer_asn = peer};
    long long id = 0;
    pf_err err = {0};
    pf_kind k = wf_request_submit(&db->env, &a, &in, &id, &err);
    if (k != PF_OK)
        fail_msg("submit by %s: %s", who, err.message);
    return id;
}

static pf_kind decide(pgt_db *db, const char *who, long long id, const char *what,
                      const char *port, pf_err *err)
{
    wf_actor a = pgt_actor(db, who);
    wf_decision_input in = {.port = port};
    if (strcmp(what, "approve") == 0)
        return wf_request_approve(&db->env, &a, id, &in, err);
    if (strcmp(what, "reject") == 0)
        return wf_request_reject(&db->env, &a, id, &in, err);
    if (strcmp(what, "cancel") == 0)
        return wf_request_cancel(&db->env, &a, id, &in, err);
    return wf_request_decommission(&db->env, &a, id, &in, err);
}

static void prov(pgt_db *db, long long id, wf_event ev, const char *detail)
{
    wf_actor sys = wf_actor_system("provisioner");
    pf_err err = {0};
    if (wf_request_provision_event(&db->env, &sys, id, ev, detail, &err) != PF_OK)
        fail_msg("provision event %d on %lld: %s", ev, id, err.message);
}

static const char *state_of(pgt_db *db, long long id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT state FROM peering_requests WHERE id = %lld", id);
    return pgt_sql(db, sql);
}

static long long count_where(pgt_db *db, const char *sql)
{
    return atoll(pgt_sql(db, sql));
}

static pf_table *report(pgt_db *db, const char *who, const char *name, long long request)
{
    wf_actor a = who ? pgt_actor(db, who) : wf_actor_cli();
    pf_table *t = NULL;
    pf_err err = {0};
    if (wf_report_run(&db->env, &a, name, request, &t, &err) != PF_OK)
        fail_msg("report %s: %s", name, err.message);
    return t;
}

static int col(const pf_table *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0)
            return c;
    fail_msg("no column %s", name);
    return -1;
}

/* ---------------------------------------------------------- migrations */

static void copy_dir(const char *from, const char *to)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s'/*.sql '%s'/", to, from, to);
    assert_int_equal(system(cmd), 0);
}

static void migrations_apply_once_and_refuse_changes(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "migrate", true);
    pf_err err = {0};
    db_conn *c = db_connect(db.owner_url, &err);
    assert_non_null(c);
    char dir[] = "/tmp/pf-migrations-XXXXXX";
    assert_non_null(mkdtemp(dir));
    copy_dir(pgt_migrations_dir(), dir);

    int n = -1;
    assert_int_equal(db_migrate_apply(c, dir, &n, &err), PF_OK);
    assert_true(n >= 2);
    int total = n;
    assert_int_equal(db_migrate_apply(c, dir, &n, &err), PF_OK);
    assert_int_equal(n, 0); /* re-run is a no-op */
    db_migration *m;
    size_t cnt;
    assert_int_equal(db_migrate_status(c, dir, &m, &cnt, &err), PF_OK);
    assert_int_equal((int)cnt, total);
    for (size_t i = 0; i < cnt; i++)
        assert_true(m[i].applied && !m[i].changed);
    free(m);

    /* a new migration and a changed old one: nothing at all is applied */
    char path[1200], cmd[1400];
    snprintf(path, sizeof path, "%s/9999_new_table.sql", dir);
    FILE *f = fopen(path, "w");
    fputs("CREATE TABLE should_not_exist (x int);\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "echo '-- edited' >> '%s/0001_core.sql'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(db_migrate_apply(c, dir, &n, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "migration_changed");
    assert_non_null(strstr(err.message, "0001_core.sql"));
    assert_string_equal(pgt_sql(&db, "SELECT to_regclass('should_not_exist') IS NULL"), "t");
    assert_int_equal(db_migrate_status(c, dir, &m, &cnt, &err), PF_OK);
    assert_true(m[0].changed);
    free(m);

    /* a failing migration is rolled back whole and not recorded */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    assert_int_equal(system(cmd), 0);
    copy_dir(pgt_migrations_dir(), dir);
    snprintf(path, sizeof path, "%s/9999_broken.sql", dir);
    f = fopen(path, "w");
    fputs("CREATE TABLE half_done (x int);\nSELECT no_such_function();\n", f);
    fclose(f);
    assert_int_equal(db_migrate_apply(c, dir, &n, &err), PF_EINTERNAL);
    assert_string_equal(err.code, "migration_failed");
    assert_string_equal(pgt_sql(&db, "SELECT to_regclass('half_done') IS NULL"), "t");
    assert_string_equal(
        pgt_sql(&db, "SELECT count(*) FROM schema_migrations WHERE file = '9999_broken.sql'"),
        "0");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    db_close(c);
    pgt_drop(&db);
}

/* --------------------------------------------- the database's own guard */

static void database_and_state_machine_agree(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "agree", false);
    wf_state from, to;
    wf_event ev;
    int pairs = 0;
    for (int i = 0; wf_sm_row(i, &from, &ev, &to); i++) {
        if (from == WF_S_NONE || from == to)
            continue;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM request_transitions WHERE from_state = '%s' AND to_state = '%s'",
                 wf_state_name(from), wf_state_name(to));
        if (strcmp(pgt_sql(&db, sql), "1") != 0)
            fail_msg("%s -> %s is legal in C but not in request_transitions", wf_state_name(from),
                     wf_state_name(to));
        pairs++;
    }
    /* and nothing more in the database: count distinct C pairs */
    long long db_pairs = count_where(&db, "SELECT count(*) FROM request_transitions");
    int distinct = 0;
    for (int i = 0; wf_sm_row(i, &from, &ev, &to); i++) {
        if (from == WF_S_NONE || from == to)
            continue;
        bool seen = false;
        wf_state f2, t2;
        wf_event e2;
        for (int j = 0; j < i && wf_sm_row(j, &f2, &e2, &t2); j++)
            if (f2 == from && t2 == to)
                seen = true;
        distinct += !seen;
    }
    assert_true(pairs >= distinct);
    assert_int_equal(db_pairs, distinct);
    pgt_drop(&db);
}

static void illegal_update_in_sql_is_rejected(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "guard", false);
    pgt_seed_world(&db);
    long long id = submit(&db, "admin@a.example", "a1", 0, 64501);
    char sql[200], msg[512];
    snprintf(sql, sizeof sql, "UPDATE peering_requests SET state = 'active' WHERE id = %lld", id);
    /* as the superuser, who bypasses row-level security but not triggers */
    assert_string_equal(pgt_sql_state(db.owner, sql, msg, sizeof msg), "23514");
    assert_non_null(strstr(msg, "illegal state change"));
    /* and as the worker role, which sees every request */
    PGconn *app = PQconnectdb(db.app_url);
    PQclear(PQexec(app, "SELECT set_config('peerflow.operator', 'on', false)"));
    assert_string_equal(pgt_sql_state(app, sql, msg, sizeof msg), "23514");
    snprintf(sql, sizeof sql, "UPDATE peering_requests SET state = 'bogus' WHERE id = %lld", id);
    assert_string_equal(pgt_sql_state(app, sql, msg, sizeof msg), "23514");
    snprintf(sql, sizeof sql, "INSERT INTO peering_requests (requester_network_id, "
                              "requester_port_id, peer_network_id, state) "
                              "SELECT 1, 1, 2, 'active'");
    assert_string_equal(pgt_sql_state(app, sql, msg, sizeof msg), "23514");
    assert_string_equal(state_of(&db, id), "pending");
    /* an endpoint is checked when it changes: another network's port, a
     * VLAN on an access port */
    snprintf(sql, sizeof sql, "UPDATE peering_requests SET peer_port_id = (SELECT id FROM ports"
                              " WHERE name = 'a-trunk'), peer_vlan = 7 WHERE id = %lld", id);
    assert_string_equal(pgt_sql_state(db.owner, sql, msg, sizeof msg), "23514");
    assert_non_null(strstr(msg, "does not belong"));
    snprintf(sql, sizeof sql, "UPDATE peering_requests SET peer_port_id = (SELECT id FROM ports"
                              " WHERE name = 'b1'), peer_vlan = 7 WHERE id = %lld", id);
    assert_string_equal(pgt_sql_state(db.owner, sql, msg, sizeof msg), "23514");
    assert_non_null(strstr(msg, "takes no VLAN"));
    /* and only then (0022): an update that leaves the endpoints alone is
     * not refused for what an operator changed on the port since */
    pgt_sql(&db, "UPDATE ports SET mode = 'trunk' WHERE name = 'a1'");
    snprintf(sql, sizeof sql, "UPDATE peering_requests SET message = 'm' WHERE id = %lld", id);
    assert_string_equal(pgt_sql_state(db.owner, sql, msg, sizeof msg), "");
    pgt_sql(&db, "UPDATE ports SET mode = 'access' WHERE name = 'a1'");
    /* a closed request never reopens, even from a legal-looking state */
    pf_err err;
    assert_int_equal(decide(&db, "admin@a.example", id, "cancel", NULL, &err), PF_OK);
    snprintf(sql, sizeof sql, "UPDATE peering_requests SET state = 'pending' WHERE id = %lld", id);
    assert_string_equal(pgt_sql_state(db.owner, sql, msg, sizeof msg), "23514");
    PQfinish(app);
    pgt_drop(&db);
}

/* ----------------------------------------------------------- audit log */

static void app_role_cannot_change_audit(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "audit_ro", false);
    pgt_seed_world(&db);
    PGconn *app = PQconnectdb(db.web_url);
    PQclear(PQexec(app, "SELECT set_config('peerflow.operator', 'on', false)"));
    assert_string_equal(pgt_sql_state(app, "UPDATE audit_events SET action = 'x'", NULL, 0),
                        "42501");
    assert_string_equal(pgt_sql_state(app, "DELETE FROM audit_events", NULL, 0), "42501");
    assert_string_equal(pgt_sql_state(app, "TRUNCATE audit_events", NULL, 0), "42501");
    /* but it can read and append (what the product does) */
    assert_string_equal(pgt_sql_state(app, "SELECT count(*) FROM audit_events", NULL, 0), "");
    PQfinish(app);
    pgt_drop(&db);
}

static db_audit_verdict verify(pgt_db *db)
{
    db_audit_verdict v;
    pf_err err = {0};
    wf_actor op = wf_actor_cli();
    if (wf_audit_verify(&db->env, &op, &v, &err) != PF_OK)
        fail_msg("verify: %s", err.message);
    return v;
}

static void audit_verify_catches_tampering(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "audit_chain", false);
    pgt_seed_world(&db);
    long long id = submit(&db, "admin@a.example", "a1", 0, 64501);
    pf_err err;
    assert_int_equal(decide(&db, "admin@b.example", id, "approve", NULL, &err), PF_OK);
    db_audit_verdict v = verify(&db);
    assert_true(v.ok);
    long long rows = v.rows;
    assert_true(rows > 15);
    assert_int_equal(rows, pgt_count(&db, "audit_events"));

    /* edited (as the superuser: the application role cannot) */
    pgt_sql(&db, "CREATE TABLE saved AS SELECT * FROM audit_events");
    pgt_sql(&db, "UPDATE audit_events SET actor_label = 'mallory' WHERE seq = 5");
    v = verify(&db);
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, 5);
    assert_non_null(strstr(v.problem, "changed"));
    pgt_sql(&db, "UPDATE audit_events a SET actor_label = s.actor_label FROM saved s "
                 "WHERE a.seq = s.seq AND a.seq = 5");
    assert_true(verify(&db).ok);

    /* deleted in the middle */
    pgt_sql(&db, "DELETE FROM audit_events WHERE seq = 7");
    v = verify(&db);
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, 7);
    assert_non_null(strstr(v.problem, "missing"));
    pgt_sql(&db, "INSERT INTO audit_events SELECT * FROM saved WHERE seq = 7");
    assert_true(verify(&db).ok);

    /* re-ordered: rows 3 and 4 swap places */
    pgt_sql(&db, "UPDATE audit_events SET seq = 1000003 WHERE seq = 3");
    pgt_sql(&db, "UPDATE audit_events SET seq = 3 WHERE seq = 4");
    pgt_sql(&db, "UPDATE audit_events SET seq = 4 WHERE seq = 1000003");
    v = verify(&db);
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, 3);
    assert_non_null(strstr(v.problem, "order"));
    pgt_sql(&db, "DELETE FROM audit_events WHERE seq IN (3, 4)");
    pgt_sql(&db, "INSERT INTO audit_events SELECT * FROM saved WHERE seq IN (3, 4)");
    assert_true(verify(&db).ok);

    /* the tail cut off */
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM audit_events WHERE seq = %lld", rows);
    pgt_sql(&db, sql);
    v = verify(&db);
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, rows);
    assert_non_null(strstr(v.problem, "end"));
    pgt_drop(&db);
}

/* ------------------------------------------------ row-level security */

static void third_network_sees_nothing(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "rls", false);
    pgt_seed_world(&db);
    long long id = submit(&db, "admin@a.example", "a1", 0, 64501);
    wf_actor c = pgt_actor(&db, "admin@c.example"), b = pgt_actor(&db, "admin@b.example");
    json_t *j = NULL;
    pf_err err;
    assert_int_equal(wf_request_get(&db.env, &c, id, &j, &err), PF_ENOTFOUND);
    assert_int_equal(wf_request_get(&db.env, &b, id, &j, &err), PF_OK);
    json_decref(j);
    assert_int_equal(wf_request_list(&db.env, &c, NULL, 100, &j, &err), PF_OK);
    assert_int_equal(json_array_size(json_object_get(j, "requests")), 0);
    json_decref(j);
    assert_int_equal(decide(&db, "admin@c.example", id, "approve", NULL, &err), PF_ENOTFOUND);
    pf_table *t = report(&db, "admin@c.example", "open_requests", 0);
    assert_int_equal(t->nrows, 0);
    pf_table_free(t);
    t = report(&db, "admin@c.example", "request_history", 0);
    assert_int_equal(t->nrows, 0);
    pf_table_free(t);
    t = report(&db, "admin@a.example", "open_requests", 0);
    assert_int_equal(t->nrows, 1);
    pf_table_free(t);
    /* a query bug (no WHERE at all) still shows C nothing */
    PGconn *app = PQconnectdb(db.web_url);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT set_config('peerflow.network_id', '%lld', false)",
             c.network_id);
    PQclear(PQexec(app, sql));
    PGresult *r = PQexec(app, "SELECT count(*) FROM peering_requests");
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    r = PQexec(app, "SELECT count(*) FROM approvals");
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    r = PQexec(app, "SELECT count(*) FROM audit_events WHERE request_id IS NOT NULL");
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    PQfinish(app);
    pgt_drop(&db);
}

/* ---------------------------------------------- concurrent decisions */

struct racer {
    pgt_db *db;
    const char *who, *what;
    long long id;
    pthread_barrier_t *go;
    pf_kind result;
    pf_err err;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    pf_err err;
    wf_env env = r->db->env;
    env.db = db_connect(r->db->app_url, &err);
    wf_actor a;
    if (env.db == NULL || wf_actor_for_user(&env, r->who, "api", &a, &err) != PF_OK) {
        r->result = PF_EINTERNAL;
        return NULL;
    }
    wf_decision_input in = {0};
    pthread_barrier_wait(r->go);
    if (strcmp(r->what, "approve") == 0)
        r->result = wf_request_approve(&env, &a, r->id, &in, &r->err);
    else
        r->result = wf_request_cancel(&env, &a, r->id, &in, &r->err);
    db_close(env.db);
    return NULL;
}

static void run_race(pgt_db *db, long long id, const char *who1, const char *what1,
                     const char *who2, const char *what2, struct racer out[2])
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    pthread_t t[2];
    out[0] = (struct racer){.db = db, .who = who1, .what = what1, .id = id, .go = &go};
    out[1] = (struct racer){.db = db, .who = who2, .what = what2, .id = id, .go = &go};
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, race, &out[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
}

/* The other side's approval commits while this side's decision waits for
 * the row lock (the race of two admins approving within milliseconds,
 * made deterministic): the waiting decision must see it and approve the
 * request, not leave it pending with two approvals. */
struct waiter {
    pgt_db *db;
    long long id;
    pthread_barrier_t *go;
    pf_kind result;
    pf_err err;
};

static void *approve_as_b(void *arg)
{
    struct waiter *w = arg;
    wf_env env = w->db->env;
    env.db = db_connect_as(w->db->app_url, DB_ROLE_WORKER, &w->err);
    wf_actor a;
    if (env.db == NULL || wf_actor_for_user(&env, "admin@b.example", "api", &a, &w->err) != PF_OK) {
        w->result = PF_EINTERNAL;
        return NULL;
    }
    wf_decision_input in = {0};
    pthread_barrier_wait(w->go);
    w->result = wf_request_approve(&env, &a, w->id, &in, &w->err);
    db_close(env.db);
    return NULL;
}

static void approval_committed_during_lock_wait_is_seen(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "lockwait", false);
    pgt_seed_world(&db);
    long long id = submit(&db, "eng@a.example", "a-trunk", 300, 64501);
    /* the requester's admin approves in a transaction that holds the row */
    PGconn *a = PQconnectdb(db.app_url);
    char sql[600];
    snprintf(sql, sizeof sql,
             "BEGIN; SET LOCAL peerflow.operator = 'on';"
             " SELECT 1 FROM peering_requests WHERE id = %lld FOR UPDATE;"
             " INSERT INTO approvals (request_id, network_id, side, decision, via, user_id)"
             " SELECT r.id, r.requester_network_id, 'requester', 'approve', 'api', u.id"
             "   FROM peering_requests r, users u"
             "  WHERE r.id = %lld AND u.email = 'admin@a.example';"
             " UPDATE peering_requests SET state = state WHERE id = %lld",
             id, id, id);
    assert_string_equal(pgt_sql_state(a, sql, NULL, 0), "");
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct waiter w = {.db = &db, .id = id, .go = &go};
    pthread_t t;
    pthread_create(&t, NULL, approve_as_b, &w);
    pthread_barrier_wait(&go);
    usleep(300 * 1000); /* B's decision is now waiting for the lock */
    assert_string_equal(pgt_sql_state(a, "COMMIT", NULL, 0), "");
    pthread_join(t, NULL);
    pthread_barrier_destroy(&go);
    if (w.result != PF_OK)
        fail_msg("B's approval: %s", w.err.message);
    assert_string_equal(state_of(&db, id), "approved");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs WHERE request_id = %lld", id);
    assert_int_equal(count_where(&db, sql), 1);
    PQfinish(a);
    pgt_drop(&db);
}

static void concurrent_decisions_one_wins(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "race", false);
    pgt_seed_world(&db);
    for (int round = 0; round < 8; round++) {
        /* two admins of B (the same side) approve at once */
        long long id = submit(&db, "eng@a.example", "a-trunk", 100 + round, 64502);
        struct racer r[2];
        run_race(&db, id, "admin@c.example", "approve", "admin@c.example", "approve", r);
        int ok = (r[0].result == PF_OK) + (r[1].result == PF_OK);
        int conflict = (r[0].result == PF_ECONFLICT) + (r[1].result == PF_ECONFLICT);
        if (ok != 1 || conflict != 1)
            fail_msg("round %d same side: results %d/%d (%s / %s)", round, r[0].result,
                     r[1].result, r[0].err.message, r[1].err.message);
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM approvals WHERE request_id = %lld", id);
        assert_int_equal(count_where(&db, sql), 1);
        /* the one decision that won bumped the version once */
        snprintf(sql, sizeof sql, "SELECT version FROM peering_requests WHERE id = %lld", id);
        assert_int_equal(count_where(&db, sql), 2);
        pf_err err;
        /* the approval holds C's only port: release it for the next round */
        assert_int_equal(decide(&db, "eng@a.example", id, "cancel", NULL, &err), PF_OK);

        /* the final approval races the requester's cancel */
        long long id2 = submit(&db, "admin@a.example", "a-trunk", 1000 + round, 64501);
        run_race(&db, id2, "admin@b.example", "approve", "admin@a.example", "cancel", r);
        ok = (r[0].result == PF_OK) + (r[1].result == PF_OK);
        conflict = (r[0].result == PF_ECONFLICT) + (r[1].result == PF_ECONFLICT);
        if (ok != 1 || conflict != 1)
            fail_msg("round %d approve/cancel: results %d/%d (%s / %s)", round, r[0].result,
                     r[1].result, r[0].err.message, r[1].err.message);
        assert_string_equal(state_of(&db, id2), r[1].result == PF_OK ? "cancelled" : "approved");
        if (r[0].result == PF_OK) {
            /* release B's only port for the next round */
            prov(&db, id2, WF_EV_PROV_START, NULL);
            prov(&db, id2, WF_EV_PROV_FAILED, "test");
            assert_int_equal(decide(&db, "admin@b.example", id2, "decommission", NULL, &err), PF_OK);
            prov(&db, id2, WF_EV_PROV_REMOVED, NULL);
        }
    }
    pgt_drop(&db);
}

/* ------------------------------------ one transaction per decision */

static void failed_operation_writes_nothing(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "atomic", false);
    pgt_seed_world(&db);
    long long id = submit(&db, "admin@a.example", "a-trunk", 42, 64501);
    const char *fingerprint_sql =
        "SELECT (SELECT count(*) FROM peering_requests) || '/' || (SELECT count(*) FROM approvals)"
        " || '/' || (SELECT count(*) FROM outbox) || '/' || (SELECT count(*) FROM jobs)"
        " || '/' || (SELECT count(*) FROM audit_events) || '/' || (SELECT count(*) FROM request_endpoints)";
    char before[128];
    snprintf(before, sizeof before, "%s", pgt_sql(&db, fingerprint_sql));
    wf_actor a = pgt_actor(&db, "admin@a.example");
    pf_err err;
    long long id2;
    /* VLAN 42 on a-trunk is taken by the live request */
    wf_submit_input dup = {.port = "a-trunk", .vlan = 42, .peer_asn = 64502};
    assert_int_equal(wf_request_submit(&db.env, &a, &dup, &id2, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "endpoint_in_use");
    wf_submit_input other = {.port = "b1", .peer_asn = 64502};
    assert_int_equal(wf_request_submit(&db.env, &a, &other, &id2, &err), PF_EINVALID);
    assert_string_equal(err.code, "unknown_port");
    assert_string_equal(err.field, "port");
    wf_submit_input range = {.port = "a-trunk", .vlan = 4095, .peer_asn = 64502};
    assert_int_equal(wf_request_submit(&db.env, &a, &range, &id2, &err), PF_EINVALID);
    assert_string_equal(err.field, "vlan");
    wf_submit_input unknown = {.port = "a1", .peer_asn = 65001};
    assert_int_equal(wf_request_submit(&db.env, &a, &unknown, &id2, &err), PF_EINVALID);
    assert_string_equal(err.code, "unknown_asn");
    wf_actor viewer = pgt_actor(&db, "view@a.example");
    wf_submit_input fine = {.port = "a1", .peer_asn = 64502};
    assert_int_equal(wf_request_submit(&db.env, &viewer, &fine, &id2, &err), PF_EFORBIDDEN);
    wf_decision_input stale = {.version = 99};
    wf_actor b = pgt_actor(&db, "admin@b.example");
    assert_int_equal(wf_request_approve(&db.env, &b, id, &stale, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "stale_version");
    assert_int_equal(decide(&db, "eng@a.example", id, "approve", NULL, &err), PF_EFORBIDDEN);
    assert_int_equal(decide(&db, "admin@b.example", id, "cancel", NULL, &err), PF_EFORBIDDEN);
    assert_string_equal(pgt_sql(&db, fingerprint_sql), before);

    /* the final approval writes state, job, mail and audit together */
    assert_int_equal(decide(&db, "admin@b.example", id, "approve", NULL, &err), PF_OK);
    assert_string_equal(state_of(&db, id), "approved");
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM jobs WHERE request_id = %lld AND kind = 'provision'", id);
    assert_int_equal(count_where(&db, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox WHERE request_id = %lld AND kind = 'request_approved'", id);
    assert_int_equal(count_where(&db, sql), 2);
    assert_int_equal(decide(&db, "admin@b.example", id, "approve", NULL, &err), PF_ECONFLICT);
    pgt_drop(&db);
}

/* ---------------------------------------------------- whole lifecycle */

static void lifecycle_to_decommissioned_and_expiry(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "lifecycle", false);
    pgt_seed_world(&db);
    pf_err err;
    long long id = submit(&db, "admin@a.example", "a1", 0, 64501);
    assert_int_equal(decide(&db, "admin@b.example", id, "approve", "b1", &err), PF_OK);
    prov(&db, id, WF_EV_PROV_START, NULL);
    prov(&db, id, WF_EV_PROV_ACTIVE, NULL);
    assert_string_equal(state_of(&db, id), "active");
    assert_int_equal(decide(&db, "admin@b.example", id, "decommission", NULL, &err), PF_OK);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs WHERE request_id = %lld AND kind = 'teardown'", id);
    assert_int_equal(count_where(&db, sql), 1);
    prov(&db, id, WF_EV_PROV_REMOVED, NULL);
    assert_string_equal(state_of(&db, id), "decommissioned");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM request_endpoints WHERE request_id = %lld", id);
    assert_int_equal(count_where(&db, sql), 0);
    /* the ports are free again */
    long long again = submit(&db, "admin@a.example", "a1", 0, 64501);
    assert_true(again > id);

    /* a system event the state does not allow is refused */
    wf_actor sys = wf_actor_system("provisioner");
    assert_int_equal(wf_request_provision_event(&db.env, &sys, again, WF_EV_PROV_ACTIVE, NULL, &err),
                     PF_ECONFLICT);
    /* the operator retries a failed provisioning */
    assert_int_equal(decide(&db, "admin@b.example", again, "approve", NULL, &err), PF_OK);
    prov(&db, again, WF_EV_PROV_START, NULL);
    prov(&db, again, WF_EV_PROV_FAILED, "switch s2 unreachable");
    wf_actor op = pgt_actor(&db, "op@ix.example");
    assert_int_equal(wf_request_provision_event(&db.env, &op, again, WF_EV_RETRY, NULL, &err), PF_OK);
    assert_string_equal(state_of(&db, again), "provisioning");

    /* expiry */
    db.env.request_ttl_seconds = 1;
    long long old = submit(&db, "admin@a.example", "a-trunk", 7, 64502);
    db.env.request_ttl_seconds = 3600;
    long long young = submit(&db, "admin@a.example", "a-trunk", 8, 64502);
    usleep(1300 * 1000);
    assert_int_equal(decide(&db, "admin@c.example", old, "approve", NULL, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "request_expired");
    int n = 0;
    assert_int_equal(wf_request_expire_due(&db.env, &n, &err), PF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(state_of(&db, old), "expired");
    assert_string_equal(state_of(&db, young), "pending");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox WHERE request_id = %lld AND kind = 'request_expired'", old);
    assert_int_equal(count_where(&db, sql), 2);
    assert_true(verify(&db).ok);

    /* the requester named the peer's trunk port and VLAN: the peer's
     * approval without a port keeps them */
    wf_actor op2 = wf_actor_cli();
    wf_port_input trunk = {"64501", "s2", "5", "b-trunk", "trunk", NULL};
    long long pid;
    assert_int_equal(wf_port_add(&db.env, &op2, &trunk, &pid, &err), PF_OK);
    wf_actor a = pgt_actor(&db, "admin@a.example");
    wf_submit_input named = {.port = "a-trunk", .vlan = 77, .peer_asn = 64501,
                             .peer_port = "b-trunk", .peer_vlan = 88};
    long long nid;
    assert_int_equal(wf_request_submit(&db.env, &a, &named, &nid, &err), PF_OK);
    assert_int_equal(decide(&db, "admin@b.example", nid, "approve", NULL, &err), PF_OK);
    snprintf(sql, sizeof sql, "SELECT state || ' ' || peer_vlan FROM peering_requests WHERE id = %lld", nid);
    assert_string_equal(pgt_sql(&db, sql), "approved 88");
    pgt_drop(&db);
}

/* ------------------------------------------------------------- reports */

static void reports_on_seeded_data(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "reports", false);
    pgt_seed_world(&db);
    pf_err err;
    long long r1 = submit(&db, "admin@a.example", "a1", 0, 64501);
    assert_int_equal(decide(&db, "admin@b.example", r1, "approve", NULL, &err), PF_OK);
    prov(&db, r1, WF_EV_PROV_START, NULL);
    prov(&db, r1, WF_EV_PROV_ACTIVE, NULL);
    long long r2 = submit(&db, "admin@a.example", "a-trunk", 100, 64502);
    long long r3 = submit(&db, "admin@a.example", "a-trunk", 200, 64502);
    assert_int_equal(decide(&db, "admin@c.example", r3, "reject", NULL, &err), PF_OK);
    long long r4 = submit(&db, "eng@a.example", "a-trunk", 300, 64501);
    long long r5 = submit(&db, "admin@a.example", "a-trunk", 400, 64502);
    assert_int_equal(decide(&db, "admin@c.example", r5, "approve", "c1", &err), PF_OK);
    prov(&db, r5, WF_EV_PROV_START, NULL);
    prov(&db, r5, WF_EV_PROV_FAILED, "OFPET_BAD_ACTION/OFPBAC_BAD_OUT_PORT on s2");

    pf_table *t = report(&db, NULL, "open_requests", 0);
    assert_int_equal(t->nrows, 3);
    int id = col(t, "request_id"), w = col(t, "waiting_on");
    for (int i = 0; i < t->nrows; i++) {
        long long rid = atoll(pf_table_cell(t, i, id));
        const char *want = rid == r2 ? "peer" : rid == r4 ? "both" : rid == r5 ? "operator" : "?";
        assert_string_equal(pf_table_cell(t, i, w), want);
    }
    pf_table_free(t);

    t = report(&db, NULL, "approvals", 0);
    assert_int_equal(t->nrows, 7);
    int via = col(t, "via"), dec = col(t, "decision");
    int rejects = 0;
    for (int i = 0; i < t->nrows; i++) {
        assert_string_equal(pf_table_cell(t, i, via), "api");
        rejects += strcmp(pf_table_cell(t, i, dec), "reject") == 0;
    }
    assert_int_equal(rejects, 1);
    pf_table_free(t);

    t = report(&db, NULL, "active_circuits_by_network", 0);
    assert_int_equal(t->nrows, 3);
    for (int i = 0; i < t->nrows; i++) {
        const char *asn = pf_table_cell(t, i, col(t, "asn"));
        const char *n = pf_table_cell(t, i, col(t, "active_circuits"));
        assert_string_equal(n, strcmp(asn, "64502") == 0 ? "0" : "1");
    }
    pf_table_free(t);

    t = report(&db, NULL, "active_circuits_by_switch", 0);
    assert_int_equal(t->nrows, 2);
    for (int i = 0; i < t->nrows; i++)
        assert_string_equal(pf_table_cell(t, i, col(t, "active_circuits")), "1");
    pf_table_free(t);

    t = report(&db, NULL, "failed_provisioning", 0);
    assert_int_equal(t->nrows, 1);
    assert_int_equal(atoll(pf_table_cell(t, 0, col(t, "request_id"))), r5);
    assert_non_null(strstr(pf_table_cell(t, 0, col(t, "error")), "BAD_OUT_PORT"));
    pf_table_free(t);

    t = report(&db, NULL, "request_history", r1);
    assert_int_equal(t->nrows, 5); /* submitted, approved x2, provisioning, active */
    for (int i = 0; i < t->nrows; i++)
        assert_int_equal(atoll(pf_table_cell(t, i, col(t, "request_id"))), r1);
    assert_string_equal(pf_table_cell(t, 0, col(t, "action")), "request.submitted");
    pf_table_free(t);

    t = report(&db, NULL, "vlan_use_by_port", 0);
    bool seen_trunk = false;
    for (int i = 0; i < t->nrows; i++)
        if (strcmp(pf_table_cell(t, i, col(t, "port")), "a-trunk") == 0) {
            assert_string_equal(pf_table_cell(t, i, col(t, "vlans")), "100,300,400");
            seen_trunk = true;
        }
    assert_true(seen_trunk);
    pf_table_free(t);

    t = report(&db, NULL, "approval_times", 0);
    assert_int_equal(t->nrows, 1);
    assert_string_equal(pf_table_cell(t, 0, col(t, "requests")), "5");
    assert_string_equal(pf_table_cell(t, 0, col(t, "approved")), "2");
    assert_string_equal(pf_table_cell(t, 0, col(t, "activated")), "1");
    assert_non_null(pf_table_cell(t, 0, col(t, "median_to_active")));
    pf_table_free(t);

    t = report(&db, NULL, "switches", 0);
    assert_int_equal(t->nrows, 2);
    pf_table_free(t);
    t = report(&db, NULL, "vlan_use_by_link", 0);
    assert_int_equal(t->nrows, 1);
    pf_table_free(t);

    wf_actor op = wf_actor_cli();
    assert_int_equal(wf_report_run(&db.env, &op, "no_such", 0, &t, &err), PF_ENOTFOUND);
    assert_int_equal(wf_report_run(&db.env, &op, "switches", 3, &t, &err), PF_EINVALID);
    assert_int_equal(wf_report_run(&db.env, &op, "x\"; DROP TABLE networks; --", 0, &t, &err),
                     PF_ENOTFOUND);
    assert_int_equal(wf_report_list(&db.env, &op, &t, &err), PF_OK);
    assert_true(t->nrows >= 10);
    pf_table_free(t);
    (void)r2;
    pgt_drop(&db);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(migrations_apply_once_and_refuse_changes),
        cmocka_unit_test(database_and_state_machine_agree),
        cmocka_unit_test(illegal_update_in_sql_is_rejected),
        cmocka_unit_test(app_role_cannot_change_audit),
        cmocka_unit_test(audit_verify_catches_tampering),
        cmocka_unit_test(third_network_sees_nothing),
        cmocka_unit_test(concurrent_decisions_one_wins),
        cmocka_unit_test(approval_committed_during_lock_wait_is_seen),
        cmocka_unit_test(failed_operation_writes_nothing),
        cmocka_unit_test(lifecycle_to_decommissioned_and_expiry),
        cmocka_unit_test(reports_on_seeded_data),
    };
    return cmocka_run_group_tests_name("core_integration", tests, NULL, NULL);
}
