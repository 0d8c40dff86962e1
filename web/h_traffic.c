/* Handlers of a request's traffic (issue 14): the rate series as JSON and
 * CSV (for the two parties and operators: the workflow and row-level
 * security decide), and the pictures of the request and fabric pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/http.h"
#include "web/svg.h"
#include "workflow/traffic.h"

static const char *q(web_ctx *ctx, const char *name)
{
    return json_string_value(json_object_get(ctx->query, name));
}

/* Parses ?from=&to=&step=[&range=]; answers the error and returns false. */
static bool query_of(web_ctx *ctx, bool allow_range, wf_traffic_query *out)
{
    pf_err err = {0};
    const char *key;
    json_t *v;
    json_object_foreach(ctx->query, key, v) {
        if (strcmp(key, "from") && strcmp(key, "to") && strcmp(key, "step") &&
            strcmp(key, "range")) {
            pf_fail(&err, PF_EINVALID, "unknown_parameter", key,
                    "'%.60s' is not a parameter of traffic: it takes from, to, step and range",
                    key);
            web_error(ctx, &err);
            return false;
        }
    }
    if (!allow_range && q(ctx, "range")) {
        pf_fail(&err, PF_EINVALID, "unknown_parameter", "range", "use from, to and step");
        web_error(ctx, &err);
        return false;
    }
    if (wf_traffic_query_parse(q(ctx, "from"), q(ctx, "to"), q(ctx, "step"), q(ctx, "range"),
                               (long long)time(NULL), out, &err)) {
        web_error(ctx, &err);
        return false;
    }
    return true;
}

/* GET /api/v1/requests/{id}/traffic */
void web_h_traffic(web_ctx *ctx)
{
    long long id;
    wf_traffic_query tq;
    pf_err err = {0};
    if (!web_param_id(ctx, 0, &id) || !query_of(ctx, true, &tq))
        return;
    json_t *s;
    if (wf_traffic_series(&ctx->env, &ctx->session.actor, id, &tq, &s, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, NULL, s);
}

static void csv_num(FILE *f, const json_t *v)
{
    if (json_is_number(v))
        fprintf(f, ",%.3f", json_number_value(v));
    else
        fputc(',', f);
}

/* GET /api/v1/requests/{id}/traffic.csv and /requests/{id}/traffic.csv */
void web_h_traffic_csv(web_ctx *ctx)
{
    long long id;
    wf_traffic_query tq;
    pf_err err = {0};
    if (!web_param_id(ctx, 0, &id) || !query_of(ctx, true, &tq))
        return;
    json_t *s;
    if (wf_traffic_series(&ctx->env, &ctx->session.actor, id, &tq, &s, &err)) {
        web_error(ctx, &err);
        return;
    }
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    fputs("time,a_to_b_bps,b_to_a_bps,a_to_b_pps,b_to_a_pps\r\n", f);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(s, "points"), i, p) {
        fputs(json_string_value(json_object_get(p, "at")), f);
        csv_num(f, json_object_get(p, "a_to_b_bps"));
        csv_num(f, json_object_get(p, "b_to_a_bps"));
        csv_num(f, json_object_get(p, "a_to_b_pps"));
        csv_num(f, json_object_get(p, "b_to_a_pps"));
        fputs("\r\n", f);
    }
    fclose(f);
    json_decref(s);
    snprintf(ctx->extra_header_name, sizeof ctx->extra_header_name, "Content-Disposition");
    snprintf(ctx->extra_header_value, sizeof ctx->extra_header_value,
             "%s; filename=\"peerflow-request-%lld-traffic.csv\"",
             ctx->is_api ? "inline" : "attachment", id);
    web_text(ctx, 200, "text/csv; charset=utf-8", body, len);
}

static const char *const ranges[] = {"1h", "24h", "7d", "30d"};

void web_traffic_decorate(web_ctx *ctx, long long id, json_t *view)
{
    if (ctx->is_api || !json_is_object(json_object_get(view, "circuit")))
        return;
    pf_err err = {0};
    json_t *req = NULL, *s = NULL;
    if (wf_traffic_request(&ctx->env, &ctx->session.actor, id, &req, &err) != PF_OK)
        return; /* the page still shows the rest */
    json_t *t = json_object();
    char *path = json_array_size(json_object_get(req, "path")) ? web_svg_path(req) : NULL;
    if (path)
        json_object_set_new(t, "path_svg", json_string(path));
    free(path);
    json_object_set(t, "path", json_object_get(req, "path"));
    const char *range = q(ctx, "range");
    bool known = false;
    for (size_t i = 0; range && i < sizeof ranges / sizeof ranges[0]; i++)
        known |= strcmp(range, ranges[i]) == 0;
    if (!known)
        range = "24h";
    wf_traffic_query tq;
    if (wf_traffic_query_parse(NULL, NULL, NULL, range, (long long)time(NULL), &tq, &err) ==
            PF_OK &&
        wf_traffic_series(&ctx->env, &ctx->session.actor, id, &tq, &s, &err) == PF_OK) {
        json_t *bw = json_object_get(view, "bandwidth_mbps");
        double cap = json_is_integer(bw) ? (double)json_integer_value(bw) * 1e6 : 0;
        char *g = web_svg_traffic(s, cap);
        if (g)
            json_object_set_new(t, "graph_svg", json_string(g));
        free(g);
        /* the table fallback: the recorded points, rates in words */
        json_t *rows = json_array();
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(s, "points"), i, p) {
            json_t *ab = json_object_get(p, "a_to_b_bps"), *ba = json_object_get(p, "b_to_a_bps");
            if (!json_is_number(ab))
                continue;
            char ra[32], rb[32];
            web_svg_rate(json_number_value(ab), ra, sizeof ra);
            web_svg_rate(json_number_value(ba), rb, sizeof rb);
            json_array_append_new(rows, json_pack("{sOssss}", "at", json_object_get(p, "at"),
                                                  "a_to_b", ra, "b_to_a", rb));
        }
        json_object_set_new(t, "rows", rows);
        json_object_set(t, "a", json_object_get(s, "a"));
        json_object_set(t, "b", json_object_get(s, "b"));
        json_object_set(t, "step", json_object_get(s, "step"));
        json_decref(s);
    }
    json_t *choices = json_array();
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        json_array_append_new(choices, json_pack("{sssb}", "range", ranges[i], "current",
                                                 strcmp(range, ranges[i]) == 0));
    json_object_set_new(t, "ranges", choices);
    json_object_set_new(t, "range", json_string(range));
    json_object_set_new(view, "traffic", t);
    json_decref(req);
}

void web_topology_decorate(web_ctx *ctx, json_t *view)
{
    if (ctx->is_api)
        return;
    char *svg = web_svg_topology(view);
    if (svg)
        json_object_set_new(view, "topology_svg", json_string(svg));
    free(svg);
}
