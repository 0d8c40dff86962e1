/* Unit tests of the pure parts of workflow/peeringdb.c (PeeringDB JSON
 * into networks' facts, on the fixtures of tests/fixtures/peeringdb/)
 * and workflow/peering_api.c (status words, next_token). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "workflow/peering_api.h"
#include "workflow/peeringdb.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/peeringdb/"
#endif

static pf_kind load(wf_pdb_set *s, const char *name, pf_err *err)
{
    char path[512];
    snprintf(path, sizeof path, FIXTURES "%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return wf_pdb_parse_text(s, buf, n, name, wf_pdb_kind_of(name), err);
}

static const wf_pdb_net *net(const wf_pdb_set *s, long long asn)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->nets[i].asn == asn)
            return &s->nets[i];
    return NULL;
}

static void kinds(void **state)
{
    (void)state;
    assert_string_equal(wf_pdb_kind_of("net-0.json"), "net");
    assert_string_equal(wf_pdb_kind_of("/tmp/x/netixlan-3.json"), "netixlan");
    assert_string_equal(wf_pdb_kind_of("https://www.peeringdb.com/api/poc?net_id__in=1,2"), "poc");
    assert_string_equal(wf_pdb_kind_of("http://h/api/ixlan"), "ixlan");
    assert_string_equal(wf_pdb_kind_of("ix.json"), "ix");
    assert_null(wf_pdb_kind_of("network.json"));
    assert_null(wf_pdb_kind_of("dump.json"));
}

static void nets_and_contacts(void **state)
{
    (void)state;
    wf_pdb_set s;
    pf_err err = {0};
    wf_pdb_set_init(&s);
    assert_int_equal(load(&s, "net-0.json", &err), PF_OK);
    assert_int_equal(load(&s, "poc-0.json", &err), PF_OK);
    assert_int_equal(load(&s, "ix-0.json", &err), PF_OK);
    wf_pdb_finish(&s);
    assert_int_equal(s.n, 4);
    const wf_pdb_net *a = net(&s, 64500);
    assert_non_null(a);
    assert_int_equal(a->net_id, 1001);
    assert_string_equal(a->name, "Alpha Networks");
    assert_string_equal(a->policy, "open");
    assert_string_equal(a->irr_as_set, "RIPE::AS-ALPHA"); /* the first of the list */
    assert_int_equal(a->max_prefix4, 120);
    assert_int_equal(a->max_prefix6, 40);
    /* Policy before Technical; Sales and the Private NOC not taken */
    assert_true(a->has_contacts);
    assert_int_equal(a->n_contacts, 2);
    assert_string_equal(a->contacts[0], "peering@alpha.example");
    assert_string_equal(a->contacts[1], "tech@alpha.example");
    const wf_pdb_net *b = net(&s, 64501);
    assert_string_equal(b->policy, "selective");
    assert_int_equal(b->max_prefix6, 0); /* 0 in PeeringDB: not known */
    /* the bad address is skipped and named, the good one kept */
    assert_int_equal(b->n_contacts, 1);
    assert_string_equal(b->contacts[0], "noc@beta.example");
    assert_int_equal(json_array_size(s.notes), 1);
    assert_non_null(strstr(json_string_value(json_array_get(s.notes, 0)), "noc at beta"));
    assert_null(net(&s, 64503)->irr_as_set); /* "" says nothing */
    assert_string_equal(net(&s, 64503)->policy, "restrictive");
    assert_string_equal(net(&s, 64504)->policy, "no");
    wf_pdb_set_free(&s);
}

static void kind_told_from_rows(void **state)
{
    (void)state;
    /* a combined dump, and an envelope whose name says nothing */
    const char *dump = "{\"net\": {\"data\": [{\"id\": 7, \"asn\": 64510, \"name\": \"N\","
                       " \"policy_general\": \"Open\"}]},"
                       " \"poc\": {\"data\": [{\"net_id\": 7, \"role\": \"NOC\", \"visible\":"
                       " \"Public\", \"email\": \"noc@n.example\", \"status\": \"ok\"}]}}";
    wf_pdb_set s;
    pf_err err = {0};
    wf_pdb_set_init(&s);
    assert_int_equal(wf_pdb_parse_text(&s, dump, strlen(dump), "dump.json", NULL, &err), PF_OK);
    const char *env = "{\"meta\": {}, \"data\": [{\"net_id\": 7, \"role\": \"Policy\","
                      " \"visible\": \"Users\", \"email\": \"p@n.example\", \"status\": \"ok\"}]}";
    assert_int_equal(wf_pdb_parse_text(&s, env, strlen(env), "x.json", NULL, &err), PF_OK);
    wf_pdb_finish(&s);
    assert_int_equal(net(&s, 64510)->n_contacts, 2);
    assert_string_equal(net(&s, 64510)->contacts[0], "p@n.example");
    wf_pdb_set_free(&s);
}

