/* Handlers of accounts: login, logout, the account page with API tokens,
 * and GET /api/v1/me. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"
#include "workflow/admin.h"
#include "workflow/auth.h"

/* The fields each form accepts (web_input_only; "csrf" always is). */
static const char *const login_fields[] = {"email", "password", NULL};
static const char *const token_fields[] = {"name", NULL};
static const char *const no_fields[] = {NULL};
static const char *const password_fields[] = {"current_password", "new_password",
                                              "confirm_password", NULL};

/* The login form has no session yet, so its CSRF token is a double-submit
 * cookie: a random value in a cookie and in the form, compared on POST. A
 * cross-site form cannot read or set our cookie. */
static void login_page(web_ctx *ctx, int status, const char *email, const pf_err *err)
{
    unsigned char raw[24];
    char token[48];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, sizeof token, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    web_add_cookie(ctx, "pf_login_csrf", token, 3600);
    json_t *view = json_pack("{ss,s{ss?}}", "login_csrf", token, "values", "email", email);
    if (err) {
        json_object_set_new(view, "error", json_string(err->message));
        web_retry_after(ctx, err);
    }
    ctx->no_store = true;
    web_view(ctx, status, "login", view);
}

void web_h_login_form(web_ctx *ctx)
{
    if (ctx->authenticated) {
        web_redirect(ctx, "/");
        return;
    }
    login_page(ctx, 200, NULL, NULL);
}

void web_h_login(web_ctx *ctx)
{
    pf_err err = {0};
    const char *email = web_input_str(ctx, "email");
    const char *password = web_input_str(ctx, "password");
    const char *sent = web_input_str(ctx, "csrf");
    const char *cookie = ctx->cookie_login_csrf;
    if (!web_input_only(ctx, login_fields, &err)) {
        login_page(ctx, web_status_for(&err), email, &err);
        return;
    }
    if (sent == NULL || cookie == NULL || strlen(sent) != strlen(cookie) ||
        sodium_memcmp(sent, cookie, strlen(cookie)) != 0) {
        pf_fail(&err, PF_EFORBIDDEN, "csrf_failed", NULL,
                "the login form expired or came from another site: try again");
        login_page(ctx, 403, email, &err);
        return;
    }
    char token[WF_SESSION_TOKEN_LEN];
    wf_session s;
    if (wf_login(&ctx->env, email, password, ctx->client_addr, ctx->user_agent, token, &s,
                 &err)) {
        login_page(ctx, web_status_for(&err), email, &err);
        return;
    }
    web_add_cookie(ctx, "pf_session", token, WF_SESSION_TTL_SECONDS);
    web_add_cookie(ctx, "pf_login_csrf", "", 0);
    web_redirect(ctx, "/");
}

void web_h_logout(web_ctx *ctx)
{
    pf_err err = {0};
    if (!web_input_only(ctx, no_fields, &err) || wf_logout(&ctx->env, ctx->cookie_session, &err)) {
        web_error(ctx, &err);
        return;
    }
    web_add_cookie(ctx, "pf_session", "", 0);
    web_redirect(ctx, "/login");
}

static void account_page_with(web_ctx *ctx, int status, const char *new_token,
                              const pf_err *failed, const char *notice);

static void account_page(web_ctx *ctx, int status, const char *new_token, const pf_err *failed)
{
    account_page_with(ctx, status, new_token, failed, NULL);
}

static void account_page_with(web_ctx *ctx, int status, const char *new_token,
                              const pf_err *failed, const char *notice)
{
    pf_err err = {0};
    json_t *tokens;
    if (wf_api_tokens(&ctx->env, &ctx->session.actor, &tokens, &err)) {
        web_error(ctx, &err);
        return;
    }
    json_t *view = json_pack("{so,ss?,ss?}", "tokens", tokens, "new_token", new_token, "notice",
                             notice);
    if (failed) {
        json_object_set_new(view, "error", json_string(failed->message));
        web_retry_after(ctx, failed);
        if (failed->field[0])
            json_object_set_new(view, "error_field", json_string(failed->field));
    }
    ctx->no_store = true;
    web_view(ctx, status, "account", view);
}

void web_h_account(web_ctx *ctx)
{
    account_page(ctx, 200, NULL, NULL);
}

void web_h_token_create(web_ctx *ctx)
{
    pf_err err = {0};
    const char *name;
    char token[WF_API_TOKEN_LEN];
    if (!web_input_only(ctx, token_fields, &err) ||
        !web_input_text(ctx, "name", 100, &name, &err) ||
        wf_api_token_create(&ctx->env, &ctx->session.actor, ctx->session.actor.label, name, token,
                            &err)) {
        account_page(ctx, web_status_for(&err), NULL, &err);
        return;
    }
    /* shown once, on this page only; never stored in clear */
    account_page(ctx, 201, token, NULL);
}

void web_h_token_revoke(web_ctx *ctx)
{
    long long id;
    pf_err err = {0};
    if (!web_param_id(ctx, 0, &id))
        return;
    if (!web_input_only(ctx, no_fields, &err) ||
        wf_api_token_revoke(&ctx->env, &ctx->session.actor, id, &err)) {
        account_page(ctx, web_status_for(&err), NULL, &err);
        return;
    }
    web_redirect(ctx, "/account");
}

/* POST /account/password: current password, the new one twice. Ends the
 * user's other sessions; this browser stays logged in. */
void web_h_password_change(web_ctx *ctx)
{
    pf_err err = {0};
    int ended = 0;
    if (!web_input_only(ctx, password_fields, &err) ||
        wf_password_change(&ctx->env, &ctx->session.actor, ctx->cookie_session,
                           ctx->client_addr, web_input_str(ctx, "current_password"),
                           web_input_str(ctx, "new_password"),
                           web_input_str(ctx, "confirm_password"), &ended, &err)) {
        account_page(ctx, web_status_for(&err), NULL, &err);
        return;
    }
    char notice[160];
    snprintf(notice, sizeof notice,
             "Your password was changed. %d other session%s ended; this one stays logged in.",
             ended, ended == 1 ? " was" : "s were");
    account_page_with(ctx, 200, NULL, NULL, notice);
}

void web_h_me(web_ctx *ctx)
{
    const wf_actor *a = &ctx->session.actor;
    /* API only (the route is WEB_API): no template */
    web_view(ctx, 200, NULL,
             json_pack("{ss,ss,sI}", "email", a->label, "role", wf_role_name(a->role),
                       "network_id", (json_int_t)a->network_id));
}
