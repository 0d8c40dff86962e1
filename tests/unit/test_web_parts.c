/* Unit tests of the web's pure parts: the template engine (escaping by
 * default, sections, partials) and form / cookie parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "web/form.h"
#include "web/metrics.h"
#include "web/routes.h"
#include "web/template.h"

static char *render(const char *tpl, const char *json)
{
    web_templates *t = web_templates_new();
    web_templates_add(t, "t", tpl);
    web_templates_add(t, "part", "[{{name}}]");
    json_t *v = json_loads(json, 0, NULL);
    pf_err err;
    char *out = web_render(t, "t", v, &err);
    json_decref(v);
    web_templates_free(t);
    return out;
}

static void expect(const char *tpl, const char *json, const char *want)
{
    char *got = render(tpl, json);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void templates_escape_by_default(void **state)
{
    (void)state;
    expect("<p>{{x}}</p>", "{\"x\": \"<script>alert('1')</script> & \\\"q\\\"\"}",
           "<p>&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>");
    expect("{{{x}}}", "{\"x\": \"<b>ok</b>\"}", "<b>ok</b>");
    expect("{{n}}|{{f}}|{{t}}|{{z}}|{{missing}}", "{\"n\": 42, \"f\": false, \"t\": true, \"z\": null}",
           "42||true||");
    expect("{{a.b.c}}", "{\"a\": {\"b\": {\"c\": \"deep\"}}}", "deep");
}

static void templates_sections(void **state)
{
    (void)state;
    expect("{{#xs}}<{{name}}>{{/xs}}", "{\"xs\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}", "<a><b>");
    expect("{{#xs}}{{.}},{{/xs}}", "{\"xs\": [1, \"two\"]}", "1,two,");
    expect("{{^xs}}none{{/xs}}", "{\"xs\": []}", "none");
    expect("{{^xs}}none{{/xs}}", "{\"xs\": [1]}", "");
    expect("{{#flag}}yes{{/flag}}{{^flag}}no{{/flag}}", "{\"flag\": false}", "no");
    /* names resolve in enclosing contexts */
    expect("{{#xs}}{{id}}-{{v}};{{/xs}}", "{\"id\": 7, \"xs\": [{\"v\": 1}, {\"v\": 2}]}", "7-1;7-2;");
    /* nested sections of the same name */
    expect("{{#a}}{{#a}}x{{/a}}{{/a}}", "{\"a\": {\"a\": true}}", "x");
    expect("{{#xs}}{{> part}}{{/xs}}", "{\"xs\": [{\"name\": \"p\"}]}", "[p]");
    /* broken templates are errors, not half pages */
    assert_null(render("{{#open}}never closed", "{\"open\": true}"));
    assert_null(render("{{> nosuch}}", "{}"));
    assert_null(render("{{unclosed", "{}"));
}

static void forms_and_cookies(void **state)
{
    (void)state;
    json_t *f = web_form_parse("a=1&b=x+y%21&c=&d&a=2", 21);
    assert_non_null(f);
    assert_string_equal(json_string_value(json_object_get(f, "a")), "2");
    assert_string_equal(json_string_value(json_object_get(f, "b")), "x y!");
    assert_string_equal(json_string_value(json_object_get(f, "c")), "");
    assert_string_equal(json_string_value(json_object_get(f, "d")), "");
    json_decref(f);
    f = web_form_parse("name=Z%C3%BCrich", 16);
    assert_string_equal(json_string_value(json_object_get(f, "name")), "Zürich");
    json_decref(f);
    const char *bad[] = {"a=%", "a=%2", "a=%zz", "a=%00", "a=%C3", "a=%ED%A0%80", "=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(web_form_parse(bad[i], strlen(bad[i])));
    char many[1000] = "";
    for (int i = 0; i < 70; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "k%d=v&", i);
    assert_null(web_form_parse(many, strlen(many)));

    char v[64];
    assert_true(web_cookie_get("a=1; pf_session=abc; b=2", "pf_session", v, sizeof v));
    assert_string_equal(v, "abc");
    assert_false(web_cookie_get("xpf_session=abc", "pf_session", v, sizeof v));
    assert_false(web_cookie_get("pf_session_x=abc", "pf_session", v, sizeof v));
    assert_false(web_cookie_get("", "pf_session", v, sizeof v));
    assert_false(web_cookie_get("pf_session=0123456789012345678901234567890123456789012345678901234567890123456789",
                                "pf_session", v, sizeof v));
}

static char *time_html(const char *ts, time_t now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    web_time_html(f, ts, now);
    fclose(f);
    return buf;
}

/* /metrics counts every route by itself: a route past the table's size
 * would be counted with the unmatched ones. */
static void every_route_has_its_metrics(void **state)
{
    (void)state;
    assert_true(web_route_count() < WEB_METRICS_MAX_ROUTES);
}

static void expect_time(const char *ts, time_t now, const char *want)
{
    char *got = time_html(ts, now);
    assert_string_equal(got, want);
    free(got);
}

/* Times in a person's form: relative text, the exact UTC time in the
 * <time> element, any offset and PostgreSQL's text form understood. */
static void times_for_people(void **state)
{
    (void)state;
    time_t t = 1796112923; /* 2026-12-01T08:15:23Z */
    expect_time("2026-12-01T08:15:23.195316+00:00", t + 185,
                "<time datetime=\"2026-12-01T08:15:23Z\" title=\"2026-12-01 08:15 UTC\">3 min "
                "ago</time>");
    expect_time("2026-12-01 09:15:23+01", t + 30,
                "<time datetime=\"2026-12-01T08:15:23Z\" title=\"2026-12-01 08:15 UTC\">just "
                "now</time>");
    expect_time("2026-12-01T08:15:23Z", t + 5 * 3600,
                "<time datetime=\"2026-12-01T08:15:23Z\" title=\"2026-12-01 08:15 UTC\">5 h "
                "ago</time>");
    expect_time("2026-12-01T08:15:23-05:30", t - 3 * 86400,
                "<time datetime=\"2026-12-01T13:45:23Z\" title=\"2026-12-01 13:45 UTC\">in 3 "
                "days</time>");
    expect_time("2026-12-01T08:15:23Z", t + 400 * 86400LL,
                "<time datetime=\"2026-12-01T08:15:23Z\" title=\"2026-12-01 08:15 UTC\">"
                "2026-12-01 08:15 UTC</time>");
    /* not a time: as it is, escaped */
    expect_time("<b>soon</b>", t, "&lt;b&gt;soon&lt;/b&gt;");
    expect_time("2026-12-01T08:15:23+00:00<x>", t, "2026-12-01T08:15:23+00:00&lt;x&gt;");
    /* the template tag: strings as times, other values as {{name}} */
    char *got = render("{{@a}}|{{@n}}|{{@missing}}", "{\"a\": \"x&y\", \"n\": 5}");
    assert_string_equal(got, "x&amp;y|5|");
    free(got);
    got = render("{{#xs}}{{@.}};{{/xs}}", "{\"xs\": [\"2026-12-01T08:15:23Z\", \"x\"]}");
    assert_non_null(strstr(got, "<time datetime=\"2026-12-01T08:15:23Z\" title=\"2026-12-01 08:15 UTC\">"));
    assert_non_null(strstr(got, "</time>;x;"));
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(templates_escape_by_default),
        cmocka_unit_test(every_route_has_its_metrics),
        cmocka_unit_test(templates_sections),
        cmocka_unit_test(times_for_people),
        cmocka_unit_test(forms_and_cookies),
    };
    return cmocka_run_group_tests_name("web_parts", tests, NULL, NULL);
}
