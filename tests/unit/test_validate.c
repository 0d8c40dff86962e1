/* Unit tests of workflow/validate.c and common/pf_table.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pf_table.h"
#include "workflow/validate.h"

static void asns(void **state)
{
    (void)state;
    pf_err e;
    long long v;
    assert_int_equal(wf_parse_asn("64500", "asn", &v, &e), PF_OK);
    assert_int_equal(v, 64500);
    assert_int_equal(wf_parse_asn("AS4200000000", "asn", &v, &e), PF_OK);
    assert_int_equal(v, 4200000000LL);
    const char *bad[] = {"0", "23456", "65535", "4294967295", "4294967296", "-1", "abc",
                         "", "AS", "12x", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(wf_parse_asn(bad[i], "peer_asn", &v, &e), PF_EINVALID);
        assert_string_equal(e.field, "peer_asn");
    }
    assert_int_equal(wf_parse_asn(NULL, "asn", &v, &e), PF_EINVALID);
    assert_string_equal(e.code, "missing");
}

static void vlans(void **state)
{
    (void)state;
    pf_err e;
    int v;
    assert_int_equal(wf_parse_vlan("1", "vlan", &v, &e), PF_OK);
    assert_int_equal(wf_parse_vlan("4094", "vlan", &v, &e), PF_OK);
    assert_int_equal(v, 4094);
    const char *bad[] = {"0", "4095", "-5", "x", "", "10.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(wf_parse_vlan(bad[i], "vlan", &v, &e), PF_EINVALID);
        assert_string_equal(e.code, "vlan_out_of_range");
        assert_non_null(strstr(e.message, "1..4094"));
    }
}

static void emails(void **state)
{
    (void)state;
    pf_err e;
    assert_int_equal(wf_check_email("noc@example.net", "email", &e), PF_OK);
    assert_int_equal(wf_check_email("a.b+c@sub.example.org", "email", &e), PF_OK);
    const char *bad[] = {"", "noc", "@example.net", "noc@", "noc@example", "a@b@c.d",
                         "noc @example.net", "noc@.example", "<noc@example.net>",
                         "noc@example.net\r\nBcc: x@y.z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(wf_check_email(bad[i], "email", &e), PF_EINVALID);
}

static void dpids_and_endpoints(void **state)
{
    (void)state;
    pf_err e;
    char d[17];
    assert_int_equal(wf_parse_dpid("1", d, &e), PF_OK);
    assert_string_equal(d, "0000000000000001");
    assert_int_equal(wf_parse_dpid("0xABcd", d, &e), PF_OK);
    assert_string_equal(d, "000000000000abcd");
    assert_int_equal(wf_parse_dpid("00:00:00:00:00:00:00:2a", d, &e), PF_OK);
    assert_string_equal(d, "000000000000002a");
    assert_int_equal(wf_parse_dpid("12345678901234567", d, &e), PF_EINVALID);
    assert_int_equal(wf_parse_dpid("xyz", d, &e), PF_EINVALID);
    assert_int_equal(wf_parse_dpid("", d, &e), PF_EINVALID);
    assert_int_equal(wf_check_endpoint("tcp:127.0.0.1:6653", &e), PF_OK);
    assert_int_equal(wf_check_endpoint("unix:/run/ovs/br0.mgmt", &e), PF_OK);
    assert_int_equal(wf_check_endpoint("tcp:127.0.0.1", &e), PF_EINVALID);
    assert_int_equal(wf_check_endpoint("tcp:h:70000", &e), PF_EINVALID);
    assert_int_equal(wf_check_endpoint("unix:relative", &e), PF_EINVALID);
    assert_int_equal(wf_check_endpoint("ssl:h:1", &e), PF_OK); /* TLS (issue 13) */
    assert_int_equal(wf_check_endpoint("ssl:h", &e), PF_EINVALID);
    assert_int_equal(wf_check_endpoint("tcp:[::1]:6653", &e), PF_OK);
    assert_int_equal(wf_check_endpoint("tcp:ho st:1", &e), PF_EINVALID);
    assert_int_equal(wf_check_endpoint("tcp:[::1:6653", &e), PF_EINVALID);
}

static void switch_ports_and_names(void **state)
{
    (void)state;
    pf_err e;
    char name[64];
    long long port;
    assert_int_equal(wf_parse_switch_port("s1:3", "a", name, &port, &e), PF_OK);
    assert_string_equal(name, "s1");
    assert_int_equal(port, 3);
    assert_int_equal(wf_parse_switch_port("s1", "a", name, &port, &e), PF_EINVALID);
    assert_int_equal(wf_parse_switch_port(":3", "a", name, &port, &e), PF_EINVALID);
    assert_int_equal(wf_parse_switch_port("s1:0", "b", name, &port, &e), PF_EINVALID);
    assert_string_equal(e.field, "b");
    assert_int_equal(wf_check_name("et-0/0/1", "name", true, &e), PF_OK);
    assert_int_equal(wf_check_name("et-0/0/1", "name", false, &e), PF_EINVALID);
    assert_int_equal(wf_check_name("-x", "name", false, &e), PF_EINVALID);
    assert_int_equal(wf_check_name("a b", "name", true, &e), PF_EINVALID);
    assert_int_equal(wf_check_display_name("Alpha Networks GmbH", "name", 100, &e), PF_OK);
    assert_int_equal(wf_check_display_name("Zürich IX", "name", 100, &e), PF_OK);
    assert_int_equal(wf_check_display_name(" Alpha", "name", 100, &e), PF_EINVALID);
    assert_int_equal(wf_check_display_name("Alpha ", "name", 100, &e), PF_EINVALID);
    assert_int_equal(wf_check_display_name("Al\npha", "name", 100, &e), PF_EINVALID);
    assert_int_equal(wf_check_display_name("", "name", 100, &e), PF_EINVALID);
    assert_int_equal(wf_check_display_name("abcd", "name", 3, &e), PF_EINVALID);
    const char *const modes[] = {"access", "trunk", NULL};
    assert_int_equal(wf_check_choice("trunk", "mode", modes, &e), PF_OK);
    assert_int_equal(wf_check_choice("hybrid", "mode", modes, &e), PF_EINVALID);
    assert_non_null(strstr(e.message, "access, trunk"));
}

static char *render(const pf_table *t, void (*fn)(const pf_table *, FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(t, f);
    fclose(f);
    return buf;
}

static void tables(void **state)
{
    (void)state;
    pf_table *t = pf_table_new(2);
    assert_true(pf_table_set_name(t, 0, "name"));
    assert_true(pf_table_set_name(t, 1, "note"));
    const char *r1[] = {"plain", NULL};
    const char *r2[] = {"comma,here", "say \"hi\"\nbye"};
    assert_true(pf_table_add_row(t, r1));
    assert_true(pf_table_add_row(t, r2));
    char *csv = render(t, pf_table_write_csv);
    assert_string_equal(csv, "name,note\r\nplain,\r\n\"comma,here\",\"say \"\"hi\"\"\nbye\"\r\n");
    free(csv);
    char *text = render(t, pf_table_write_text);
    assert_non_null(strstr(text, "(2 rows)"));
    free(text);
    char *json = pf_table_to_json(t);
    assert_non_null(strstr(json, "\"note\": null"));
    assert_non_null(strstr(json, "\"say \\\"hi\\\"\\nbye\""));
    free(json);
    pf_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(asns),
        cmocka_unit_test(vlans),
        cmocka_unit_test(emails),
        cmocka_unit_test(dpids_and_endpoints),
        cmocka_unit_test(switch_ports_and_names),
        cmocka_unit_test(tables),
    };
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
