/* The decision's transaction in few round trips (docs/performance.md,
 * "Decisions"): writes nothing reads are queued (db_defer) and go out with
 * the next statement or COMMIT, reads go out together, the audit chain
 * costs two round trips for any number of events; and still every
 * transaction is all-or-nothing, answers the error it answered before,
 * and the chain stays linear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/audit.h"
#include "db/db_internal.h" /* the libpq connection, for its protocol trace */
#include "db/queue.h"
#include "db/requests.h"
#include "tests/support/pgtest.h"
#include "workflow/requests.h"

static long long submit(pgt_db *db, int vlan, const char *peer_port)
{
    wf_actor who = pgt_actor(db, "admin@a.example");
    wf_submit_input in = {.port = "a-trunk", .vlan = vlan, .peer_asn = 64501,
                          .peer_port = peer_port};
    long long id = 0;
    pf_err err = {0};
    if (wf_request_submit(&db->env, &who, &in, &id, &err) != PF_OK)
        fail_msg("submit: %s: %s", err.code, err.message);
    return id;
}

static pf_kind approve_as_peer(pgt_db *db, long long id, pf_err *err)
{
    wf_actor who = pgt_actor(db, "admin@b.example");
    wf_decision_input in = {0};
    return wf_request_approve(&db->env, &who, id, &in, err);
}

/* Round trips a connection made while the trace ran: each pipeline ends
 * in one Sync, each simple query (PQexec) is a Query of its own. */
static int round_trips(const char *trace)
{
    int n = 0;
    for (const char *line = trace; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1),
                 line);
        char *dir = strtok(buf, "\t"), *size = dir ? strtok(NULL, "\t") : NULL;
        char *type = size ? strtok(NULL, "\t") : NULL;
        if (dir && type && strcmp(dir, "F") == 0 &&
            (strcmp(type, "Sync") == 0 || strcmp(type, "Query") == 0))
            n++;
        line = end ? end + 1 : NULL;
    }
    return n;
}

/* The peer's final approval: BEGIN with the scope; the lock, the
 * decisions and the named port; the approval, the state and the
 * allocation; the job, both mails and the audit head; the audit rows and
 * COMMIT (15 round trips before). The port is the requester's
 * suggestion, so the peer's choice is recorded too (one more): 6. */
static void final_approval_takes_six_round_trips(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "decide_rtt", false);
    pgt_seed_world(&db);
    /* B's second (access) port: each approval holds its own */
    pgt_sql(&db, "INSERT INTO ports (network_id, switch_id, ofport, name, mode)"
                 " SELECT n.id, s.id, 7, 'b2', 'access' FROM networks n, switches s"
                 " WHERE n.asn = 64501 AND s.name = 's2'");
    /* every statement prepared once, as on a serving connection */
    long long warm = submit(&db, 101, "b2"), id = submit(&db, 102, "b1");
    pf_err err = {0};
    assert_int_equal(approve_as_peer(&db, warm, &err), PF_OK);

    char *trace = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&trace, &tlen);
    assert_non_null(f);
    wf_actor b = pgt_actor(&db, "admin@b.example");
    wf_decision_input in = {0};
    PQtrace(db.app->pg, f);
    PQsetTraceFlags(db.app->pg, PQTRACE_SUPPRESS_TIMESTAMPS); /* after PQtrace, which resets it */
    pf_kind k = wf_request_approve(&db.env, &b, id, &in, &err);
    PQuntrace(db.app->pg);
    fclose(f);
    if (k != PF_OK)
        fail_msg("approve: %s: %s", err.code, err.message);
    int n = round_trips(trace);
    free(trace);
    print_message("the final approval: %d round trips\n", n);
    if (n > 6)
        fail_msg("the final approval took %d round trips, at most 6 expected", n);

    /* everything the decision queued was written */
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT state FROM peering_requests WHERE id = %lld) || '/' ||"
             " (SELECT count(*) FROM jobs WHERE request_id = %lld AND kind = 'provision') || '/' ||"
             " (SELECT count(*) FROM outbox WHERE request_id = %lld AND kind = 'request_approved')",
             id, id, id);
    assert_string_equal(pgt_sql(&db, sql), "approved/1/2");
    /* the mail tells the state and the port the summary came back with */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox WHERE request_id = %lld AND kind = 'request_approved'"
             " AND body LIKE '%%now approved%%' AND body LIKE '%%port b1%%'",
             id);
    assert_string_equal(pgt_sql(&db, sql), "2");
    db_audit_verdict v;
    assert_int_equal(db_audit_verify(db.app, &v, &err), PF_OK);
    assert_true(v.ok);
    pgt_drop(&db);
}

struct queued_ctx {
    long long id;
    bool read_after; /* a statement that needs an answer after the failing write */
    pf_kind read_kind;
    char read_code[64];
};

/* Queues a job, an audit event and a second approval of the requester's
 * side, which the database refuses (approvals_one_per_side). */
