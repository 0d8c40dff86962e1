/* Handlers of the layer-3 side (docs/bgp.md): a side's router
 * configuration as text, and a network's routing facts (page and API). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"
#include "workflow/bgp.h"

/* GET /requests/{id}/bgp-config?daemon=D[&side=S] (and the API twin):
 * the caller's side as text/plain; the page's button downloads it. */
void web_h_bgp_config(web_ctx *ctx)
{
    long long id;
    pf_err err = {0};
    if (!web_param_id(ctx, 0, &id))
        return;
    const char *daemon = json_string_value(json_object_get(ctx->query, "daemon"));
    const char *side = json_string_value(json_object_get(ctx->query, "side"));
    const char *key;
    json_t *v;
    json_object_foreach(ctx->query, key, v) {
        if (strcmp(key, "daemon") != 0 && strcmp(key, "side") != 0) {
            pf_fail(&err, PF_EINVALID, "unknown_parameter", key,
                    "'%.60s' is not a parameter of bgp-config: it takes daemon and side", key);
            web_error(ctx, &err);
            return;
        }
    }
    if (daemon == NULL) {
        pf_fail(&err, PF_EINVALID, "missing", "daemon",
                "daemon is required: ?daemon=bird2, frr, junos or eos");
        web_error(ctx, &err);
        return;
    }
    char *text = NULL;
    if (wf_bgp_config(&ctx->env, &ctx->session.actor, id, side, daemon, &text, &err)) {
        web_error(ctx, &err);
        return;
    }
    ctx->no_store = true; /* it holds the session's secret */
    snprintf(ctx->extra_header_name, sizeof ctx->extra_header_name, "Content-Disposition");
    snprintf(ctx->extra_header_value, sizeof ctx->extra_header_value,
             "%s; filename=\"peerflow-request-%lld-%s.conf\"",
             ctx->is_api ? "inline" : "attachment", id, daemon);
    web_text(ctx, 200, "text/plain; charset=utf-8", text, strlen(text));
}

static const char *param_asn(web_ctx *ctx)
{
    return ctx->nparams > 0 ? ctx->params[0] : NULL;
}

static void show_facts(web_ctx *ctx, int status, json_t *values, const pf_err *failed)
{
    pf_err err = {0};
    json_t *facts;
    if (wf_network_facts_get(&ctx->env, &ctx->session.actor, param_asn(ctx), &facts, &err)) {
        json_decref(values);
        web_error(ctx, &err);
        return;
    }
    if (!ctx->is_api) {
        size_t i;
        json_t *p;
        char *lines = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&lines, &len);
        json_array_foreach(json_object_get(facts, "prefixes"), i, p)
            fprintf(f, "%s\n", json_string_value(p));
        fclose(f);
        /* the form's fields: as stored, or as typed when refused */
        json_t *form = json_pack("{sOsOsOss}", "max_prefix4", json_object_get(facts, "max_prefix4"),
                                 "max_prefix6", json_object_get(facts, "max_prefix6"), "irr_as_set",
                                 json_object_get(facts, "irr_as_set"), "prefixes",
                                 lines ? lines : "");
        free(lines);
        if (values) {
            json_object_update_existing(form, values);
            json_decref(values);
        }
        json_object_set_new(facts, "form", form);
        if (failed)
            json_object_set_new(facts, "error", json_string(failed->message));
    } else {
        json_decref(values);
    }
    web_view(ctx, status, "network", facts);
}

void web_h_network_show(web_ctx *ctx)
{
    show_facts(ctx, 200, NULL, NULL);
}

static const char *const facts_fields[] = {"max_prefix4", "max_prefix6", "irr_as_set",
                                           "prefixes", "force", NULL};

/* An integer or empty field as the text the workflow parses ("" clears);
 * NULL when absent. */
