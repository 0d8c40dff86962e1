/* The answer helpers of web_ctx (see http.h): views, errors, redirects,
 * cookies, and input fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pf_log.h"
#include "web/http.h"
#include "web/proxy.h"
#include "workflow/validate.h"

bool web_param_id(web_ctx *ctx, int i, long long *id)
{
    pf_err err;
    if (i >= ctx->nparams ||
        wf_parse_int(ctx->params[i], "id", 1, 9223372036854775807LL, id, &err) != PF_OK) {
        pf_fail(&err, PF_ENOTFOUND, "not_found", "id", "there is nothing at %s", ctx->path);
        web_error(ctx, &err);
        return false;
    }
    return true;
}

const char *web_input_str(web_ctx *ctx, const char *name)
{
    json_t *v = ctx->input ? json_object_get(ctx->input, name) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool web_input_int(web_ctx *ctx, const char *name, long long min, long long max, long long *out,
                   pf_err *err)
{
    json_t *v = ctx->input ? json_object_get(ctx->input, name) : NULL;
    *out = 0;
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return true;
    if (json_is_integer(v)) {
        long long x = json_integer_value(v);
        if (x < min || x > max) {
            pf_fail(err, PF_EINVALID, "out_of_range", name, "%s must be %lld..%lld, not %lld",
                    name, min, max, x);
            return false;
        }
        *out = x;
        return true;
    }
    if (json_is_string(v))
        return wf_parse_int(json_string_value(v), name, min, max, out, err) == PF_OK;
    pf_fail(err, PF_EINVALID, "wrong_type", name, "%s must be a whole number", name);
    return false;
}

bool web_input_bool(web_ctx *ctx, const char *name, bool dflt, bool *out, pf_err *err)
{
    json_t *v = ctx->input ? json_object_get(ctx->input, name) : NULL;
    *out = dflt;
    if (v == NULL || json_is_null(v))
        return true;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    const char *s = json_string_value(v);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "on") == 0 || strcmp(s, "1") == 0)) {
        *out = true;
        return true;
    }
    if (s && (strcmp(s, "false") == 0 || strcmp(s, "off") == 0 || strcmp(s, "0") == 0)) {
        *out = false;
        return true;
    }
    pf_fail(err, PF_EINVALID, "wrong_type", name, "%s must be true or false", name);
    return false;
}

bool web_input_text(web_ctx *ctx, const char *name, size_t max, const char **out, pf_err *err)
{
    json_t *v = ctx->input ? json_object_get(ctx->input, name) : NULL;
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        pf_fail(err, PF_EINVALID, "wrong_type", name, "%s must be a string", name);
        return false;
    }
    if (json_string_length(v) > max) {
        pf_fail(err, PF_EINVALID, "too_long", name, "%s is longer than %zu characters", name, max);
        return false;
    }
    *out = json_string_length(v) ? json_string_value(v) : NULL;
    return true;
}

static bool listed(const char *const *fields, const char *name)
{
    for (size_t i = 0; fields && fields[i]; i++)
        if (strcmp(fields[i], name) == 0)
            return true;
    return false;
}

bool web_input_only(web_ctx *ctx, const char *const *fields, pf_err *err)
{
    const char *key;
    json_t *v;
    if (ctx->input == NULL)
        return true;
    /* the route's pattern, not the path: a link's path is its token */
    const char *where = ctx->route ? ctx->route->pattern : ctx->path;
    json_object_foreach(ctx->input, key, v) {
        if (listed(fields, key) || (!ctx->is_api && strcmp(key, "csrf") == 0))
            continue;
        char list[300] = "";
        size_t used = 0;
        for (size_t i = 0; fields && fields[i] && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     fields[i]);
        if (list[0])
            pf_fail(err, PF_EINVALID, "unknown_field", key,
                    "'%.60s' is not a field of %s %s: it accepts %s (nothing was changed)", key,
                    ctx->method, where, list);
        else
            pf_fail(err, PF_EINVALID, "unknown_field", key,
                    "'%.60s' is not a field of %s %s: it accepts no fields (nothing was changed)",
                    key, ctx->method, where);
        return false;
    }
    return true;
}

int web_status_for(const pf_err *err)
{
    if (strcmp(err->code, "malformed_json") == 0 || strcmp(err->code, "malformed_body") == 0)
        return 400;
    if (strcmp(err->code, "body_too_large") == 0)
        return 413;
    if (strcmp(err->code, "method_not_allowed") == 0)
        return 405;
    return pf_kind_http_status(err->kind);
}

