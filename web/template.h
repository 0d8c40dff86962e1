/* web_template: HTML templates fed by a view model (a jansson object).
 *
 * Syntax (a small subset of Mustache):
 *   {{name}} {{a.b}}     the value, HTML-escaped; numbers printed; null,
 *                        false and missing print nothing; "." is the
 *                        current element
 *   {{{name}}}           the value unescaped - only for HTML the code built
 *                        itself, never for user text
 *   {{#name}}...{{/name}} an array: once per element, with the element as
 *                        context; an object or true: once; false, null,
 *                        0, "", [] and missing: not at all
 *   {{^name}}...{{/name}} once when the value is false as above
 *   {{> other}}          the template named other, same context
 *   {{@name}}            a timestamp in a person's form: <time datetime=ISO
 *                        title="2026-12-01 08:15 UTC">3 min ago</time>
 *                        (web_time_html); any other value as {{name}}
 * Names are looked up in the current context, then in the enclosing ones.
 * Escaping is the default, so a template cannot forget it.
 */
#ifndef WEB_TEMPLATE_H
#define WEB_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "common/pf_err.h"

typedef struct web_templates web_templates;

/* Loads every DIR/NAME.html as template NAME. Caller frees. */
web_templates *web_templates_load(const char *dir, pf_err *err);
/* Adds one template from a string (tests). Returns false on OOM. */
bool web_templates_add(web_templates *t, const char *name, const char *text);
web_templates *web_templates_new(void);
void web_templates_free(web_templates *t);

/* Renders template name with view. Returns a malloc'd string (caller frees)
 * or NULL with err filled (unknown template, unbalanced section). */
char *web_render(const web_templates *t, const char *name, json_t *view, pf_err *err);

/* Appends s HTML-escaped to a memstream; exposed for handlers building
 * small safe fragments and for tests. */
void web_html_escape(FILE *out, const char *s);

/* Writes timestamp s (ISO 8601 / PostgreSQL, with offset) as a <time>
 * element: the exact UTC time in datetime= and title=, relative to now as
 * text ("just now", "3 min ago", "5 h ago", "4 days ago", "in 2 days"),
 * the date "2026-12-01 08:15 UTC" past 60 days. A string that is not a
 * timestamp is written escaped, as it is. */
void web_time_html(FILE *out, const char *s, time_t now);

#endif
