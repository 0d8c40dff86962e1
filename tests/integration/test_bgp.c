/* Integration tests of the layer-3 side (workflow/bgp.c, migrations/
 * 0010_bgp.sql) against a real PostgreSQL, without Open vSwitch:
 *
 *   - approval allocates a /31 and a /127 (requester lower, peer upper),
 *     the secret is sealed and appears in no audit event and no mail;
 *   - two approvals at once, on two connections, get different blocks,
 *     and the one with no block left fails with pool_exhausted (no job);
 *     a retry is refused until an operator adds a pool;
 *   - decommission releases addresses and secret: the next circuit gets
 *     the same block;
 *   - opt-outs, pools and prefixes refuse bad input and write nothing;
 *   - bgp-config: 409 before approval, the daemon list, who may read it,
 *     and the database refuses an allocation for another network. */
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
#include "workflow/bgp.h"
#include "workflow/queries.h"
#include "workflow/requests.h"

static char key_dir[64];

static void must(pf_kind k, const pf_err *err, const char *what)
{
    if (k != PF_OK)
        fail_msg("%s: %s", what, err->message);
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

static void world(pgt_db *db, const char *name)
{
    pgt_create(db, name, false);
    pgt_seed_world(db);
    db->env.key_dir = key_dir;
}

static void pool(pgt_db *db, const char *cidr)
{
    wf_actor op = wf_actor_cli();
    pf_err err = {0};
    must(wf_pool_add(&db->env, &op, cidr, &err), &err, cidr);
}

static long long submit(pgt_db *db, const char *port, long long peer, bool md5, bool no6)
{
    wf_actor a = pgt_actor(db, "admin@a.example");
    wf_submit_input in = {.port = port, .peer_asn = peer, .bgp_md5 = md5, .no_bgp_ipv6 = no6};
    long long id = 0;
    pf_err err = {0};
    must(wf_request_submit(&db->env, &a, &in, &id, &err), &err, "submit");
    return id;
}

static pf_kind approve(const wf_env *env, pgt_db *db, long long id, const char *admin,
                       const char *port, pf_err *err)
{
    wf_actor b = pgt_actor(db, admin);
    wf_decision_input d = {.port = port};
    return wf_request_approve(env, &b, id, &d, err);
}

static json_t *view(pgt_db *db, long long id, const char *email)
{
    wf_actor who = email ? pgt_actor(db, email) : wf_actor_cli();
    json_t *v;
    pf_err err = {0};
    must(wf_request_view(&db->env, &who, id, &v, &err), &err, "view");
    return v;
}

static const char *ip(json_t *v, const char *family, const char *side)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(v, "bgp"), family), side));
}

