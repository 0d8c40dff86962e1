/* Handlers of approval links (GET and POST /t/TOKEN), the pages a peering
 * contact reaches from an email. GET only shows; POST decides. The form
 * preselects nothing, so a mail scanner that follows the link, or even
 * submits the form, approves nothing. These pages are never cached and
 * send no Referer, so the token does not leak to other sites. */
#include <string.h>

#include "web/http.h"
#include "workflow/links.h"

static bool links_ready(web_ctx *ctx)
{
    ctx->no_store = true;
    ctx->referrer_policy = "no-referrer";
    if (ctx->keys == NULL) {
        pf_err err;
        pf_fail(&err, PF_EUNAVAIL, "links_not_configured", NULL,
                "approval links are not configured on this server (PEERFLOW_KEY_DIR)");
        web_error(ctx, &err);
        return false;
    }
    return true;
}

/* A refused link: its own sentence, on a page of its own. */
static void refused(web_ctx *ctx, const pf_err *err)
{
    json_t *view = json_pack("{ss,ss}", "code", err->code, "message", err->message);
    web_view(ctx, web_status_for(err), "link_refused", view);
}

/* The fields the link's form sends (web_input_only). */
static const char *const link_fields[] = {"decision", "port", "vlan", "reason", NULL};

/* The form, with what was typed kept and the error beside its field after
 * a refusal. The decision itself is never kept: the person picks approve
 * or reject again, so no page of ours ever comes with a choice made. */
static void form(web_ctx *ctx, int status, const pf_err *failed)
{
    pf_err err = {0};
    json_t *view;
    if (wf_token_view(&ctx->env, ctx->keys, ctx->params[0], &view, &err)) {
        refused(ctx, &err);
        return;
    }
    json_object_set_new(view, "token", json_string(ctx->params[0]));
    json_t *values = json_object();
    if (failed && ctx->input) {
        static const char *const kept[] = {"port", "vlan", "reason"};
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
            json_t *v = json_object_get(ctx->input, kept[i]);
            if (json_is_string(v) || json_is_integer(v))
                json_object_set(values, kept[i], v);
        }
    } else {
        /* the requester's suggestion, filled in: the peer keeps or changes
         * it, and still chooses approve or reject itself */
        json_t *sg = json_object_get(json_object_get(view, "request"), "suggested_peer");
        json_t *sp = json_object_get(sg, "port"), *sv = json_object_get(sg, "vlan");
        if (json_is_string(sp))
            json_object_set(values, "port", sp);
        if (json_is_integer(sv) && json_integer_value(sv) > 0)
            json_object_set(values, "vlan", sv);
    }
    const char *chosen = json_string_value(json_object_get(values, "port"));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(view, "ports"), i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        json_object_set_new(p, "selected", json_boolean(chosen && strcmp(chosen, name) == 0));
    }
    json_t *errors = json_object();
    if (failed) {
        /* beside the field when the page shows that field, else on top */
        const char *f = failed->field;
        bool beside =
            (strcmp(f, "port") == 0 && json_is_true(json_object_get(view, "choose_port"))) ||
            (strcmp(f, "vlan") == 0 && json_is_true(json_object_get(view, "ask_vlan"))) ||
            strcmp(f, "reason") == 0;
        if (beside)
            json_object_set_new(errors, f, json_string(failed->message));
        json_object_set_new(view, "error",
                            json_string(beside ? "Nothing was decided: correct the field marked "
                                                 "below and choose again."
                                               : failed->message));
        json_object_set_new(view, "error_code", json_string(failed->code));
    }
    json_object_set_new(view, "values", values);
    json_object_set_new(view, "errors", errors);
    web_view(ctx, status, "link", view);
}

void web_h_link_page(web_ctx *ctx)
{
    if (links_ready(ctx))
        form(ctx, 200, NULL);
}

void web_h_link_decide(web_ctx *ctx)
{
    if (!links_ready(ctx))
        return;
    pf_err err = {0};
    long long vlan = 0;
    wf_token_decision d = {.token = ctx->params[0],
                           .client_addr = ctx->client_addr,
                           .user_agent = ctx->user_agent};
    if (!web_input_only(ctx, link_fields, &err) ||
        !web_input_text(ctx, "decision", 16, &d.decision, &err) ||
        !web_input_text(ctx, "port", 64, &d.port, &err) ||
        !web_input_text(ctx, "reason", 2000, &d.reason, &err) ||
        !web_input_int(ctx, "vlan", 1, 4094, &vlan, &err)) {
        form(ctx, web_status_for(&err), &err);
        return;
    }
    d.vlan = (int)vlan;
    if (wf_token_decide(&ctx->env, ctx->keys, &d, &err) != PF_OK) {
        /* Without a choice, or with a port or VLAN missing or wrong, the
         * form comes back; a dead link gets its own page. */
        if (err.kind == PF_EINVALID)
            form(ctx, web_status_for(&err), &err);
        else
            refused(ctx, &err);
        return;
    }
    web_view(ctx, 200, "link_done",
             json_pack("{ss}", "decision", strcmp(d.decision, "approve") == 0 ? "approved" : "rejected"));
}
