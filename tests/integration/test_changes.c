/* Integration tests of changes of a live circuit (workflow/changes.c,
 * migrations/0014_changes.sql) against a real PostgreSQL, without Open
 * vSwitch (the meter side is tests/integration/test_provision.c):
 *
 *   - who may ask, on what circuit (active, capped), with what version;
 *   - the other side decides on the web or with the signed link in its
 *     mail (a link for a change decides the change, never the request);
 *     approval queues one modify job; the side that asked cannot decide;
 *   - both sides at once: two changes asked at the same moment (one wins),
 *     an approval and a withdrawal at the same moment (one wins);
 *   - applied sets the cap, failed keeps it; a decommission cancels the
 *     open change. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "db/db.h"
#include "tests/support/pgtest.h"
#include "workflow/changes.h"
#include "workflow/keys.h"
#include "workflow/links.h"
#include "workflow/queries.h"
#include "workflow/requests.h"

static char tmpdir[64];

static void must(pf_kind k, const pf_err *err, const char *what)
{
    if (k != PF_OK)
        fail_msg("%s: %s", what, err->message);
}

static void expect(pf_kind got, pf_kind want, const pf_err *err, const char *code)
{
    if (got != want || strcmp(err->code, code) != 0)
        fail_msg("wanted %s (%d), got %s (%d): %s", code, want, err->code, got, err->message);
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

/* A capped circuit A(a1) <-> B(b1), active (the provisioner's events
 * sent by hand). */
static long long active_circuit(pgt_db *db, int mbps)
{
    wf_actor a = pgt_actor(db, "admin@a.example"), b = pgt_actor(db, "admin@b.example");
    wf_actor sys = wf_actor_system("provisioner");
    wf_submit_input in = {.port = "a1", .peer_asn = 64501, .bandwidth_mbps = mbps};
    wf_decision_input d = {.port = "b1"};
    long long id = 0;
    pf_err err = {0};
    must(wf_request_submit(&db->env, &a, &in, &id, &err), &err, "submit");
    must(wf_request_approve(&db->env, &b, id, &d, &err), &err, "approve");
    must(wf_request_provision_event(&db->env, &sys, id, WF_EV_PROV_START, NULL, &err), &err, "start");
    must(wf_request_provision_event(&db->env, &sys, id, WF_EV_PROV_ACTIVE, NULL, &err), &err, "active");
    return id;
}

static long long open_change(pgt_db *db, const char *admin, long long id, int mbps)
{
    wf_actor who = pgt_actor(db, admin);
    wf_change_input in = {.bandwidth_mbps = mbps};
    long long ch = 0;
    pf_err err = {0};
    must(wf_change_open(&db->env, &who, id, &in, &ch, &err), &err, "open change");
    return ch;
}

