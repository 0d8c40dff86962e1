/* Integration tests of the job queue and the expiry sweep against a real
 * PostgreSQL (tests/run.sh), without Open vSwitch:
 *
 *   - a job whose lease is renewed is not claimed by another worker after
 *     the original lease; one whose holder died is;
 *   - the provisioner's heartbeat keeps a long job (a worker blocked on a
 *     switch lock for several leases) from being claimed a second time;
 *   - a job's failure and an operator's retry, in every order, never leave
 *     a request in provisioning without an open job;
 *   - one request that cannot expire does not hold up the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "db/provision.h"
#include "provisioner/prov.h"
#include "tests/support/pgtest.h"
#include "workflow/requests.h"

static void must(pf_kind k, const pf_err *err, const char *what)
{
    if (k != PF_OK)
        fail_msg("%s: %s", what, err->message);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *sqlf(pgt_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *sqlf(pgt_db *db, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return pgt_sql(db, sql);
}

/* Submitted by A's admin, approved by the peer's admin: approved, with a
 * queued provision job. */
static long long approved_request(pgt_db *db, const char *port, int vlan, long long peer_asn,
                                  const char *peer_admin, const char *peer_port)
{
    wf_actor a = pgt_actor(db, "admin@a.example");
    wf_submit_input in = {.port = port, .vlan = vlan, .peer_asn = peer_asn, .peer_port = peer_port};
    long long id = 0;
    pf_err err = {0};
    must(wf_request_submit(&db->env, &a, &in, &id, &err), &err, "submit");
    wf_actor p = pgt_actor(db, peer_admin);
    wf_decision_input d = {.port = peer_port};
    must(wf_request_approve(&db->env, &p, id, &d, &err), &err, "approve");
    return id;
}

static db_prov_job claim(db_conn *c, const char *worker, int lease_s)
{
    db_prov_job job;
    pf_err err;
    db_scope scope = db_scope_system();
    must(db_begin(c, &scope, &err), &err, "begin");
    must(db_prov_job_claim(c, worker, lease_s, &job, &err), &err, "claim");
    must(db_commit(c, &err), &err, "commit");
    return job;
}

static bool renew(db_conn *c, long long job_id, const char *worker)
{
    bool owned = false;
    pf_err err;
    db_scope scope = db_scope_system();
    must(db_begin(c, &scope, &err), &err, "begin");
    must(db_prov_job_renew(c, job_id, worker, &owned, &err), &err, "renew");
    must(db_commit(c, &err), &err, "commit");
    return owned;
}

/* ------------------------------------------------------------ leases */

static void renewed_lease_is_not_claimed_dead_holder_is(void **state)
{
    (void)state;
    pgt_db q;
    pgt_create(&q, "jobs_lease", false);
    pgt_seed_world(&q);
    approved_request(&q, "a1", 0, 64501, "admin@b.example", "b1");
    db_prov_job a = claim(q.app, "A", 1);
    assert_true(a.id != 0);
    /* A keeps renewing: 1.5 s after its claim (past the 1 s lease) B
     * finds nothing to claim */
    for (int i = 0; i < 3; i++) {
        usleep(500 * 1000);
        assert_true(renew(q.app, a.id, "A"));
    }
    db_prov_job b = claim(q.app, "B", 1);
    assert_int_equal(b.id, 0);
    assert_string_equal(sqlf(&q, "SELECT locked_by || '/' || attempts FROM jobs WHERE id = %lld",
                             a.id),
                        "A/1");
    /* A died (no more renewals): after the lease B takes the job over */
    usleep(1200 * 1000);
    b = claim(q.app, "B", 1);
    assert_int_equal(b.id, a.id);
    assert_int_equal(b.attempts, 2);
    /* and A's next renewal tells A it lost the job, changing nothing */
    assert_false(renew(q.app, a.id, "A"));
    assert_string_equal(sqlf(&q, "SELECT locked_by || '/' || state FROM jobs WHERE id = %lld",
                             a.id),
                        "B/running");
    pgt_drop(&q);
}

/* The provisioner's own heartbeat: a worker blocked for several leases
 * (here on the switch locks, held by the test) keeps its job; the other
 * worker of the service does not claim it a second time. */
