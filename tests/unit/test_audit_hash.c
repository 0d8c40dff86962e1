/* Unit test of the audit chain's canonical encoding (db/audit.c). The
 * expected hash is computed here from the byte string the format in
 * db/audit.h describes, so a change of the encoding - which would break
 * verification of every existing log - fails this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "db/audit.h"

static void encoding_is_length_prefixed(void **state)
{
    (void)state;
    unsigned char prev[32];
    memset(prev, 0xab, sizeof prev);
    const char *f[DB_AUDIT_NFIELDS] = {"7", "2026-11-24T10:00:00.000001Z", "user", "3",
                                       "noc@a.example", NULL, "request.submitted", "request",
                                       "42", "42", NULL, "{\"state\":\"pending\"}"};
    const char *expect_tail = "1:727:2026-11-24T10:00:00.000001Z4:user1:313:noc@a.example-"
                              "17:request.submitted7:request2:422:42-19:{\"state\":\"pending\"}";
    unsigned char buf[256];
    memcpy(buf, prev, 32);
    memcpy(buf + 32, expect_tail, strlen(expect_tail));
    unsigned char want[32], got[32];
    crypto_generichash(want, 32, buf, 32 + strlen(expect_tail), NULL, 0);
    db_audit_hash(prev, f, got);
    assert_memory_equal(want, got, 32);
}

static void every_field_and_prev_matter(void **state)
{
    (void)state;
    unsigned char prev[32] = {0}, base[32], h[32];
    const char *f[DB_AUDIT_NFIELDS] = {"1", "t", "system", NULL, "x", NULL, "a", "o", "1",
                                       NULL, NULL, "{}"};
    db_audit_hash(prev, f, base);
    for (int i = 0; i < DB_AUDIT_NFIELDS; i++) {
        const char *saved = f[i];
        f[i] = saved ? NULL : "";
        db_audit_hash(prev, f, h);
        assert_memory_not_equal(base, h, 32);
        f[i] = saved;
    }
    prev[31] = 1;
    db_audit_hash(prev, f, h);
    assert_memory_not_equal(base, h, 32);
    /* moving a byte between adjacent fields changes the hash */
    const char *g[DB_AUDIT_NFIELDS] = {"1", "t", "system", NULL, "xa", NULL, "", "o", "1",
                                       NULL, NULL, "{}"};
    const char *k[DB_AUDIT_NFIELDS] = {"1", "t", "system", NULL, "x", NULL, "a", "o", "1",
                                       NULL, NULL, "{}"};
    unsigned char hg[32], hk[32];
    memset(prev, 0, sizeof prev);
    db_audit_hash(prev, g, hg);
    db_audit_hash(prev, k, hk);
    assert_memory_not_equal(hg, hk, 32);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoding_is_length_prefixed),
        cmocka_unit_test(every_field_and_prev_matter),
    };
    return cmocka_run_group_tests_name("audit_hash", tests, NULL, NULL);
}