static void set_body(web_ctx *ctx, int status, const char *type, char *body)
{
    free(ctx->body);
    ctx->status = status;
    ctx->content_type = type;
    ctx->body = body;
    ctx->body_len = body ? strlen(body) : 0;
}

/* The data every page's header and footer use. */
static json_t *page_data(web_ctx *ctx)
{
    json_t *p = json_object();
    if (ctx->authenticated) {
        const wf_actor *a = &ctx->session.actor;
        json_object_set_new(p, "user", json_string(a->label));
        json_object_set_new(p, "role", json_string(wf_role_name(a->role)));
        json_object_set_new(p, "is_operator", json_boolean(a->role == WF_ROLE_OPERATOR));
        json_object_set_new(p, "is_admin", json_boolean(a->role == WF_ROLE_ADMIN));
        json_object_set_new(p, "can_submit",
                            json_boolean(a->role == WF_ROLE_ADMIN || a->role == WF_ROLE_ENGINEER));
        json_object_set_new(p, "csrf", json_string(ctx->session.csrf));
    }
    return p;
}

void web_view(web_ctx *ctx, int status, const char *template_name, json_t *view)
{
    if (ctx->is_api) {
        set_body(ctx, status, "application/json", json_dumps(view, JSON_COMPACT));
        json_decref(view);
        return;
    }
    json_object_set_new(view, "_page", page_data(ctx));
    pf_err err = {0};
    char *html = template_name ? web_render(ctx->templates, template_name, view, &err) : NULL;
    if (template_name == NULL) {
        char logged[512]; /* the message is logged: no /t/ token in it */
        web_log_path(ctx->path, logged, sizeof logged);
        pf_fail(&err, PF_EINTERNAL, "no_template", NULL, "%s has no page, only JSON", logged);
    }
    json_decref(view);
    if (html == NULL) {
        set_body(ctx, 500, "text/plain; charset=utf-8", strdup("internal error rendering the page\n"));
        pf_log_error("peerflow", "web: %s", err.message);
        return;
    }
    set_body(ctx, status, "text/html; charset=utf-8", html);
}

void web_retry_after(web_ctx *ctx, const pf_err *err)
{
    if (err->retry_after <= 0)
        return;
    snprintf(ctx->extra_header_name, sizeof ctx->extra_header_name, "Retry-After");
    snprintf(ctx->extra_header_value, sizeof ctx->extra_header_value, "%d", err->retry_after);
}

void web_error(web_ctx *ctx, const pf_err *err)
{
    int status = web_status_for(err);
    web_retry_after(ctx, err);
    if (status >= 500) {
        char logged[512]; /* never a /t/ token in the log */
        web_log_path(ctx->path, logged, sizeof logged);
        pf_log_error("peerflow", "web: %s %s: %s", ctx->method, logged, err->message);
    }
    json_t *e = json_pack("{ss,ss}", "code", err->code[0] ? err->code : pf_kind_name(err->kind),
                          "message", err->message);
    if (err->field[0])
        json_object_set_new(e, "field", json_string(err->field));
    if (err->retry_after > 0)
        json_object_set_new(e, "retry_after", json_integer(err->retry_after));
    if (ctx->is_api || ctx->templates == NULL) {
        json_t *doc = json_pack("{so}", "error", e);
        set_body(ctx, status, "application/json", json_dumps(doc, JSON_COMPACT));
        json_decref(doc);
        return;
    }
    json_t *view = json_pack("{so,si}", "error", e, "status", status);
    web_view(ctx, status, "error", view);
}

void web_redirect(web_ctx *ctx, const char *location)
{
    set_body(ctx, 303, "text/plain; charset=utf-8", strdup("see other\n"));
    snprintf(ctx->location, sizeof ctx->location, "%s", location);
}

void web_text(web_ctx *ctx, int status, const char *content_type, char *body, size_t len)
{
    free(ctx->body);
    ctx->status = status;
    ctx->content_type = content_type;
    ctx->body = body;
    ctx->body_len = len;
}

void web_add_cookie(web_ctx *ctx, const char *name, const char *value, int max_age)
{
    if (ctx->n_cookies == 3)
        return;
    snprintf(ctx->set_cookie[ctx->n_cookies++], sizeof ctx->set_cookie[0],
             "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", name, value, max_age,
             ctx->https ? "; Secure" : "");
}