static const char *fact_text(web_ctx *ctx, const char *name, char buf[24], pf_err *err,
                             bool *bad)
{
    json_t *v = ctx->input ? json_object_get(ctx->input, name) : NULL;
    if (v == NULL)
        return NULL;
    if (json_is_null(v))
        return "";
    if (json_is_integer(v)) {
        snprintf(buf, 24, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_string(v))
        return json_string_value(v);
    pf_fail(err, PF_EINVALID, "wrong_type", name, "%s must be a number, or null to clear it", name);
    *bad = true;
    return NULL;
}

/* The prefixes field: a JSON array of strings, or the form's text with
 * one prefix per line (or separated by spaces or commas). Fills list (n
 * entries, pointing into *store, which the caller frees). */
static bool read_prefixes(web_ctx *ctx, const char **list, size_t cap, size_t *n, char **store,
                          bool *present, pf_err *err)
{
    json_t *v = ctx->input ? json_object_get(ctx->input, "prefixes") : NULL;
    *n = 0;
    *store = NULL;
    *present = v != NULL;
    if (v == NULL)
        return true;
    if (json_is_array(v)) {
        size_t i;
        json_t *p;
        json_array_foreach(v, i, p) {
            if (!json_is_string(p) || *n == cap) {
                pf_fail(err, PF_EINVALID, json_is_string(p) ? "too_many_prefixes" : "wrong_type",
                        "prefixes", "prefixes is a list of at most %zu CIDR strings", cap);
                return false;
            }
            list[(*n)++] = json_string_value(p);
        }
        return true;
    }
    if (!json_is_string(v)) {
        pf_fail(err, PF_EINVALID, "wrong_type", "prefixes",
                "prefixes is a list of CIDR strings, e.g. [\"198.51.100.0/24\"]");
        return false;
    }
    *store = strdup(json_string_value(v));
    for (char *save = NULL, *t = strtok_r(*store, " \t\r\n,", &save); t;
         t = strtok_r(NULL, " \t\r\n,", &save)) {
        if (*n == cap) {
            pf_fail(err, PF_EINVALID, "too_many_prefixes", "prefixes",
                    "at most %zu registered prefixes per network", cap);
            return false;
        }
        list[(*n)++] = t;
    }
    return true;
}

#define MAX_FORM_PREFIXES 1000

/* POST /networks/{asn} (form) and /api/v1/networks/{asn} (JSON): the
 * fields present are changed and "prefixes" replaces the registered set,
 * in one transaction: a refusal changes nothing. */
void web_h_network_update(web_ctx *ctx)
{
    pf_err err = {0};
    char b4[24], b6[24];
    bool bad = false, force = false, present = false;
    const char *list_buf[MAX_FORM_PREFIXES];
    size_t n = 0;
    char *store = NULL;
    wf_facts_input in = {0};
    const char *irr = NULL;
    if (!web_input_only(ctx, facts_fields, &err) ||
        !web_input_bool(ctx, "force", false, &force, &err) ||
        !web_input_text(ctx, "irr_as_set", 200, &irr, &err) ||
        !read_prefixes(ctx, list_buf, MAX_FORM_PREFIXES, &n, &store, &present, &err))
        bad = true;
    if (!bad) {
        in.max_prefix4 = fact_text(ctx, "max_prefix4", b4, &err, &bad);
        in.max_prefix6 = bad ? NULL : fact_text(ctx, "max_prefix6", b6, &err, &bad);
        in.irr_as_set = ctx->input && json_object_get(ctx->input, "irr_as_set") ? (irr ? irr : "")
                                                                                 : NULL;
    }
    pf_kind k = bad ? err.kind : PF_OK;
    if (k == PF_OK)
        k = wf_network_update(&ctx->env, &ctx->session.actor, param_asn(ctx), &in, list_buf, n,
                              present, force, &err);
    free(store);
    if (k != PF_OK) {
        if (ctx->is_api || err.kind == PF_EFORBIDDEN || err.kind == PF_ENOTFOUND) {
            web_error(ctx, &err);
            return;
        }
        json_t *values = json_deep_copy(ctx->input);
        json_object_del(values, "csrf");
        show_facts(ctx, web_status_for(&err), values, &err);
        return;
    }
    if (!ctx->is_api) {
        char loc[64];
        snprintf(loc, sizeof loc, "/networks/%s", param_asn(ctx));
        web_redirect(ctx, loc);
        return;
    }
    show_facts(ctx, 200, NULL, NULL);
}