static void approval_allocates_and_seals(void **state)
{
    (void)state;
    pgt_db db;
    world(&db, "bgp_alloc");
    pool(&db, "100.64.0.0/16");
    pool(&db, "2001:db8:100::/48");
    long long id = submit(&db, "a1", 64501, true, false);
    json_t *v = view(&db, id, "admin@a.example");
    assert_true(json_is_null(json_object_get(json_object_get(v, "bgp"), "ipv4")));
    json_decref(v);
    pf_err err = {0};
    must(approve(&db.env, &db, id, "admin@b.example", "b1", &err), &err, "approve");

    v = view(&db, id, "admin@a.example");
    assert_string_equal(json_string_value(json_object_get(v, "state")), "approved");
    assert_string_equal(ip(v, "ipv4", "requester_ip"), "100.64.0.0");
    assert_string_equal(ip(v, "ipv4", "peer_ip"), "100.64.0.1");
    assert_string_equal(ip(v, "ipv6", "requester_ip"), "2001:db8:100::");
    assert_string_equal(ip(v, "ipv6", "peer_ip"), "2001:db8:100::1");
    const char *secret =
        json_string_value(json_object_get(json_object_get(v, "bgp"), "md5_secret"));
    assert_non_null(secret);
    assert_int_equal(strlen(secret), WF_BGP_SECRET_LEN);
    char s[64];
    snprintf(s, sizeof s, "%s", secret);
    json_decref(v);

    /* the engineer of the same network sees the addresses, not the secret */
    v = view(&db, id, "eng@a.example");
    assert_string_equal(ip(v, "ipv4", "requester_ip"), "100.64.0.0");
    assert_null(json_object_get(json_object_get(v, "bgp"), "md5_secret"));
    assert_true(json_is_true(json_object_get(json_object_get(v, "bgp"), "md5")));
    json_decref(v);

    /* sealed: the database holds no clear text, no event and no mail has it */
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM request_bgp_secrets WHERE position("
                                  "convert_to('%s', 'UTF8') IN sealed) > 0",
                             s),
                        "0");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM audit_events WHERE before::text LIKE "
                                  "'%%%s%%' OR after::text LIKE '%%%s%%'",
                             s, s),
                        "0");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM outbox WHERE body LIKE '%%%s%%' OR "
                                  "subject LIKE '%%%s%%'",
                             s, s),
                        "0");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM audit_events WHERE request_id = %lld AND "
                                  "action = 'bgp.allocated' AND after->>'ipv4' = '100.64.0.0/31'",
                             id),
                        "1");
    /* the peer's admin reads the same secret; the peer's config names the
     * requester's address as its neighbour */
    wf_actor b = pgt_actor(&db, "admin@b.example");
    char *cfg = NULL;
    must(wf_bgp_config(&db.env, &b, id, NULL, "frr", &cfg, &err), &err, "config");
    assert_non_null(strstr(cfg, "neighbor 100.64.0.0 remote-as 64500"));
    assert_non_null(strstr(cfg, s));
    free(cfg);
    must(wf_bgp_config(&db.env, &b, id, NULL, "bird2", &cfg, &err), &err, "config");
    assert_non_null(strstr(cfg, "local 100.64.0.1 as 64501"));
    free(cfg);
    pgt_drop(&db);
}

/* ---------------------------------------- two approvals at the same moment */

/* One party acting on a connection of its own, in a thread. */
struct party {
    pgt_db *db;
    wf_actor who; /* resolved before the thread: the set-up connection is not shared */
    pthread_barrier_t *go; /* NULL: act at once */
    pf_kind (*act)(const wf_env *env, struct party *p);
    long long id;
    const char *port, *asn, *cidr;
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
    if (p->go)
        pthread_barrier_wait(p->go);
    p->rc = p->act(&env, p);
    db_close(c);
    return NULL;
}

static pf_kind act_approve(const wf_env *env, struct party *p)
{
    wf_decision_input d = {.port = p->port};
    return wf_request_approve(env, &p->who, p->id, &d, &p->err);
}

static pf_kind act_register(const wf_env *env, struct party *p)
{
    return wf_network_prefix_add(env, &p->who, p->asn, p->cidr, false, &p->err);
}