static void heartbeat_keeps_a_long_job(void **state)
{
    (void)state;
    pgt_db q;
    pgt_create(&q, "jobs_heartbeat", false);
    pgt_seed_world(&q);
    /* the switches the circuit needs are locked, as by another process
     * changing their flows */
    pgt_sql(&q, "SELECT pg_advisory_lock(20550, id::int) FROM switches");
    prov_config cfg = {.database_url = q.app_url,
                       .base_url = "http://peerflow.test",
                       .mail_domain = "peerflow.test",
                       .worker_name = "hb",
                       .workers = 2,
                       .no_reconcile = true,
                       /* no switch answers here: without roles the worker
                        * goes on to the switch lock (with roles it would
                        * wait for mastership first, docs/fabric.md) */
                       .master_lease_ms = -1,
                       .poll_ms = 50,
                       .lease_s = 1,
                       .barrier_timeout_ms = 500,
                       .unreachable_fail_ms = 60000,
                       .retry_max_ms = 500,
                       .refresh_ms = 300};
    pf_err err;
    prov_service *svc = prov_service_start(&cfg, &err);
    if (svc == NULL)
        fail_msg("provisioner: %s", err.message);
    long long id = approved_request(&q, "a1", 0, 64501, "admin@b.example", "b1");
    double end = now_s() + 10;
    while (now_s() < end &&
           strcmp(pgt_sql(&q, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                              " AND NOT granted"),
                  "0") == 0)
        usleep(50 * 1000);
    if (strcmp(pgt_sql(&q, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                           " AND NOT granted"),
               "0") == 0)
        fail_msg("no worker reached the switch lock");
    sleep(3); /* three leases */
    const char *got = sqlf(&q,
                           "SELECT state || '/' || attempts || '/' || locked_by FROM jobs"
                           " WHERE request_id = %lld AND kind = 'provision'",
                           id);
    printf("# job after 3 s (3 leases) on a switch lock: %s\n", got);
    if (strncmp(got, "running/1/hb:w", 14) != 0)
        fail_msg("the long job was claimed again: %s", got);
    pgt_sql(&q, "SELECT pg_advisory_unlock_all()");
    prov_service_stop(svc);
    pgt_drop(&q);
}

/* ------------------------------------------------ failure and retry */

static const char *open_jobs(pgt_db *q, long long id)
{
    return sqlf(q,
                "SELECT count(*) FROM jobs WHERE request_id = %lld AND kind = 'provision'"
                " AND state IN ('queued', 'running')",
                id);
}

/* The invariant: provisioning only with an open job. */
static void check_invariant(pgt_db *q, long long id)
{
    const char *bad = sqlf(q,
                           "SELECT count(*) FROM peering_requests r WHERE r.id = %lld AND"
                           " r.state = 'provisioning' AND NOT EXISTS (SELECT 1 FROM jobs j"
                           "  WHERE j.request_id = r.id AND j.kind = 'provision'"
                           "  AND j.state IN ('queued', 'running'))",
                           id);
    if (strcmp(bad, "0") != 0)
        fail_msg("request %lld is provisioning without an open job", id);
}

static const char *state_of(pgt_db *q, long long id)
{
    return sqlf(q, "SELECT state FROM peering_requests WHERE id = %lld", id);
}

static void failure_and_retry_in_every_order(void **state)
{
    (void)state;
    pgt_db q;
    pgt_create(&q, "jobs_retry", false);
    pgt_seed_world(&q);
    pf_err err;
    /* the operator's connection, next to the worker's (q.app) */
    db_conn *opc = db_connect(q.app_url, &err);
    assert_non_null(opc);
    wf_env openv = q.env;
    openv.db = opc;
    wf_actor op = wf_actor_cli();
    wf_actor sys = wf_actor_system("provisioner");

    /* 1. the job's failure commits first, then the retry: a new job */
    long long r1 = approved_request(&q, "a1", 0, 64501, "admin@b.example", "b1");
    db_prov_job j1 = claim(q.app, "A", 60);
    assert_true(j1.id != 0);
    must(wf_request_provision_event(&q.env, &sys, r1, WF_EV_PROV_START, NULL, &err), &err,
         "start");
    must(wf_request_provision_job_event(&q.env, &sys, r1, WF_EV_PROV_FAILED, "boom", j1.id, "A",
                                        &err),
         &err, "fail");
    assert_string_equal(state_of(&q, r1), "failed");
    assert_string_equal(open_jobs(&q, r1), "0"); /* failed with its job, together */
    assert_string_equal(sqlf(&q, "SELECT state || '/' || last_error FROM jobs WHERE id = %lld",
                             j1.id),
                        "failed/boom");
    must(wf_request_provision_event(&openv, &op, r1, WF_EV_RETRY, NULL, &err), &err, "retry");
    assert_string_equal(state_of(&q, r1), "provisioning");
    assert_string_equal(open_jobs(&q, r1), "1");
    check_invariant(&q, r1);

    /* 2. the retry lands between the request's failure and the end of its
     * job (a worker that recorded them apart, or died between them): the
     * retry re-queues that job; the worker's late end finds it no longer
     * its own and writes nothing */
    db_prov_job j2 = claim(q.app, "A", 60);
    assert_true(j2.id != 0);
    must(wf_request_provision_event(&q.env, &sys, r1, WF_EV_PROV_FAILED, "again", &err), &err,
         "fail without the job");
    assert_string_equal(state_of(&q, r1), "failed");
    assert_string_equal(open_jobs(&q, r1), "1"); /* the running one */
    must(wf_request_provision_event(&openv, &op, r1, WF_EV_RETRY, NULL, &err), &err, "retry");
    assert_string_equal(sqlf(&q, "SELECT state || '/' || coalesce(locked_by, '-') FROM jobs"
                                 " WHERE id = %lld",
                             j2.id),
                        "queued/-");
    bool owned = true;
    db_scope scope = db_scope_system();
    must(db_begin(q.app, &scope, &err), &err, "begin");
    must(db_prov_job_finish(q.app, j2.id, "A", false, "late", &owned, &err), &err, "finish");
    must(db_commit(q.app, &err), &err, "commit");
    assert_false(owned);
    /* the new code's combined end is refused the same way, and rolls back */
    assert_int_equal(wf_request_provision_job_event(&q.env, &sys, r1, WF_EV_PROV_FAILED, "late",
                                                    j2.id, "A", &err),
                     PF_ECONFLICT);
    assert_string_equal(err.code, "job_not_owned");
    assert_string_equal(state_of(&q, r1), "provisioning");
    assert_string_equal(open_jobs(&q, r1), "1");
    check_invariant(&q, r1);
    /* and the re-queued job runs again */
    db_prov_job again = claim(q.app, "B", 60);
    assert_int_equal(again.id, j2.id);

    /* 3. the retry comes first, while the job still runs: refused (the
     * request is not failed yet); then the failure: failed, no open job,
     * and a retry after it queues a job */
    assert_int_equal(wf_request_provision_event(&openv, &op, r1, WF_EV_RETRY, NULL, &err),
                     PF_ECONFLICT);
    check_invariant(&q, r1);
    must(wf_request_provision_job_event(&q.env, &sys, r1, WF_EV_PROV_FAILED, "third", again.id,
                                        "B", &err),
         &err, "fail");
    assert_string_equal(state_of(&q, r1), "failed");
    assert_string_equal(open_jobs(&q, r1), "0");
    must(wf_request_provision_event(&openv, &op, r1, WF_EV_RETRY, NULL, &err), &err, "retry");
    assert_string_equal(state_of(&q, r1), "provisioning");
    assert_string_equal(open_jobs(&q, r1), "1");
    check_invariant(&q, r1);
    db_close(opc);
    pgt_drop(&q);
}