static void who_may_ask_for_what(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "changes_ask", false);
    pgt_seed_world(&db);
    wf_actor aa = pgt_actor(&db, "admin@a.example"), ae = pgt_actor(&db, "eng@a.example");
    wf_actor ca = pgt_actor(&db, "admin@c.example");
    pf_err err = {0};
    wf_change_input in = {.bandwidth_mbps = 200};
    long long ch;

    /* pending: not active */
    wf_submit_input sub = {.port = "a1", .peer_asn = 64501, .bandwidth_mbps = 100};
    long long pending;
    must(wf_request_submit(&db.env, &aa, &sub, &pending, &err), &err, "submit");
    expect(wf_change_open(&db.env, &aa, pending, &in, &ch, &err), PF_ECONFLICT, &err, "not_active");
    wf_request_cancel(&db.env, &aa, pending, NULL, &err);

    long long id = active_circuit(&db, 100);
    expect(wf_change_open(&db.env, &ae, id, &in, &ch, &err), PF_EFORBIDDEN, &err, "admins_only");
    expect(wf_change_open(&db.env, &ca, id, &in, &ch, &err), PF_ENOTFOUND, &err, "unknown_request");
    wf_change_input same = {.bandwidth_mbps = 100};
    expect(wf_change_open(&db.env, &aa, id, &same, &ch, &err), PF_EINVALID, &err, "same_bandwidth");
    wf_change_input stale = {.bandwidth_mbps = 200, .version = 1};
    expect(wf_change_open(&db.env, &aa, id, &stale, &ch, &err), PF_ECONFLICT, &err, "stale_version");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM request_changes"), "0");

    /* a circuit without a cap has no meter to change */
    pgt_sql(&db, "INSERT INTO ports (network_id, switch_id, ofport, name) SELECT n.id, s.id, 7, "
                 "'a2' FROM networks n, switches s WHERE n.asn = 64500 AND s.name = 's1'");
    wf_actor sys = wf_actor_system("provisioner");
    wf_submit_input unc = {.port = "a2", .peer_asn = 64502};
    wf_actor c2 = pgt_actor(&db, "admin@c.example");
    wf_decision_input dc = {.port = "c1"};
    long long uncapped;
    must(wf_request_submit(&db.env, &aa, &unc, &uncapped, &err), &err, "submit uncapped");
    must(wf_request_approve(&db.env, &c2, uncapped, &dc, &err), &err, "approve uncapped");
    must(wf_request_provision_event(&db.env, &sys, uncapped, WF_EV_PROV_START, NULL, &err), &err, "s");
    must(wf_request_provision_event(&db.env, &sys, uncapped, WF_EV_PROV_ACTIVE, NULL, &err), &err, "a");
    expect(wf_change_open(&db.env, &aa, uncapped, &in, &ch, &err), PF_EINVALID, &err, "no_cap");

    /* asked: pending, the request's version bumped, the peer mailed */
    json_t *v;
    must(wf_request_view(&db.env, &aa, id, &v, &err), &err, "view");
    int version = (int)json_integer_value(json_object_get(v, "version"));
    json_decref(v);
    wf_change_input ok = {.bandwidth_mbps = 200, .version = version};
    must(wf_change_open(&db.env, &aa, id, &ok, &ch, &err), &err, "open");
    expect(wf_change_open(&db.env, &aa, id, &in, &ch, &err), PF_ECONFLICT, &err, "change_open");
    must(wf_request_view(&db.env, &aa, id, &v, &err), &err, "view");
    assert_int_equal(json_integer_value(json_object_get(v, "version")), version + 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "open_change"), "state")),
                        "pending");
    assert_false(json_is_true(json_object_get(json_object_get(v, "open_change"), "can_decide")));
    assert_true(json_is_true(json_object_get(json_object_get(v, "open_change"), "can_cancel")));
    json_decref(v);
    assert_string_equal(sqlf(&db, "SELECT count(*) > 0 FROM outbox o JOIN networks n ON n.id = "
                                  "o.network_id WHERE o.kind = 'change_needed' AND n.asn = 64501 "
                                  "AND o.token_id IS NOT NULL"),
                        "t");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM outbox o JOIN networks n ON n.id = "
                                  "o.network_id WHERE o.kind = 'change_needed' AND n.asn = 64500"),
                        "0");
    /* the side that asked cannot decide; the other side's engineer neither */
    expect(wf_change_decide(&db.env, &aa, id, ch, true, NULL, &err), PF_EFORBIDDEN, &err,
           "own_change");
    pgt_drop(&db);
}