static void concurrent_approvals_get_distinct_blocks(void **state)
{
    (void)state;
    pgt_db db;
    world(&db, "bgp_race");
    pool(&db, "100.64.0.0/30"); /* room for two links, no IPv6 pool */
    sqlf(&db, "INSERT INTO ports (network_id, switch_id, ofport, name)"
              " SELECT n.id, s.id, 7, 'a2' FROM networks n, switches s"
              " WHERE n.asn = 64500 AND s.name = 's1'");
    sqlf(&db, "INSERT INTO ports (network_id, switch_id, ofport, name)"
              " SELECT n.id, s.id, 8, 'a3' FROM networks n, switches s"
              " WHERE n.asn = 64500 AND s.name = 's2'");
    sqlf(&db, "INSERT INTO ports (network_id, switch_id, ofport, name)"
              " SELECT n.id, s.id, 9, 'b2' FROM networks n, switches s"
              " WHERE n.asn = 64501 AND s.name = 's2'");
    long long r1 = submit(&db, "a1", 64501, false, false);
    long long r2 = submit(&db, "a2", 64502, false, false);
    long long r3 = submit(&db, "a3", 64501, false, false);

    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct party x[2] = {{.db = &db, .who = pgt_actor(&db, "admin@b.example"), .go = &go,
                          .act = act_approve, .id = r1, .port = "b1"},
                         {.db = &db, .who = pgt_actor(&db, "admin@c.example"), .go = &go,
                          .act = act_approve, .id = r2, .port = "c1"}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, party_run, &x[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < 2; i++)
        must(x[i].rc, &x[i].err, "concurrent approve");
    json_t *v1 = view(&db, r1, NULL), *v2 = view(&db, r2, NULL);
    assert_non_null(ip(v1, "ipv4", "requester_ip"));
    assert_non_null(ip(v2, "ipv4", "requester_ip"));
    assert_string_not_equal(ip(v1, "ipv4", "requester_ip"), ip(v2, "ipv4", "requester_ip"));
    assert_true(json_is_null(json_object_get(json_object_get(v1, "bgp"), "ipv6")));
    json_decref(v1);
    json_decref(v2);

    /* the pool is full: the third fails at once, with no job */
    pf_err err = {0};
    must(approve(&db.env, &db, r3, "admin@b.example", "b2", &err), &err, "third approve");
    json_t *v3 = view(&db, r3, NULL);
    assert_string_equal(json_string_value(json_object_get(v3, "state")), "failed");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(v3, "failure"), "code")),
        "pool_exhausted");
    json_decref(v3);
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM jobs WHERE request_id = %lld", r3), "0");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM circuit_addresses WHERE request_id = %lld",
                             r3),
                        "0");
    assert_string_equal(sqlf(&db, "SELECT count(*) > 0 FROM outbox WHERE request_id = %lld AND "
                                  "kind = 'request_failed'",
                             r3),
                        "t");

    /* a retry is refused while the pools are full, then works */
    wf_actor op = wf_actor_cli();
    assert_int_equal(wf_request_provision_event(&db.env, &op, r3, WF_EV_RETRY, NULL, &err),
                     PF_ECONFLICT);
    assert_string_equal(err.code, "pool_exhausted");
    pool(&db, "100.64.1.0/24");
    must(wf_request_provision_event(&db.env, &op, r3, WF_EV_RETRY, NULL, &err), &err, "retry");
    v3 = view(&db, r3, NULL);
    assert_string_equal(json_string_value(json_object_get(v3, "state")), "provisioning");
    assert_string_equal(ip(v3, "ipv4", "requester_ip"), "100.64.1.0");
    assert_true(json_is_null(json_object_get(v3, "failure")));
    json_decref(v3);
    pgt_drop(&db);
}

/* ------------------------------------------------------------- release */

static void decommission_releases(void **state)
{
    (void)state;
    pgt_db db;
    world(&db, "bgp_release");
    pool(&db, "100.64.0.0/30");
    long long id = submit(&db, "a1", 64501, true, true);
    pf_err err = {0};
    must(approve(&db.env, &db, id, "admin@b.example", "b1", &err), &err, "approve");
    json_t *v = view(&db, id, NULL);
    assert_true(json_is_null(json_object_get(json_object_get(v, "bgp"), "ipv6")));
    json_decref(v);
    wf_actor sys = wf_actor_system("provisioner");
    wf_actor a = pgt_actor(&db, "admin@a.example");
    must(wf_request_provision_event(&db.env, &sys, id, WF_EV_PROV_START, NULL, &err), &err, "start");
    must(wf_request_provision_event(&db.env, &sys, id, WF_EV_PROV_ACTIVE, NULL, &err), &err, "on");
    /* a pool in use cannot go */
    wf_actor op = wf_actor_cli();
    assert_int_equal(wf_pool_remove(&db.env, &op, "100.64.0.0/30", &err), PF_ECONFLICT);
    assert_string_equal(err.code, "pool_in_use");
    must(wf_request_decommission(&db.env, &a, id, NULL, &err), &err, "decommission");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM circuit_addresses"), "1");
    must(wf_request_provision_event(&db.env, &sys, id, WF_EV_PROV_REMOVED, NULL, &err), &err,
         "removed");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM circuit_addresses"), "0");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM request_bgp_secrets"), "0");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM audit_events WHERE request_id = %lld AND "
                                  "action = 'bgp.released' AND before->>'ipv4' = '100.64.0.0/31'",
                             id),
                        "1");
    char *cfg = NULL;
    assert_int_equal(wf_bgp_config(&db.env, &a, id, NULL, "bird2", &cfg, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "no_addresses");
    /* the next circuit gets the same block */
    long long next = submit(&db, "a1", 64501, false, false);
    must(approve(&db.env, &db, next, "admin@b.example", "b1", &err), &err, "approve next");
    v = view(&db, next, NULL);
    assert_string_equal(ip(v, "ipv4", "requester_ip"), "100.64.0.0");
    json_decref(v);
    /* and an unused pool can be removed */
    pool(&db, "100.65.0.0/24");
    must(wf_pool_remove(&db.env, &op, "100.65.0.0/24", &err), &err, "remove");
    pgt_drop(&db);
}