/* -------------------------------------------------------------- expiry */

struct failures {
    long long ids[8];
    char codes[8][48];
    int n;
};

static void record_failure(void *arg, long long id, const pf_err *why)
{
    struct failures *f = arg;
    if (f->n < 8) {
        f->ids[f->n] = id;
        snprintf(f->codes[f->n], sizeof f->codes[f->n], "%s", why->code);
        f->n++;
    }
}

static void one_request_that_cannot_expire_does_not_block_the_others(void **state)
{
    (void)state;
    pgt_db q;
    pgt_create(&q, "jobs_expiry", false);
    pgt_seed_world(&q);
    wf_actor a = pgt_actor(&q, "admin@a.example");
    pf_err err;
    long long id[3];
    q.env.request_ttl_seconds = 1;
    for (int i = 0; i < 3; i++) {
        wf_submit_input in = {.port = "a-trunk", .vlan = 7 + i, .peer_asn = 64502};
        must(wf_request_submit(&q.env, &a, &in, &id[i], &err), &err, "submit");
        usleep(20 * 1000); /* distinct expiry times: the middle one is second */
    }
    q.env.request_ttl_seconds = 3600;
    usleep(1300 * 1000);
    /* the middle request's expiry fails (a trigger the test adds) */
    pgt_sql(&q, "CREATE FUNCTION pft_no_expiry() RETURNS trigger LANGUAGE plpgsql AS"
                " $$BEGIN RAISE EXCEPTION 'this request may not expire'; END$$");
    sqlf(&q,
         "CREATE TRIGGER pft_no_expiry BEFORE UPDATE ON peering_requests FOR EACH ROW"
         " WHEN (NEW.id = %lld AND NEW.state = 'expired') EXECUTE FUNCTION pft_no_expiry()",
         id[1]);
    struct failures f = {0};
    int n = 0, n_failed = 0;
    pf_kind k = wf_request_expire_sweep(&q.env, &n, &n_failed, record_failure, &f, &err);
    printf("# sweep: %d expired, %d failed: %s\n", n, n_failed, err.message);
    assert_int_not_equal(k, PF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(n_failed, 1);
    assert_int_equal(f.n, 1);
    assert_true(f.ids[0] == id[1]);
    char want[32];
    snprintf(want, sizeof want, "request %lld", id[1]);
    assert_non_null(strstr(err.message, want));
    assert_string_equal(state_of(&q, id[0]), "expired");
    assert_string_equal(state_of(&q, id[1]), "pending");
    assert_string_equal(state_of(&q, id[2]), "expired");
    /* once it can, it expires at the next sweep */
    pgt_sql(&q, "DROP TRIGGER pft_no_expiry ON peering_requests");
    f.n = 0;
    assert_int_equal(wf_request_expire_sweep(&q.env, &n, &n_failed, record_failure, &f, &err),
                     PF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(n_failed, 0);
    assert_string_equal(state_of(&q, id[1]), "expired");
    pgt_drop(&q);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renewed_lease_is_not_claimed_dead_holder_is),
        cmocka_unit_test(heartbeat_keeps_a_long_job),
        cmocka_unit_test(failure_and_retry_in_every_order),
        cmocka_unit_test(one_request_that_cannot_expire_does_not_block_the_others),
    };
    return cmocka_run_group_tests_name("jobs_integration", tests, NULL, NULL);
}
