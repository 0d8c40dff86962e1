/* libFuzzer target: form, query and cookie parsing (web/form.c), which
 * read bytes straight from the network. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *f = web_form_parse((const char *)data, size);
    json_decref(f);
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char out[128];
    web_cookie_get(s, "pf_session", out, sizeof out);
    char *d = web_url_decode(s, size);
    free(d);
    free(s);
    return 0;
}
