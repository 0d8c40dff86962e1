/* Handlers of changes of a live circuit (workflow/changes.h):
 *   POST /requests/{id}/modify                      {bandwidth_mbps, version}
 *   POST /requests/{id}/changes/{change}/approve    {reason}
 *   POST /requests/{id}/changes/{change}/reject     {reason}
 *   POST /requests/{id}/changes/{change}/cancel     {}
 * and their /api/v1 twins. A page form answers with the request page
 * (the error beside the forms), the API with the request's JSON. */
#include <stdio.h>
#include <string.h>

#include "web/http.h"
#include "workflow/changes.h"
#include "workflow/validate.h"

/* The answer to a change: the request as it is now. */
static void answer(web_ctx *ctx, long long id, pf_kind k, const pf_err *err, int ok_status)
{
    if (k != PF_OK) {
        if (ctx->is_api || k == PF_ENOTFOUND)
            web_error(ctx, err);
        else
            web_request_page(ctx, id, web_status_for(err), err);
        return;
    }
    if (!ctx->is_api) {
        char loc[64];
        snprintf(loc, sizeof loc, "/requests/%lld", id);
        web_redirect(ctx, loc);
        return;
    }
    web_request_page(ctx, id, ok_status, NULL);
}

static bool body_ok(web_ctx *ctx, pf_err *err)
{
    if (!ctx->input_malformed)
        return true;
    pf_fail(err, PF_EINVALID, "malformed_json", NULL, "the body is not a JSON object: fix its syntax");
    return false;
}

void web_h_change_open(web_ctx *ctx)
{
    static const char *const fields[] = {"bandwidth_mbps", "version", NULL};
    long long id, bw = 0, version = 0;
    pf_err err = {0};
    if (!web_param_id(ctx, 0, &id))
        return;
    pf_kind k = PF_OK;
    if (!body_ok(ctx, &err) || !web_input_only(ctx, fields, &err) ||
        !web_input_int(ctx, "bandwidth_mbps", 1, 100000000, &bw, &err) ||
        !web_input_int(ctx, "version", 1, 2147483647, &version, &err))
        k = err.kind;
    if (k == PF_OK) {
        wf_change_input in = {.bandwidth_mbps = (int)bw, .version = (int)version};
        k = wf_change_open(&ctx->env, &ctx->session.actor, id, &in, NULL, &err);
    }
    answer(ctx, id, k, &err, 201);
}

void web_h_change_decide(web_ctx *ctx)
{
    static const char *const decide_fields[] = {"reason", NULL};
    static const char *const cancel_fields[] = {NULL};
    long long id, change;
    pf_err err = {0};
    if (!web_param_id(ctx, 0, &id) || !web_param_id(ctx, 1, &change))
        return;
    const char *action = ctx->params[2];
    bool cancel = strcmp(action, "cancel") == 0;
    bool approve = strcmp(action, "approve") == 0;
    if (!cancel && !approve && strcmp(action, "reject") != 0) {
        pf_fail(&err, PF_ENOTFOUND, "not_found", NULL,
                "there is no action '%.40s' on a change: use approve, reject or cancel", action);
        web_error(ctx, &err);
        return;
    }
    const char *reason = NULL;
    pf_kind k = PF_OK;
    if (!body_ok(ctx, &err) || !web_input_only(ctx, cancel ? cancel_fields : decide_fields, &err) ||
        !web_input_text(ctx, "reason", WF_MESSAGE_MAX, &reason, &err))
        k = err.kind;
    if (k == PF_OK)
        k = cancel ? wf_change_cancel(&ctx->env, &ctx->session.actor, id, change, &err)
                   : wf_change_decide(&ctx->env, &ctx->session.actor, id, change, approve, reason,
                                      &err);
    answer(ctx, id, k, &err, 200);
}