/* ------------------------------------------------------------ bad input */

static void expect(pf_kind got, pf_kind want, const pf_err *err, const char *code)
{
    if (got != want || strcmp(err->code, code) != 0)
        fail_msg("wanted %s (%d), got %s (%d): %s", code, want, err->code, got, err->message);
}

static void pools_and_prefixes_refuse_bad_input(void **state)
{
    (void)state;
    pgt_db db;
    world(&db, "bgp_input");
    wf_actor op = wf_actor_cli();
    wf_actor aa = pgt_actor(&db, "admin@a.example");
    wf_actor ae = pgt_actor(&db, "eng@a.example");
    wf_actor ba = pgt_actor(&db, "admin@b.example");
    pf_err err = {0};
    pool(&db, "100.64.0.0/16");
    expect(wf_pool_add(&db.env, &op, "100.64.8.0/24", &err), PF_ECONFLICT, &err, "pool_overlaps");
    expect(wf_pool_add(&db.env, &op, "100.64.0.1/16", &err), PF_EINVALID, &err, "bad_cidr");
    assert_non_null(strstr(err.message, "did you mean 100.64.0.0/16"));
    expect(wf_pool_add(&db.env, &op, "100.64.x/16", &err), PF_EINVALID, &err, "bad_cidr");
    expect(wf_pool_add(&db.env, &op, "100.66.0.0/31", &err), PF_EINVALID, &err, "pool_too_small");
    expect(wf_pool_add(&db.env, &aa, "100.67.0.0/24", &err), PF_EFORBIDDEN, &err, "operators_only");
    expect(wf_pool_remove(&db.env, &op, "100.99.0.0/24", &err), PF_ENOTFOUND, &err, "unknown_pool");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM address_pools"), "1");

    must(wf_network_prefix_add(&db.env, &aa, "64500", "198.51.100.0/24", false, &err), &err, "add");
    must(wf_network_prefix_add(&db.env, &aa, "64500", "198.51.100.0/24", false, &err), &err,
         "again");
    expect(wf_network_prefix_add(&db.env, &aa, "64500", "10.0.0.0/8", false, &err), PF_EINVALID,
           &err, "bogon_prefix");
    expect(wf_network_prefix_add(&db.env, &aa, "64500", "0.0.0.0/0", false, &err), PF_EINVALID,
           &err, "bad_prefix_length");
    expect(wf_network_prefix_add(&db.env, &aa, "64500", "198.51.100.0/25", false, &err),
           PF_EINVALID, &err, "bad_prefix_length");
    expect(wf_network_prefix_add(&db.env, &aa, "64500", "2001:db8:a::/64", false, &err),
           PF_EINVALID, &err, "bad_prefix_length");
    expect(wf_network_prefix_add(&db.env, &ae, "64500", "203.0.113.0/24", false, &err),
           PF_EFORBIDDEN, &err, "admins_only");
    expect(wf_network_prefix_add(&db.env, &ba, "64500", "203.0.113.0/24", false, &err),
           PF_EFORBIDDEN, &err, "admins_only");
    /* another network's space: refused, unless an operator forces it */
    expect(wf_network_prefix_add(&db.env, &ba, "64501", "198.51.0.0/16", false, &err),
           PF_ECONFLICT, &err, "prefix_of_other_network");
    assert_non_null(strstr(err.message, "AS64500"));
    expect(wf_network_prefix_add(&db.env, &ba, "64501", "198.51.0.0/16", true, &err),
           PF_EFORBIDDEN, &err, "operators_only");
    must(wf_network_prefix_add(&db.env, &op, "64501", "198.51.0.0/16", true, &err), &err, "force");
    /* a replace with one bad entry changes nothing */
    const char *set[] = {"203.0.113.0/24", "192.168.1.0/24"};
    expect(wf_network_prefix_replace(&db.env, &ba, "64501", set, 2, false, &err), PF_EINVALID,
           &err, "bogon_prefix");
    assert_string_equal(sqlf(&db, "SELECT string_agg(prefix::text, ',' ORDER BY prefix) FROM "
                                  "network_prefixes p JOIN networks n ON n.id = p.network_id "
                                  "WHERE n.asn = 64501"),
                        "198.51.0.0/16");
    const char *good[] = {"203.0.113.0/24", "2001:db8:b::/48"};
    must(wf_network_prefix_replace(&db.env, &ba, "64501", good, 2, false, &err), &err, "replace");
    assert_string_equal(sqlf(&db, "SELECT string_agg(prefix::text, ',' ORDER BY prefix) FROM "
                                  "network_prefixes p JOIN networks n ON n.id = p.network_id "
                                  "WHERE n.asn = 64501"),
                        "203.0.113.0/24,2001:db8:b::/48");
    expect(wf_network_prefix_remove(&db.env, &ba, "64501", "192.0.2.0/24", &err), PF_ENOTFOUND,
           &err, "unknown_prefix");

    /* facts: the network's admin, not its engineer, not another network */
    wf_facts_input f = {.max_prefix4 = "100", .irr_as_set = "AS-BETA"};
    must(wf_network_facts_set(&db.env, &ba, "AS64501", &f, &err), &err, "facts");
    expect(wf_network_facts_set(&db.env, &aa, "64501", &f, &err), PF_EFORBIDDEN, &err,
           "admins_only");
    wf_facts_input bad = {.max_prefix6 = "0"};
    expect(wf_network_facts_set(&db.env, &ba, "64501", &bad, &err), PF_EINVALID, &err,
           "out_of_range");
    wf_facts_input badset = {.irr_as_set = "AS BETA; drop"};
    expect(wf_network_facts_set(&db.env, &ba, "64501", &badset, &err), PF_EINVALID, &err,
           "bad_irr_as_set");
    json_t *facts;
    must(wf_network_facts_get(&db.env, &aa, "64501", &facts, &err), &err, "get");
    assert_int_equal(json_integer_value(json_object_get(facts, "max_prefix4")), 100);
    assert_true(json_is_null(json_object_get(facts, "max_prefix6")));
    assert_string_equal(json_string_value(json_object_get(facts, "irr_as_set")), "AS-BETA");
    assert_false(json_is_true(json_object_get(facts, "can_edit")));
    json_decref(facts);

    /* submissions: a secret needs a session and a key directory */
    wf_submit_input in = {.port = "a1", .peer_asn = 64501, .bgp_md5 = true, .no_bgp_ipv4 = true,
                          .no_bgp_ipv6 = true};
    long long id;
    expect(wf_request_submit(&db.env, &aa, &in, &id, &err), PF_EINVALID, &err,
           "md5_without_session");
    wf_env nokeys = db.env;
    nokeys.key_dir = NULL;
    in.no_bgp_ipv4 = false;
    expect(wf_request_submit(&nokeys, &aa, &in, &id, &err), PF_EINVALID, &err, "no_key_dir");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM peering_requests"), "0");
    pgt_drop(&db);
}