static void approve_apply_fail(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "changes_apply", false);
    pgt_seed_world(&db);
    wf_actor b = pgt_actor(&db, "admin@b.example"), sys = wf_actor_system("provisioner");
    pf_err err = {0};
    long long id = active_circuit(&db, 100);
    long long ch = open_change(&db, "admin@a.example", id, 300);
    must(wf_change_decide(&db.env, &b, id, ch, true, "fine by us", &err), &err, "approve");
    assert_string_equal(sqlf(&db, "SELECT state FROM request_changes WHERE id = %lld", ch), "approved");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM jobs WHERE request_id = %lld AND kind = "
                                  "'modify' AND state = 'queued'",
                             id),
                        "1");
    expect(wf_change_decide(&db.env, &b, id, ch, false, NULL, &err), PF_ECONFLICT, &err,
           "change_decided");
    bool found;
    long long cid;
    int mbps;
    must(wf_change_to_apply(&db.env, &sys, id, &found, &cid, &mbps, &err), &err, "to apply");
    assert_true(found);
    assert_int_equal(cid, ch);
    assert_int_equal(mbps, 300);
    must(wf_change_applied(&db.env, &sys, id, true, NULL, 0, NULL, &err), &err, "applied");
    assert_string_equal(sqlf(&db, "SELECT bandwidth_mbps || ' ' || state FROM peering_requests "
                                  "WHERE id = %lld",
                             id),
                        "300 active");
    assert_string_equal(sqlf(&db, "SELECT state FROM request_changes WHERE id = %lld", ch), "applied");
    /* a failed one keeps the cap, and the circuit active */
    long long ch2 = open_change(&db, "admin@b.example", id, 50);
    wf_actor a = pgt_actor(&db, "admin@a.example");
    must(wf_change_decide(&db.env, &a, id, ch2, true, NULL, &err), &err, "approve 2");
    must(wf_change_applied(&db.env, &sys, id, false, "switch s1 refused the meter", 0, NULL, &err),
         &err, "failed");
    assert_string_equal(sqlf(&db, "SELECT bandwidth_mbps || ' ' || state FROM peering_requests "
                                  "WHERE id = %lld",
                             id),
                        "300 active");
    assert_string_equal(sqlf(&db, "SELECT state || ': ' || error FROM request_changes WHERE id = %lld",
                             ch2),
                        "failed: switch s1 refused the meter");
    assert_string_equal(sqlf(&db, "SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events "
                                  "WHERE request_id = %lld AND action LIKE 'change.%%'",
                             id),
                        "change.requested,change.approved,change.applied,change.requested,"
                        "change.approved,change.failed");
    /* a rejected one; then a decommission cancels the open one */
    long long ch3 = open_change(&db, "admin@a.example", id, 400);
    must(wf_change_decide(&db.env, &b, id, ch3, false, "too much", &err), &err, "reject");
    assert_string_equal(sqlf(&db, "SELECT state FROM request_changes WHERE id = %lld", ch3), "rejected");
    long long ch4 = open_change(&db, "admin@a.example", id, 500);
    must(wf_request_decommission(&db.env, &b, id, NULL, &err), &err, "decommission");
    assert_string_equal(sqlf(&db, "SELECT state FROM request_changes WHERE id = %lld", ch4),
                        "cancelled");
    expect(wf_change_decide(&db.env, &b, id, ch4, true, NULL, &err), PF_ECONFLICT, &err,
           "change_decided");
    pgt_drop(&db);
}

/* ---------------------------------------------------- the signed link */

static void link_decides_the_change(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "changes_link", false);
    pgt_seed_world(&db);
    char keydir[128];
    snprintf(keydir, sizeof keydir, "%s/keys", tmpdir);
    wf_keyring *keys;
    pf_err err = {0};
    must(wf_keyring_open(keydir, &keys, &err), &err, "keys");
    long long id = active_circuit(&db, 100);
    long long ch = open_change(&db, "admin@a.example", id, 250);
    /* sign the link of B's change_needed message as the mailer would */
    const char *row = sqlf(&db, "SELECT encode(token_id, 'hex') || ' ' || network_id || ' ' || "
                                "array_to_json(recipients) FROM outbox WHERE kind = "
                                "'change_needed' AND token_id IS NOT NULL ORDER BY id LIMIT 1");
    char hex[33], rcpt[300];
    long long net;
    assert_int_equal(sscanf(row, "%32s %lld %299s", hex, &net, rcpt), 3);
    unsigned char tid[16];
    size_t n;
    assert_int_equal(sodium_hex2bin(tid, 16, hex, 32, NULL, &n, NULL), 0);
    char text[WF_TOKEN_TEXT_MAX];
    wf_link_delivery d = {.token_id = tid, .request_id = id, .network_id = net, .recipients = rcpt};
    db_scope sys = db_scope_system();
    must(db_begin(db.app, &sys, &err), &err, "begin");
    must(wf_link_token_for_delivery(&db.env, keys, &d, text, &err), &err, "sign");
    must(db_commit(db.app, &err), &err, "commit");

    json_t *view;
    must(wf_token_view(&db.env, keys, text, &view, &err), &err, "view");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(view, "change"),
                                                        "bandwidth_mbps")),
                     250);
    assert_string_equal(json_string_value(json_object_get(view, "side")), "peer");
    json_decref(view);
    /* a port is not part of a change's decision */
    wf_token_decision bad = {.token = text, .decision = "approve", .port = "b1"};
    expect(wf_token_decide(&db.env, keys, &bad, &err), PF_EINVALID, &err, "unknown_field");
    wf_token_decision ok = {.token = text, .decision = "approve", .reason = "by mail"};
    must(wf_token_decide(&db.env, keys, &ok, &err), &err, "decide by link");
    assert_string_equal(sqlf(&db, "SELECT state || ' ' || decided_by FROM request_changes WHERE id "
                                  "= %lld",
                             ch),
                        sqlf(&db, "SELECT 'approved ' || (recipients)[1] FROM outbox WHERE kind "
                                  "= 'change_needed' AND token_id = decode('%s', 'hex')",
                             hex));
    /* the request itself is untouched: still active, one approval per side */
    assert_string_equal(sqlf(&db, "SELECT state FROM peering_requests WHERE id = %lld", id), "active");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM approvals WHERE request_id = %lld", id), "2");
    expect(wf_token_decide(&db.env, keys, &ok, &err), PF_ECONFLICT, &err, "token_used");
    wf_keyring_free(keys);
    pgt_drop(&db);
}

