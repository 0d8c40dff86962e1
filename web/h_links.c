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

static void form(web_ctx *ctx, int status, const pf_err *failed)
{
    pf_err err = {0};
    json_t *view;
    if (wf_token_view(&ctx->env, ctx->keys, ctx->params[0], &view, &err)) {
        refused(ctx, &err);
        return;
    }
    json_object_set_new(view, "token", json_string(ctx->params[0]));
    if (failed)
        json_object_set_new(view, "error", json_string(failed->message));
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
    if (!web_input_text(ctx, "decision", 16, &d.decision, &err) ||
        !web_input_text(ctx, "port", 64, &d.port, &err) ||
        !web_input_text(ctx, "reason", 2000, &d.reason, &err) ||
        !web_input_int(ctx, "vlan", 1, 4094, &vlan, &err)) {
        form(ctx, web_status_for(&err), &err);
        return;
    }
    d.vlan = (int)vlan;
    if (wf_token_decide(&ctx->env, ctx->keys, &d, &err) != PF_OK) {
        /* Without a choice, or with a port missing, the form comes back;
         * a dead link gets its own page. */
        if (err.kind == PF_EINVALID)
            form(ctx, web_status_for(&err), &err);
        else
            refused(ctx, &err);
        return;
    }
    web_view(ctx, 200, "link_done",
             json_pack("{ss}", "decision", strcmp(d.decision, "approve") == 0 ? "approved" : "rejected"));
}
