/* Handlers of the IETF Peering API (docs/peering-api.md) and of a
 * network's PeeringDB pins (docs/peeringdb.md). The workflow does the
 * work (workflow/peering_api.c, workflow/peeringdb.c); here: the query
 * parameters, the body, the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"
#include "workflow/peering_api.h"
#include "workflow/peeringdb.h"

#ifndef PF_WEB_DIR
#define PF_WEB_DIR "web"
#endif

const char *web_server_static_dir(void); /* web/server.h */

static wf_papi_config papi_config(const web_ctx *ctx)
{
    return (wf_papi_config){.key_dir = ctx->env.key_dir, .ix_id = ctx->peeringdb_ix_id};
}

/* Refuses a query parameter the route does not take (as web_input_only
 * does for bodies). */
static bool query_only(web_ctx *ctx, const char *const *names, const char *accepted)
{
    const char *key;
    json_t *v;
    json_object_foreach(ctx->query, key, v) {
        bool known = false;
        for (int i = 0; names[i] && !known; i++)
            known = strcmp(names[i], key) == 0;
        if (!known) {
            pf_err err = {0};
            pf_fail(&err, PF_EINVALID, "unknown_parameter", key,
                    "'%.60s' is not a parameter of %s: it takes %s", key, ctx->route->pattern,
                    accepted);
            web_error(ctx, &err);
            return false;
        }
    }
    return true;
}

static const char *q(web_ctx *ctx, const char *name)
{
    return json_string_value(json_object_get(ctx->query, name));
}

void web_h_papi_locations(web_ctx *ctx)
{
    static const char *const names[] = {"asn", "location_type", "max_results", "next_token",
                                        NULL};
    if (!query_only(ctx, names, "asn, location_type, max_results, next_token"))
        return;
    wf_papi_query qu = {q(ctx, "asn"), q(ctx, "location_type"), q(ctx, "max_results"),
                        q(ctx, "next_token")};
    wf_papi_config cfg = papi_config(ctx);
    json_t *out;
    pf_err err = {0};
    if (wf_papi_locations(&ctx->env, &cfg, &ctx->session.actor, &qu, &out, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, NULL, out);
}

void web_h_papi_sessions(web_ctx *ctx)
{
    static const char *const names[] = {"asn", "max_results", "next_token", NULL};
    if (!query_only(ctx, names, "asn, max_results, next_token"))
        return;
    wf_papi_query qu = {q(ctx, "asn"), NULL, q(ctx, "max_results"), q(ctx, "next_token")};
    wf_papi_config cfg = papi_config(ctx);
    json_t *out;
    pf_err err = {0};
    if (wf_papi_sessions(&ctx->env, &cfg, &ctx->session.actor, &qu, &out, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, NULL, out);
}

/* POST /sessions: the body is a list of sessions, or {"sessions": [...]}. */
void web_h_papi_sessions_add(web_ctx *ctx)
{
    pf_err err = {0};
    const json_t *list = ctx->input_list;
    if (list == NULL && ctx->input != NULL) {
        const char *key;
        json_t *v;
        json_object_foreach(ctx->input, key, v) {
            if (strcmp(key, "sessions") != 0) {
                pf_fail(&err, PF_EINVALID, "unknown_field", key,
                        "'%.60s' is not a field of POST /sessions: send a list of sessions, or "
                        "{\"sessions\": [...]}",
                        key);
                web_error(ctx, &err);
                return;
            }
        }
        list = json_object_get(ctx->input, "sessions");
    }
    if (list == NULL) {
        pf_fail(&err, PF_EINVALID, ctx->input_malformed ? "malformed_json" : "missing", NULL,
                ctx->input_malformed ? "the body is not JSON: send a list of sessions"
                                     : "send a JSON list of sessions");
        web_error(ctx, &err);
        return;
    }
    json_t *out;
    int status = 200;
    if (wf_papi_sessions_add(&ctx->env, &ctx->session.actor, list, &out, &status, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, status, NULL, out);
}

void web_h_papi_session(web_ctx *ctx)
{
    static const char *const none[] = {NULL};
    if (!query_only(ctx, none, "no parameters"))
        return;
    json_t *out;
    pf_err err = {0};
    if (wf_papi_session_get(&ctx->env, &ctx->session.actor, ctx->params[0], &out, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, NULL, out);
}

void web_h_papi_session_delete(web_ctx *ctx)
{
    static const char *const none[] = {NULL};
    if (!query_only(ctx, none, "no parameters"))
        return;
    json_t *out;
    pf_err err = {0};
    if (wf_papi_session_delete(&ctx->env, &ctx->session.actor, ctx->params[0], &out, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, NULL, out);
}

/* The OpenAPI document (docs/peering-api.openapi.json, installed beside
 * the static files), its server URL set to this server's prefix. */
void web_h_papi_openapi(web_ctx *ctx)
{
    static const char name[] = "peering-api.openapi.json";
    char path[1200];
    json_error_t je;
    snprintf(path, sizeof path, "%s/%s", web_server_static_dir(), name);
    json_t *doc = json_load_file(path, 0, &je);
    if (doc == NULL) {
        snprintf(path, sizeof path, "%s/../docs/%s", PF_WEB_DIR, name);
        doc = json_load_file(path, 0, &je);
    }
    if (doc == NULL) {
        web_text(ctx, 404, "text/plain; charset=utf-8", strdup("not installed\n"), 14);
        return;
    }
    json_object_set_new(doc, "servers",
                        json_pack("[{ss}]", "url", ctx->peering_api_base ? ctx->peering_api_base
                                                                         : WEB_PAPI_PREFIX));
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    web_text(ctx, 200, "application/json", text, text ? strlen(text) : 0);
}

/* ------------------------------------------------------------ pins */

void web_h_peeringdb_pins(web_ctx *ctx)
{
    json_t *out;
    pf_err err = {0};
    if (wf_peeringdb_pins_get(&ctx->env, &ctx->session.actor, ctx->params[0], &out, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, NULL, out);
}

void web_h_peeringdb_pins_set(web_ctx *ctx)
{
    static const char *const fields[] = {"pinned", NULL};
    pf_err err = {0};
    if (ctx->input == NULL) {
        pf_fail(&err, PF_EINVALID, ctx->input_malformed ? "malformed_json" : "missing", "pinned",
                "send {\"pinned\": [\"name\", \"policy\", ...]}");
        web_error(ctx, &err);
        return;
    }
    if (!web_input_only(ctx, fields, &err)) {
        web_error(ctx, &err);
        return;
    }
    json_t *list = json_object_get(ctx->input, "pinned");
    const char *names[WF_PDB_NFIELDS + 1];
    size_t n = 0, i;
    json_t *v;
    if (!json_is_array(list) || json_array_size(list) > WF_PDB_NFIELDS) {
        pf_fail(&err, PF_EINVALID, "wrong_type", "pinned",
                "pinned is a list of field names: %s", WF_PDB_FIELD_NAMES);
        web_error(ctx, &err);
        return;
    }
    json_array_foreach(list, i, v) {
        if (!json_is_string(v)) {
            pf_fail(&err, PF_EINVALID, "wrong_type", "pinned",
                    "pinned is a list of field names: %s", WF_PDB_FIELD_NAMES);
            web_error(ctx, &err);
            return;
        }
        names[n++] = json_string_value(v);
    }
    if (wf_peeringdb_pins_set(&ctx->env, &ctx->session.actor, ctx->params[0], names, n, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_h_peeringdb_pins(ctx);
}
