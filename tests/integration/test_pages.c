/* Integration tests of what the pages show beyond the tables (issue 14,
 * part 3), against a real PostgreSQL:
 *
 *   - the approve form's ports say what each still has free (a trunk's
 *     free VLAN ranges around the ones requests hold, an access port in
 *     use or free);
 *   - the request list pages by id (next_before), with the state filter;
 *   - the dashboard says in words what each waiting item needs, and from
 *     whom (an admin decides; an engineer is told an admin must). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/support/pgtest.h"
#include "workflow/queries.h"
#include "workflow/requests.h"

static void must(pf_kind k, const pf_err *err, const char *what)
{
    if (k != PF_OK)
        fail_msg("%s: %s", what, err->message);
}

static long long submit(pgt_db *db, const char *as, const char *port, int vlan, long long peer)
{
    wf_actor a = pgt_actor(db, as);
    wf_submit_input in = {.port = port, .vlan = vlan, .peer_asn = peer};
    long long id = 0;
    pf_err err = {0};
    must(wf_request_submit(&db->env, &a, &in, &id, &err), &err, "submit");
    return id;
}

static void free_text(bool trunk, const char *used_json, const char *want)
{
    json_t *used = json_loads(used_json, 0, NULL);
    char buf[200];
    wf_port_free_text(trunk, used, buf, sizeof buf);
    json_decref(used);
    assert_string_equal(buf, want);
}

static void ports_say_what_is_free(void **state)
{
    (void)state;
    free_text(true, "[]", "VLANs 1–4094 free");
    free_text(true, "[1, 2, 3, 4094]", "VLANs 4–4093 free");
    free_text(true, "[5, 7]", "VLANs 1–4, 6, 8–4094 free");
    free_text(false, "[0]", "in use");
    free_text(false, "[]", "free");
    json_t *all = json_array();
    for (int v = 1; v <= 4094; v++)
        json_array_append_new(all, json_integer(v));
    char buf[200];
    wf_port_free_text(true, all, buf, sizeof buf);
    json_decref(all);
    assert_string_equal(buf, "no VLAN free");

    pgt_db db;
    pgt_create(&db, "pages_ports", false);
    pgt_seed_world(&db);
    submit(&db, "admin@a.example", "a-trunk", 100, 64502); /* holds a-trunk VLAN 100 */
    submit(&db, "admin@a.example", "a1", 0, 64502);        /* holds a1 */
    long long id = submit(&db, "admin@b.example", "b1", 0, 64500); /* A picks its port */
    wf_actor a = pgt_actor(&db, "admin@a.example");
    json_t *v;
    pf_err err;
    must(wf_request_view(&db.env, &a, id, &v, &err), &err, "view");
    json_t *ports = json_object_get(v, "my_ports");
    assert_int_equal(json_array_size(ports), 2);
    size_t i;
    json_t *p;
    int seen = 0;
    json_array_foreach(ports, i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *free = json_string_value(json_object_get(p, "free"));
        if (strcmp(name, "a-trunk") == 0)
            assert_string_equal(free, "VLANs 1–99, 101–4094 free"), seen++;
        else if (strcmp(name, "a1") == 0)
            assert_string_equal(free, "in use"), seen++;
    }
    assert_int_equal(seen, 2);
    json_decref(v);
    pgt_drop(&db);
}

