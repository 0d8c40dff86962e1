/* web_form: application/x-www-form-urlencoded and query strings, parsed
 * into a JSON object of strings (the last value of a repeated name wins).
 * Pure; fuzzed by tests/fuzz/fuzz_form.c. */
#ifndef WEB_FORM_H
#define WEB_FORM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Decodes %XX and '+' in place-free fashion into a new string; NULL when
 * the result is not valid UTF-8 or has a NUL byte. Caller frees. */
char *web_url_decode(const char *s, size_t len);

/* Parses "a=1&b=x+y" into {"a":"1","b":"x y"}. Returns NULL for malformed
 * input (bad escapes, invalid UTF-8, more than 64 fields). New reference. */
json_t *web_form_parse(const char *s, size_t len);

/* The value of cookie name in a Cookie header, copied into out; returns
 * false when absent. */
bool web_cookie_get(const char *header, const char *name, char *out, size_t outsz);

#endif