/* ---------------------------------- two networks registering at once */

/* B's registration is in flight (its transaction holds the registrations'
 * lock and has inserted, not committed) when C registers space that
 * overlaps it: C waits, then sees B's prefix and is refused. Without the
 * lock C would check before B commits, and both would hold the space. */
static void concurrent_overlapping_registrations(void **state)
{
    (void)state;
    pgt_db db;
    world(&db, "bgp_prefix_race");
    PGconn *b = PQconnectdb(db.app_url);
    assert_int_equal(PQstatus(b), CONNECTION_OK);
    char sql[512];
    snprintf(sql, sizeof sql,
             "BEGIN; SELECT set_config('peerflow.operator', 'on', true);"
             " SELECT pg_advisory_xact_lock(1346764816);"
             " INSERT INTO network_prefixes (network_id, prefix)"
             " SELECT id, '192.0.2.0/24' FROM networks WHERE asn = 64501;");
    PGresult *r = PQexec(b, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    struct party c = {.db = &db, .who = pgt_actor(&db, "admin@c.example"), .act = act_register,
                      .asn = "64502", .cidr = "192.0.0.0/16"};
    pthread_t t;
    pthread_create(&t, NULL, party_run, &c);
    usleep(300 * 1000); /* C is now waiting for the lock */
    r = PQexec(b, "COMMIT");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(b);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, PF_ECONFLICT);
    assert_string_equal(c.err.code, "prefix_of_other_network");
    assert_string_equal(sqlf(&db, "SELECT count(*) FROM network_prefixes"), "1");
    pgt_drop(&db);
}