static void lists_page_by_id_with_the_filter(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "pages_list", false);
    pgt_seed_world(&db);
    long long ids[5];
    for (int i = 0; i < 5; i++)
        ids[i] = submit(&db, "admin@a.example", "a-trunk", 300 + i, 64501);
    wf_actor a = pgt_actor(&db, "admin@a.example");
    pf_err err;
    json_t *pg;
    long long before = 0, got[5];
    int n = 0, pages = 0;
    do {
        must(wf_request_page(&db.env, &a, "pending", before, 2, &pg, &err), &err, "page");
        json_t *list = json_object_get(pg, "requests");
        assert_true(json_array_size(list) <= 2);
        size_t i;
        json_t *r;
        json_array_foreach(list, i, r) got[n++] = json_integer_value(json_object_get(r, "id"));
        json_t *next = json_object_get(pg, "next_before");
        before = json_is_integer(next) ? json_integer_value(next) : 0;
        pages++;
        json_decref(pg);
    } while (before > 0 && pages < 10);
    assert_int_equal(pages, 3);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(got[i], ids[4 - i]); /* newest first, each once */
    /* the filter holds across pages: no active request */
    must(wf_request_page(&db.env, &a, "active", 0, 2, &pg, &err), &err, "active");
    assert_int_equal(json_array_size(json_object_get(pg, "requests")), 0);
    assert_true(json_is_null(json_object_get(pg, "next_before")));
    json_decref(pg);
    /* the CLI's list keeps its shape */
    must(wf_request_list(&db.env, &a, NULL, 100, &pg, &err), &err, "list");
    assert_null(json_object_get(pg, "next_before"));
    assert_int_equal(json_array_size(json_object_get(pg, "requests")), 5);
    json_decref(pg);
    pgt_drop(&db);
}

static const char *needs_of(pgt_db *db, const char *email, const char *list, long long id)
{
    static char buf[400];
    wf_actor u = pgt_actor(db, email);
    json_t *d;
    pf_err err;
    must(wf_dashboard(&db->env, &u, &d, &err), &err, "dashboard");
    buf[0] = '\0';
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(d, list), i, c) {
        if (json_integer_value(json_object_get(c, "id")) == id) {
            const char *s = json_string_value(json_object_get(c, "needs"));
            snprintf(buf, sizeof buf, "%s", s ? s : "(none)");
        }
    }
    json_decref(d);
    return buf;
}

static void dashboard_says_what_each_item_needs(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "pages_dashboard", false);
    pgt_seed_world(&db);
    long long id = submit(&db, "admin@b.example", "b1", 0, 64500);
    assert_string_equal(needs_of(&db, "admin@a.example", "waiting", id),
                        "AS64501 Net B asks to peer with you: choose your port (and a VLAN on a "
                        "trunk), then approve or reject it.");
    assert_string_equal(needs_of(&db, "eng@a.example", "waiting", id),
                        "AS64501 Net B asks to peer with you: an admin of your network must "
                        "choose your port (and a VLAN on a trunk), then approve or reject it.");
    /* B's admin filed it (its own approval): it waits on A */
    assert_string_equal(needs_of(&db, "admin@b.example", "open", id),
                        "Waiting on AS64500 Net A's decision.");
    /* an engineer's request needs its own network's admin first */
    long long id2 = submit(&db, "eng@a.example", "a-trunk", 400, 64502);
    assert_string_equal(needs_of(&db, "admin@a.example", "waiting", id2),
                        "Your network's own approval, before AS64502 Net C is asked: approve "
                        "it, or cancel it.");
    pgt_drop(&db);
}

/* The ids of one dashboard list, in order; n is their count. */
static int list_ids(json_t *d, const char *list, long long *ids, int max)
{
    int n = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(d, list), i, c) if (n < max) ids[n++] =
        json_integer_value(json_object_get(c, "id"));
    return n;
}