static pf_kind queue_a_failing_write(db_conn *c, void *vctx, pf_err *err)
{
    struct queued_ctx *x = vctx;
    db_request_summary s;
    if (db_request_summary_get(c, x->id, &s, err)) /* the requester's network */
        return err->kind;
    db_approval a = {.request_id = x->id, .network_id = s.requester_network_id,
                     .side = "requester", .decision = "approve", .via = "auto-policy"};
    db_request_summary_clear(&s);
    if (db_job_enqueue(c, "provision", x->id, err))
        return err->kind;
    db_audit_event ev = {.actor_kind = "system", .actor_label = "test", .action = "test.queued",
                         .object_type = "request", .object_id = "x", .request_id = x->id};
    if (db_audit_append(c, &ev, err))
        return err->kind;
    if (db_approval_insert(c, &a, err))
        return err->kind; /* queued: no error yet */
    if (x->read_after) {
        x->read_kind = db_request_summary_get(c, x->id, &s, err);
        snprintf(x->read_code, sizeof x->read_code, "%s", err->code);
        if (x->read_kind == PF_OK)
            db_request_summary_clear(&s);
        return x->read_kind;
    }
    return PF_OK;
}

static void queued_write_error_fails_the_whole_transaction(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "decide_atomic", false);
    pgt_seed_world(&db);
    long long id = submit(&db, 103, "b1");
    const char *fp_sql = "SELECT (SELECT count(*) FROM jobs) || '/' || (SELECT count(*) FROM "
                         "approvals) || '/' || (SELECT seq FROM audit_head) || '/' ||"
                         " (SELECT count(*) FROM audit_events)";
    char before[80];
    snprintf(before, sizeof before, "%s", pgt_sql(&db, fp_sql));
    db_scope sys = db_scope_system();

    /* the failing write is the last: its error comes with COMMIT */
    struct queued_ctx x = {.id = id};
    pf_err err = {0};
    assert_int_equal(db_run_tx(db.app, &sys, queue_a_failing_write, &x, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "already_decided"); /* db/errors.c: as when sent at once */
    assert_string_equal(pgt_sql(&db, fp_sql), before);

    /* a statement after it answers the write's error */
    struct queued_ctx y = {.id = id, .read_after = true};
    pf_err err2 = {0};
    assert_int_equal(db_run_tx(db.app, &sys, queue_a_failing_write, &y, &err2), PF_ECONFLICT);
    assert_int_equal(y.read_kind, PF_ECONFLICT);
    assert_string_equal(y.read_code, "already_decided");
    assert_string_equal(pgt_sql(&db, fp_sql), before);

    /* and the connection is clean for the next transaction */
    assert_int_equal(approve_as_peer(&db, id, &err), PF_OK);
    assert_string_equal(
        pgt_sql(&db, "SELECT state FROM peering_requests ORDER BY id DESC LIMIT 1"), "approved");
    pgt_drop(&db);
}

struct chain_worker {
    const char *url;
    int txs;
    pf_kind result;
    pf_err err;
};

static pf_kind three_events(db_conn *c, void *vctx, pf_err *err)
{
    (void)vctx;
    static const char *const actions[] = {"test.one", "test.two", "test.three"};
    for (int i = 0; i < 3; i++) {
        db_audit_event ev = {.actor_kind = "system", .actor_label = "chain", .action = actions[i],
                             .object_type = "test", .object_id = "1", .after = "{\"i\": 1}"};
        if (db_audit_append(c, &ev, err))
            return err->kind;
    }
    return PF_OK;
}

static void *chain_run(void *arg)
{
    struct chain_worker *w = arg;
    db_conn *c = db_connect_as(w->url, DB_ROLE_WORKER, &w->err);
    if (c == NULL) {
        w->result = PF_EUNAVAIL;
        return NULL;
    }
    db_scope sys = db_scope_system();
    w->result = PF_OK;
    for (int i = 0; i < w->txs && w->result == PF_OK; i++)
        w->result = db_run_tx(c, &sys, three_events, NULL, &w->err);
    db_close(c);
    return NULL;
}

/* Several events per transaction from four connections at once: the
 * numbers come in one block per transaction and the rows chain in order. */
static void audit_chain_stays_linear_with_blocks_of_events(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "decide_chain", false);
    long long rows0 = pgt_count(&db, "audit_events");
    struct chain_worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct chain_worker){.url = db.app_url, .txs = 25};
        assert_int_equal(pthread_create(&t[i], NULL, chain_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        if (w[i].result != PF_OK)
            fail_msg("worker %d: %s: %s", i, w[i].err.code, w[i].err.message);
    }
    assert_int_equal(pgt_count(&db, "audit_events"), rows0 + 4 * 25 * 3);
    /* a transaction's three events are consecutive: its block of numbers */
    assert_string_equal(
        pgt_sql(&db, "SELECT count(*) FROM audit_events e WHERE e.action = 'test.one' AND"
                     " NOT EXISTS (SELECT 1 FROM audit_events n WHERE n.seq = e.seq + 1 AND"
                     " n.action = 'test.two') "),
        "0");
    pf_err err = {0};
    db_audit_verdict v;
    assert_int_equal(db_audit_verify(db.app, &v, &err), PF_OK);
    if (!v.ok)
        fail_msg("the chain does not verify: %s", v.problem);
    assert_int_equal(v.rows, rows0 + 300);
    pgt_drop(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(final_approval_takes_six_round_trips),
        cmocka_unit_test(queued_write_error_fails_the_whole_transaction),
        cmocka_unit_test(audit_chain_stays_linear_with_blocks_of_events),
    };
    return cmocka_run_group_tests_name("decide_integration", tests, NULL, NULL);
}