/* --------------------------------------------------- both sides at once */

struct party {
    pgt_db *db;
    wf_actor who;
    pthread_barrier_t *go;
    long long id, change;
    int mbps;
    int what; /* 0 open, 1 approve, 2 cancel */
    pf_kind rc;
    pf_err err;
};

static void *party_run(void *arg)
{
    struct party *p = arg;
    pf_err e = {0};
    db_conn *c = db_connect_as(p->db->app_url, DB_ROLE_WORKER, &e);
    if (c == NULL) {
        p->rc = e.kind;
        p->err = e;
        return NULL;
    }
    wf_env env = p->db->env;
    env.db = c;
    pthread_barrier_wait(p->go);
    wf_change_input in = {.bandwidth_mbps = p->mbps};
    p->rc = p->what == 0   ? wf_change_open(&env, &p->who, p->id, &in, NULL, &p->err)
            : p->what == 1 ? wf_change_decide(&env, &p->who, p->id, p->change, true, NULL, &p->err)
                           : wf_change_cancel(&env, &p->who, p->id, p->change, &p->err);
    db_close(c);
    return NULL;
}

static void race(struct party *p)
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        p[i].go = &go;
        pthread_create(&t[i], NULL, party_run, &p[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
}

static void both_sides_at_once(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "changes_race", false);
    pgt_seed_world(&db);
    for (int round = 0; round < 5; round++) {
        long long id = active_circuit(&db, 100 + round);
        /* both networks ask for a change at the same moment: one wins */
        struct party p[2] = {
            {.db = &db, .who = pgt_actor(&db, "admin@a.example"), .id = id, .mbps = 200},
            {.db = &db, .who = pgt_actor(&db, "admin@b.example"), .id = id, .mbps = 300}};
        race(p);
        int won = (p[0].rc == PF_OK) + (p[1].rc == PF_OK);
        assert_int_equal(won, 1);
        const pf_err *lost = p[0].rc == PF_OK ? &p[1].err : &p[0].err;
        assert_string_equal(lost->code, "change_open");
        long long ch = atoll(sqlf(&db, "SELECT id FROM request_changes WHERE request_id = %lld", id));
        const char *asker = p[0].rc == PF_OK ? "admin@a.example" : "admin@b.example";
        const char *other = p[0].rc == PF_OK ? "admin@b.example" : "admin@a.example";
        /* the other side approves while the asker withdraws: one wins */
        struct party q[2] = {
            {.db = &db, .who = pgt_actor(&db, other), .id = id, .change = ch, .what = 1},
            {.db = &db, .who = pgt_actor(&db, asker), .id = id, .change = ch, .what = 2}};
        race(q);
        assert_int_equal((q[0].rc == PF_OK) + (q[1].rc == PF_OK), 1);
        const char *st = sqlf(&db, "SELECT state FROM request_changes WHERE id = %lld", ch);
        assert_string_equal(st, q[0].rc == PF_OK ? "approved" : "cancelled");
        assert_string_equal(sqlf(&db, "SELECT count(*) FROM jobs WHERE request_id = %lld AND "
                                      "kind = 'modify'",
                                 id),
                            q[0].rc == PF_OK ? "1" : "0");
        wf_actor b = pgt_actor(&db, "admin@b.example");
        pf_err err = {0};
        must(wf_request_decommission(&db.env, &b, id, NULL, &err), &err, "decommission");
        wf_actor sys = wf_actor_system("provisioner");
        must(wf_request_provision_event(&db.env, &sys, id, WF_EV_PROV_REMOVED, NULL, &err), &err,
             "removed");
    }
    pgt_drop(&db);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pf-changes.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(who_may_ask_for_what),
        cmocka_unit_test(approve_apply_fail),
        cmocka_unit_test(link_decides_the_change),
        cmocka_unit_test(both_sides_at_once),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", tmpdir);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