static bool has_id(const long long *ids, int n, long long id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* Each list takes its 100 ids from two ordered halves (the network as
 * requester, as peer) merged: the result must be the same as one sort of
 * all of them, capped at 100, whichever half the newest ones come from. */
static void dashboard_lists_merge_both_sides(void **state)
{
    (void)state;
    pgt_db db;
    pgt_create(&db, "pages_dashboard_merge", false);
    pgt_seed_world(&db);
    /* 250 pending requests (125 a half: more than a half's limit of 100): A -> B on A's trunk (even g), B -> A
     * on B's trunk (odd g), in one id order; then C -> B, which A must
     * never see */
    pgt_sql(&db, "INSERT INTO ports (network_id, switch_id, ofport, name, mode)"
                 " SELECT n.id, s.id, 7, 'b-trunk', 'trunk' FROM networks n, switches s"
                 " WHERE n.asn = 64501 AND s.name = 's2'");
    pgt_sql(&db, "INSERT INTO peering_requests (requester_network_id, requester_port_id,"
                 " requester_vlan, peer_network_id)"
                 " SELECT CASE WHEN g % 2 = 0 THEN a.id ELSE b.id END,"
                 "        CASE WHEN g % 2 = 0 THEN pa.id ELSE pb.id END,"
                 "        1000 + g,"
                 "        CASE WHEN g % 2 = 0 THEN b.id ELSE a.id END"
                 " FROM generate_series(1, 250) g, networks a, networks b, ports pa, ports pb"
                 " WHERE a.asn = 64500 AND b.asn = 64501 AND pa.name = 'a-trunk'"
                 " AND pb.name = 'b-trunk' ORDER BY g");
    long long c_id = atoll(pgt_sql(&db,
        "INSERT INTO peering_requests (requester_network_id, requester_port_id,"
        " peer_network_id) SELECT c.id, pc.id, b.id FROM networks c, networks b, ports pc"
        " WHERE c.asn = 64502 AND b.asn = 64501 AND pc.name = 'c1' RETURNING id"));
    /* A has decided the first 40 of its own requests: not waiting on A */
    pgt_sql(&db, "INSERT INTO approvals (request_id, network_id, side, decision, via)"
                 " SELECT r.id, r.requester_network_id, 'requester', 'approve', 'auto-policy'"
                 " FROM peering_requests r JOIN networks n ON n.id = r.requester_network_id"
                 " WHERE n.asn = 64500 ORDER BY r.id LIMIT 40");
    long long decided_max = atoll(pgt_sql(&db,
        "SELECT max(request_id) FROM approvals WHERE side = 'requester'"));
    long long a_max = atoll(pgt_sql(&db, "SELECT max(r.id) FROM peering_requests r JOIN"
                                         " networks n ON n.asn = 64500 AND n.id IN"
                                         " (r.requester_network_id, r.peer_network_id)"));
    long long a_min = atoll(pgt_sql(&db, "SELECT min(id) FROM peering_requests"));

    wf_actor a = pgt_actor(&db, "admin@a.example");
    json_t *d;
    pf_err err;
    long long ids[200];
    must(wf_dashboard(&db.env, &a, &d, &err), &err, "dashboard of A");
    /* open: A's 100 newest of 250, newest first, from both halves */
    int n = list_ids(d, "open", ids, 200);
    assert_int_equal(n, 100);
    assert_int_equal(ids[0], a_max);
    assert_int_equal(ids[99], a_max - 99);
    for (int i = 1; i < n; i++)
        assert_true(ids[i] < ids[i - 1]);
    assert_false(has_id(ids, n, c_id));
    /* waiting: the 210 A has not decided (125 of B's, 85 of A's own), the
     * oldest 100 first; none of the 40 A decided */
    n = list_ids(d, "waiting", ids, 200);
    assert_int_equal(n, 100);
    for (int i = 1; i < n; i++)
        assert_true(ids[i] > ids[i - 1]);
    assert_int_equal(ids[0], a_min); /* g = 1, B's: waits on A */
    int own = 0;
    for (int i = 0; i < n; i++) {
        long long g = ids[i] - a_min + 1;
        assert_false(g % 2 == 0 && ids[i] <= decided_max);
        own += g % 2 == 0;
    }
    assert_true(own > 0);
    assert_false(has_id(ids, n, c_id));
    json_decref(d);

    /* the operator's lists span every network */
    wf_actor op = pgt_actor(&db, "op@ix.example");
    must(wf_dashboard(&db.env, &op, &d, &err), &err, "dashboard of the operator");
    n = list_ids(d, "open", ids, 200);
    assert_int_equal(n, 100);
    assert_int_equal(ids[0], c_id);
    for (int i = 1; i < n; i++)
        assert_true(ids[i] < ids[i - 1]);
    json_decref(d);
    pgt_drop(&db);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ports_say_what_is_free),
        cmocka_unit_test(lists_page_by_id_with_the_filter),
        cmocka_unit_test(dashboard_says_what_each_item_needs),
        cmocka_unit_test(dashboard_lists_merge_both_sides),
    };
    return cmocka_run_group_tests_name("pages", tests, NULL, NULL);
}
