/* web/proxy.c: trusted-proxy CIDRs, the client address behind them, and
 * the log-safe path. No services. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "web/proxy.h"

static web_proxies parse_ok(const char *spec)
{
    web_proxies p;
    pf_err err = {0};
    if (web_proxies_parse(spec, &p, &err) != PF_OK)
        fail_msg("'%s' refused: %s", spec, err.message);
    return p;
}

static void parse_bad(const char *spec, const char *needle)
{
    web_proxies p;
    pf_err err = {0};
    if (web_proxies_parse(spec, &p, &err) != PF_EINVALID)
        fail_msg("'%s' accepted", spec);
    assert_string_equal(err.code, "bad_trusted_proxy");
    if (strstr(err.message, needle) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", spec, err.message, needle);
}

static void cidrs(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(NULL).n, 0);
    assert_int_equal(parse_ok("").n, 0);
    web_proxies p = parse_ok(" 10.0.0.0/8 , 192.0.2.7, 2001:db8::/32,::1/128,");
    assert_int_equal(p.n, 4);
    assert_true(web_proxies_contain(&p, "10.255.1.2"));
    assert_false(web_proxies_contain(&p, "11.0.0.1"));
    assert_true(web_proxies_contain(&p, "192.0.2.7"));
    assert_false(web_proxies_contain(&p, "192.0.2.8"));
    assert_true(web_proxies_contain(&p, "2001:db8:ffff::1"));
    assert_false(web_proxies_contain(&p, "2001:db9::1"));
    assert_true(web_proxies_contain(&p, "::1"));
    assert_false(web_proxies_contain(&p, "::2"));
    /* an IPv4-mapped IPv6 peer is its IPv4 address */
    assert_true(web_proxies_contain(&p, "::ffff:10.1.2.3"));
    assert_false(web_proxies_contain(&p, "not-an-address"));
    assert_false(web_proxies_contain(&p, NULL));
    /* host bits in the network are ignored; prefix edges */
    p = parse_ok("172.16.5.4/12,0.0.0.0/0");
    assert_true(web_proxies_contain(&p, "172.31.255.255"));
    p = parse_ok("172.16.5.4/12");
    assert_true(web_proxies_contain(&p, "172.31.255.255"));
    assert_false(web_proxies_contain(&p, "172.32.0.0"));
    p = parse_ok("198.51.100.128/25");
    assert_true(web_proxies_contain(&p, "198.51.100.200"));
    assert_false(web_proxies_contain(&p, "198.51.100.127"));
    p = parse_ok("fe80::/10");
    assert_true(web_proxies_contain(&p, "febf::1"));
    assert_false(web_proxies_contain(&p, "fec0::1"));
    assert_false(web_proxies_contain(&p, "10.0.0.1")); /* other family */

    parse_bad("10.0.0.0/33", "10.0.0.0");
    parse_bad("2001:db8::/129", "2001:db8::");
    parse_bad("10.0.0/8", "10.0.0");
    parse_bad("10.0.0.0/", "is not an IPv4");
    parse_bad("10.0.0.0/-1", "is not an IPv4");
    parse_bad("10.0.0.0/8x", "is not an IPv4");
    parse_bad("proxy.example", "proxy.example");
    parse_bad("10.0.0.0/8,,::1", "empty entry");
    parse_bad("::ffff:10.0.0.1/104", "::ffff:10.0.0.1"); /* mapped is not a v6 network */
    char many[2048] = "";
    for (int i = 0; i < WEB_MAX_PROXIES + 1; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "10.0.%d.0/24,", i);
    parse_bad(many, "at most");
}

static const char *client(const web_proxies *p, const char *peer, const char *xff)
{
    static char out[WEB_ADDR_LEN];
    web_client_address(p, peer, xff, out, sizeof out);
    return out;
}

static void client_addresses(void **state)
{
    (void)state;
    web_proxies none = parse_ok(NULL);
    web_proxies p = parse_ok("10.0.0.0/8,2001:db8::/32");
    /* no trusted proxies: the header is ignored */
    assert_string_equal(client(&none, "10.0.0.1", "203.0.113.9"), "10.0.0.1");
    /* an untrusted peer cannot choose its address */
    assert_string_equal(client(&p, "198.51.100.1", "203.0.113.9"), "198.51.100.1");
    /* a trusted peer: the right-most address that is not a proxy */
    assert_string_equal(client(&p, "10.0.0.1", "203.0.113.9"), "203.0.113.9");
    assert_string_equal(client(&p, "10.0.0.1", "1.1.1.1, 203.0.113.9, 10.2.2.2"),
                        "203.0.113.9");
    /* a client's forged left part is not believed */
    assert_string_equal(client(&p, "10.0.0.1", "127.0.0.1,203.0.113.9"), "203.0.113.9");
    /* every hop trusted: the left-most */
    assert_string_equal(client(&p, "10.0.0.1", "10.9.9.9, 10.8.8.8"), "10.9.9.9");
    /* no header, or garbage: the last trusted hop */
    assert_string_equal(client(&p, "10.0.0.1", NULL), "10.0.0.1");
    assert_string_equal(client(&p, "10.0.0.1", "unknown"), "10.0.0.1");
    assert_string_equal(client(&p, "10.0.0.1", "203.0.113.9, 10.3.3.3, garbage"), "10.0.0.1");
    assert_string_equal(client(&p, "10.0.0.1", "garbage, 10.3.3.3"), "10.3.3.3");
    assert_string_equal(client(&p, "10.0.0.1", ""), "10.0.0.1");
    /* canonical spelling: one address, one throttling key */
    assert_string_equal(client(&p, "10.0.0.1", "2001:0DB9:0:0::1"), "2001:db9::1");
    assert_string_equal(client(&p, "10.0.0.1", "::ffff:203.0.113.9"), "203.0.113.9");
    assert_string_equal(client(&p, "2001:db8::5", "198.51.100.3"), "198.51.100.3");
    assert_string_equal(client(&none, "::ffff:192.0.2.1", NULL), "192.0.2.1");
}

static const char *logged(const char *path)
{
    static char out[256];
    web_log_path(path, out, sizeof out);
    return out;
}

static void log_paths(void **state)
{
    (void)state;
    const char *tok = "AQAAAAFtoken-text_with-base64url-chars";
    char path[128];
    snprintf(path, sizeof path, "/t/%s", tok);
    assert_string_equal(logged(path), "/t/REDACTED");
    snprintf(path, sizeof path, "/t/%s/more", tok);
    assert_string_equal(logged(path), "/t/REDACTED/more");
    assert_string_equal(logged("/t/"), "/t/");
    assert_string_equal(logged("/requests/12"), "/requests/12");
    assert_string_equal(logged("/login?next_token=s3cret&password=x"), "/login?...");
    assert_string_equal(logged("/a\nweb: forged line"), "/a%0Aweb:%20forged%20line");
    assert_string_equal(logged("/%41"), "/%2541");
    assert_string_equal(logged("/caf\xc3\xa9"), "/caf%C3%A9");
    assert_string_equal(logged(NULL), "");
    char small[8];
    web_log_path("/requests/123456", small, sizeof small);
    assert_string_equal(small, "/reques");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cidrs),
        cmocka_unit_test(client_addresses),
        cmocka_unit_test(log_paths),
    };
    return cmocka_run_group_tests_name("proxy", tests, NULL, NULL);
}