static void config_is_for_the_parties_admins(void **state)
{
    (void)state;
    pgt_db db;
    world(&db, "bgp_config");
    pool(&db, "100.64.0.0/16");
    long long id = submit(&db, "a1", 64501, false, false);
    wf_actor aa = pgt_actor(&db, "admin@a.example");
    wf_actor ae = pgt_actor(&db, "eng@a.example");
    wf_actor ca = pgt_actor(&db, "admin@c.example");
    wf_actor op = wf_actor_cli();
    pf_err err = {0};
    char *cfg = NULL;
    expect(wf_bgp_config(&db.env, &aa, id, NULL, "bird2", &cfg, &err), PF_ECONFLICT, &err,
           "no_addresses");
    assert_non_null(strstr(err.message, "not approved"));
    must(approve(&db.env, &db, id, "admin@b.example", "b1", &err), &err, "approve");
    expect(wf_bgp_config(&db.env, &aa, id, NULL, "quagga", &cfg, &err), PF_EINVALID, &err,
           "unknown_daemon");
    assert_non_null(strstr(err.message, "bird2, frr, junos, eos"));
    expect(wf_bgp_config(&db.env, &ae, id, NULL, "bird2", &cfg, &err), PF_EFORBIDDEN, &err,
           "admins_only");
    expect(wf_bgp_config(&db.env, &ca, id, NULL, "bird2", &cfg, &err), PF_ENOTFOUND, &err,
           "unknown_request");
    expect(wf_bgp_config(&db.env, &aa, id, "peer", "bird2", &cfg, &err), PF_EFORBIDDEN, &err,
           "not_your_side");
    expect(wf_bgp_config(&db.env, &op, id, NULL, "bird2", &cfg, &err), PF_EINVALID, &err,
           "side_required");
    for (int d = 0; d < 4; d++) {
        static const char *const names[] = {"bird2", "frr", "junos", "eos"};
        must(wf_bgp_config(&db.env, &op, id, "peer", names[d], &cfg, &err), &err, names[d]);
        assert_non_null(strstr(cfg, "100.64.0.0"));
        assert_non_null(strstr(cfg, "64500"));
        assert_null(strstr(cfg, "password")); /* no MD5 asked for */
        free(cfg);
    }
    /* the database allocates only for a request its caller can see */
    char sql[200];
    snprintf(sql, sizeof sql,
             "BEGIN; SET LOCAL peerflow.network_id = '%s'; SELECT pf_bgp_allocate(%lld)",
             sqlf(&db, "SELECT id FROM networks WHERE asn = 64502"), id);
    PGconn *web = PQconnectdb(db.web_url);
    assert_int_equal(PQstatus(web), CONNECTION_OK);
    char msg[300];
    assert_string_equal(pgt_sql_state(web, sql, msg, sizeof msg), "P0002");
    PQfinish(web);
    pgt_drop(&db);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    snprintf(key_dir, sizeof key_dir, "/tmp/pf-bgp-keys.%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(approval_allocates_and_seals),
        cmocka_unit_test(concurrent_approvals_get_distinct_blocks),
        cmocka_unit_test(decommission_releases),
        cmocka_unit_test(pools_and_prefixes_refuse_bad_input),
        cmocka_unit_test(concurrent_overlapping_registrations),
        cmocka_unit_test(config_is_for_the_parties_admins),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", key_dir);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", key_dir);
    return rc;
}
