/* web_read_cache (web/read_cache.h): what is kept is found only under its
 * own key and stamp, is a copy, and is replaced, forgotten or refused as
 * the header says. Logic only; the HTTP behaviour (the stamp confirmed by
 * the database on every read) is tests/integration/readcache_test.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/read_cache.h"

static void kept_under_its_own_key_and_stamp(void **state)
{
    (void)state;
    web_read_cache *c = web_read_cache_new(64);
    assert_non_null(c);
    web_read_key k = {.request_id = 7, .user_id = 3, .network_id = 2, .role = 1};
    long long stamp = 0;
    assert_false(web_read_cache_stamp(c, &k, &stamp));
    char src[] = "{\"id\":7}";
    web_read_cache_put(c, &k, 5, src, strlen(src));
    src[0] = 'X'; /* the cache holds a copy */
    assert_true(web_read_cache_stamp(c, &k, &stamp));
    assert_int_equal(stamp, 5);
    char *body = NULL;
    size_t len = 0;
    assert_false(web_read_cache_copy(c, &k, 6, &body, &len)); /* another stamp */
    assert_true(web_read_cache_copy(c, &k, 5, &body, &len));
    assert_int_equal(len, 8);
    assert_string_equal(body, "{\"id\":7}");
    free(body);
    /* the same request for another user, network or role is not it */
    web_read_key other[] = {{7, 4, 2, 1}, {7, 3, 9, 1}, {7, 3, 2, 2}, {8, 3, 2, 1}};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        assert_false(web_read_cache_stamp(c, &other[i], &stamp) &&
                     web_read_cache_copy(c, &other[i], 5, &body, &len));
    }
    web_read_cache_free(c);
}

static void replaced_forgotten_and_refused(void **state)
{
    (void)state;
    web_read_cache *c = web_read_cache_new(1); /* every key shares the slot */
    web_read_key a = {1, 1, 1, 1}, b = {2, 1, 1, 1};
    long long stamp;
    char *body;
    size_t len;
    web_read_cache_put(c, &a, 1, "a", 1);
    web_read_cache_put(c, &b, 1, "b", 1); /* replaces a */
    assert_false(web_read_cache_stamp(c, &a, &stamp));
    assert_true(web_read_cache_copy(c, &b, 1, &body, &len));
    assert_string_equal(body, "b");
    free(body);
    web_read_cache_forget(c, &a); /* not a's slot any more: b stays */
    assert_true(web_read_cache_stamp(c, &b, &stamp));
    web_read_cache_forget(c, &b);
    assert_false(web_read_cache_stamp(c, &b, &stamp));
    /* too large: not kept, and what the slot held is gone */
    web_read_cache_put(c, &a, 2, "a", 1);
    size_t big = WEB_READ_CACHE_MAX_BODY + 1;
    char *huge = calloc(1, big);
    memset(huge, 'x', big);
    web_read_cache_put(c, &b, 3, huge, big);
    free(huge);
    assert_false(web_read_cache_stamp(c, &a, &stamp));
    assert_false(web_read_cache_stamp(c, &b, &stamp));
    web_read_cache_free(c);
    web_read_cache_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kept_under_its_own_key_and_stamp),
        cmocka_unit_test(replaced_forgotten_and_refused),
    };
    return cmocka_run_group_tests_name("read_cache", tests, NULL, NULL);
}
