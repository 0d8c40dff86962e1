/* Handlers of the read-only pages (and their API twins): dashboard,
 * networks directory, reports (table, CSV download), the fabric. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"
#include "web/svg.h"
#include "workflow/queries.h"

void web_h_dashboard(web_ctx *ctx)
{
    pf_err err = {0};
    json_t *view;
    if (wf_dashboard(&ctx->env, &ctx->session.actor, &view, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, "dashboard", view);
}

void web_h_networks(web_ctx *ctx)
{
    pf_err err = {0};
    json_t *networks;
    if (wf_networks(&ctx->env, &ctx->session.actor, &networks, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_view(ctx, 200, "networks", json_pack("{so}", "networks", networks));
}

void web_h_fabric(web_ctx *ctx)
{
    pf_err err = {0};
    json_t *view;
    if (wf_fabric(&ctx->env, &ctx->session.actor, &view, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_topology_decorate(ctx, view);
    web_view(ctx, 200, "fabric", view);
}

/* A report as {"name", "columns": [...], "rows": [[...], ...]}. */
static json_t *table_view(const char *name, const pf_table *t)
{
    json_t *cols = json_array(), *rows = json_array();
    for (int c = 0; c < t->ncols; c++)
        json_array_append_new(cols, json_string(t->names[c]));
    for (int r = 0; r < t->nrows; r++) {
        json_t *row = json_array();
        for (int c = 0; c < t->ncols; c++) {
            const char *v = pf_table_cell(t, r, c);
            json_array_append_new(row, v ? json_string(v) : json_null());
        }
        json_array_append_new(rows, row);
    }
    return json_pack("{ss,so,so,si}", "name", name, "columns", cols, "rows", rows, "count",
                     t->nrows);
}

void web_h_reports(web_ctx *ctx)
{
    pf_err err = {0};
    pf_table *t;
    if (wf_report_list(&ctx->env, &ctx->session.actor, &t, &err)) {
        web_error(ctx, &err);
        return;
    }
    json_t *list = json_array();
    for (int r = 0; r < t->nrows; r++)
        json_array_append_new(list, json_pack("{ss,ss}", "name", pf_table_cell(t, r, 0),
                                              "description", pf_table_cell(t, r, 1)));
    pf_table_free(t);
    web_view(ctx, 200, "reports", json_pack("{so}", "reports", list));
}

void web_h_report(web_ctx *ctx)
{
    pf_err err = {0};
    char name[128];
    snprintf(name, sizeof name, "%s", ctx->params[0]);
    size_t len = strlen(name);
    bool csv = len > 4 && strcmp(name + len - 4, ".csv") == 0;
    if (csv)
        name[len - 4] = '\0';
    long long request = 0;
    json_t *q = json_object_get(ctx->query, "request");
    if (json_is_string(q) && json_string_length(q))
        request = strtoll(json_string_value(q), NULL, 10);
    pf_table *t;
    if (wf_report_run(&ctx->env, &ctx->session.actor, name, request, &t, &err)) {
        web_error(ctx, &err);
        return;
    }
    if (csv) {
        char *buf = NULL;
        size_t blen = 0;
        FILE *f = open_memstream(&buf, &blen);
        pf_table_write_csv(t, f);
        fclose(f);
        pf_table_free(t);
        snprintf(ctx->extra_header_name, sizeof ctx->extra_header_name, "Content-Disposition");
        snprintf(ctx->extra_header_value, sizeof ctx->extra_header_value,
                 "attachment; filename=\"%s.csv\"", name);
        web_text(ctx, 200, "text/csv; charset=utf-8", buf, blen);
        return;
    }
    json_t *view = table_view(name, t);
    pf_table_free(t);
    /* a chart where the report has one (web/svg.c), built from the rows
     * shown below it, with its numbers as a small table too */
    json_t *chart_rows = NULL;
    char *chart = web_svg_report_chart(view, &chart_rows);
    if (chart) {
        json_object_set_new(view, "chart", json_string(chart));
        json_object_set_new(view, "chart_rows", chart_rows ? chart_rows : json_array());
        json_object_set_new(view, strcmp(name, "approval_times") == 0 ? "chart_times"
                                                                      : "chart_ages",
                            json_true());
        free(chart);
    } else {
        json_decref(chart_rows);
    }
    web_view(ctx, 200, "report", view);
}
