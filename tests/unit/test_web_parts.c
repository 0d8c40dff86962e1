/* Unit tests of the web's pure parts: the template engine (escaping by
 * default, sections, partials) and form / cookie parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/form.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(templates_escape_by_default),
        cmocka_unit_test(templates_sections),
        cmocka_unit_test(forms_and_cookies),
    };
    return cmocka_run_group_tests_name("web_parts", tests, NULL, NULL);
}