static void bad_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *file, *code;
    } cases[] = {
        {"bad-not-json.json", "not_json"},
        {"bad-envelope.json", "wrong_envelope"},
        {"net-bad-noasn.json", "missing_asn"},
        {"net-bad-policy.json", "unknown_policy"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wf_pdb_set s;
        pf_err err = {0};
        wf_pdb_set_init(&s);
        assert_int_equal(load(&s, cases[i].file, &err), PF_EINVALID);
        assert_string_equal(err.code, cases[i].code);
        assert_non_null(strstr(err.message, cases[i].file)); /* names the input */
        wf_pdb_set_free(&s);
    }
    wf_pdb_set s;
    pf_err err = {0};
    wf_pdb_set_init(&s);
    assert_int_equal(load(&s, "net-bad-policy.json", &err), PF_EINVALID);
    assert_non_null(strstr(err.message, "Sometimes"));
    const char *rows = "{\"data\": [1]}";
    assert_int_equal(wf_pdb_parse_text(&s, rows, strlen(rows), "r", NULL, &err), PF_EINVALID);
    const char *odd = "{\"data\": [{\"colour\": 1}]}";
    assert_int_equal(wf_pdb_parse_text(&s, odd, strlen(odd), "odd", NULL, &err), PF_EINVALID);
    assert_string_equal(err.code, "unknown_object");
    wf_pdb_set_free(&s);
}

static void deleted_rows(void **state)
{
    (void)state;
    wf_pdb_set s;
    pf_err err = {0};
    wf_pdb_set_init(&s);
    assert_int_equal(load(&s, "net-changed.json", &err), PF_OK);
    wf_pdb_finish(&s);
    assert_false(net(&s, 64500)->deleted);
    assert_string_equal(net(&s, 64500)->policy, "selective");
    assert_true(net(&s, 64501)->deleted);
    wf_pdb_set_free(&s);
}

static void statuses(void **state)
{
    (void)state;
    const char *map[][2] = {{"pending", "pending"},       {"approved", "approved"},
                            {"provisioning", "approved"}, {"active", "active"},
                            {"failed", "down"},           {"decommissioning", "decommissioning"},
                            {"decommissioned", "decommissioned"}, {"rejected", "rejected"},
                            {"expired", "rejected"},      {"cancelled", "cancelled"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        assert_string_equal(wf_papi_status(map[i][0]), map[i][1]);
    assert_string_equal(wf_papi_status("nonsense"), "unknown");
}

static void next_tokens(void **state)
{
    (void)state;
    unsigned char key[32], other[32];
    crypto_auth_keygen(key);
    crypto_auth_keygen(other);
    char t[WF_PAPI_TOKEN_MAX];
    long long off = -1;
    wf_papi_token_make(key, "sessions|3|64501|", 200, t);
    assert_true(wf_papi_token_parse(key, "sessions|3|64501|", t, &off));
    assert_int_equal(off, 200);
    assert_false(wf_papi_token_parse(other, "sessions|3|64501|", t, &off));   /* another key */
    assert_false(wf_papi_token_parse(key, "sessions|4|64501|", t, &off));     /* another network */
    assert_false(wf_papi_token_parse(key, "locations|3|64501|", t, &off));    /* another route */
    /* every single changed character fails */
    for (size_t i = 0; i < strlen(t); i++) {
        char u[WF_PAPI_TOKEN_MAX];
        memcpy(u, t, sizeof u);
        u[i] = u[i] == 'A' ? 'B' : 'A';
        assert_false(wf_papi_token_parse(key, "sessions|3|64501|", u, &off));
    }
    assert_false(wf_papi_token_parse(key, "sessions|3|64501|", "", &off));
    assert_false(wf_papi_token_parse(key, "sessions|3|64501|", "!!!", &off));
    assert_false(wf_papi_token_parse(key, "sessions|3|64501|", NULL, &off));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds),        cmocka_unit_test(nets_and_contacts),
        cmocka_unit_test(kind_told_from_rows), cmocka_unit_test(bad_inputs),
        cmocka_unit_test(deleted_rows), cmocka_unit_test(statuses),
        cmocka_unit_test(next_tokens),
    };
    return cmocka_run_group_tests_name("peeringdb", tests, NULL, NULL);
}
