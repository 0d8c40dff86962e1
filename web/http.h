/* web_ctx: one HTTP request as the handlers see it, and the helpers they
 * answer with. Handlers never touch libmicrohttpd: server.c fills the
 * context, calls the handler, and sends what the handler chose.
 *
 * A handler serves both a page and the JSON API when it can: it builds one
 * view model (a jansson object) and calls web_view(); for the API that
 * object is the JSON body, for a page it feeds the template (with the
 * layout's data under "_page"). */
#ifndef WEB_HTTP_H
#define WEB_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/pf_err.h"
#include "web/read_cache.h"
#include "web/template.h"
#include "workflow/auth.h"
#include "workflow/context.h"
#include "workflow/keys.h"

#define WEB_MAX_BODY (64 * 1024)
#define WEB_MAX_PARAMS 4

typedef struct web_ctx web_ctx;
typedef void (*web_handler)(web_ctx *ctx);

enum {
    WEB_PUBLIC = 1 << 0,   /* no login needed */
    WEB_PAGE = 1 << 1,     /* HTML for a browser: session cookie, CSRF on POST */
    WEB_API = 1 << 2,      /* JSON: Authorization: Bearer */
    WEB_OPERATOR = 1 << 3, /* operators only */
    WEB_JSON_LIST = 1 << 4, /* the JSON body may be a list (ctx->input_list) */
};

typedef struct {
    const char *method;
    const char *pattern; /* "/requests/{id}/approve": {x} matches one segment */
    web_handler fn;
    unsigned flags;
    const char *name;    /* for metrics and logs: "request_show" */
} web_route;

struct web_ctx {
    /* the request */
    const char *method;
    const char *path;
    const char *params[WEB_MAX_PARAMS]; /* {x} segments in order (owned) */
    int nparams;
    json_t *query;  /* ?a=b as {"a": "b"} */
    json_t *input;  /* form fields or JSON body as an object; NULL if none */
    bool input_malformed; /* a body that was not valid JSON / form */
    json_t *input_list;   /* a JSON list body, on WEB_JSON_LIST routes only */
    const char *client_addr;
    const char *user_agent;
    const char *cookie_session;   /* pf_session cookie, or NULL */
    const char *cookie_login_csrf;
    const char *authorization;    /* Authorization header, or NULL */
    bool is_api;
    bool https;                   /* base URL is https: cookies get Secure */
    const web_route *route;

    /* who asks (set by the server before the handler runs) */
    bool authenticated;
    bool token_fresh;   /* look the API token up, do not use a remembered one */
    wf_session session; /* actor + csrf; for the API csrf is empty */
    wf_env env;         /* database of this thread, configuration */
    const web_templates *templates;
    wf_keyring *keys;   /* approval-link keys, shared; NULL when not configured */
    web_read_cache *read_cache; /* kept API answers (web/read_cache.h), shared; may be NULL */

    /* the answer (set through the helpers below) */
    int status;
    char *body;                 /* malloc'd */
    size_t body_len;
    const char *content_type;
    char location[512];         /* redirect target, or "" */
    char set_cookie[3][300];
    int n_cookies;
    bool no_store;              /* Cache-Control: no-store */
    const char *referrer_policy;/* overrides the default */
    char extra_header_name[64], extra_header_value[256];
    char db_error[400];      /* why there is no database connection (env.db NULL) */
    /* the Peering API (h_peering_api.c): its public path prefix and the
     * exchange's PeeringDB ix id (NULL: none); borrowed from the server */
    const char *peering_api_base;
    const char *peeringdb_ix_id;
};

/* Path parameter i as a positive id; answers 404 and returns false when
 * it is not one. */
bool web_param_id(web_ctx *ctx, int i, long long *id);

/* Input fields: strings in forms, strings or numbers in JSON. */
const char *web_input_str(web_ctx *ctx, const char *name);
/* An optional integer field: true and *out (0 when absent) when fine;
 * false with err (422, field = name) when not a whole number in range. */
bool web_input_int(web_ctx *ctx, const char *name, long long min, long long max, long long *out,
                   pf_err *err);

/* An optional yes/no field: JSON true/false, or in a form "true"/"on"/"1"
 * and "false"/"off"/"0" (a checkbox sends "on"). *out = dflt when absent;
 * false with err (422) for anything else. */
bool web_input_bool(web_ctx *ctx, const char *name, bool dflt, bool *out, pf_err *err);

/* An optional text field: true and *out (NULL when absent); false with
 * err (422) when present but not a string or longer than max bytes. */
bool web_input_text(web_ctx *ctx, const char *name, size_t max, const char **out, pf_err *err);

/* Strict input: true when every field of ctx->input is one of fields (a
 * NULL-terminated list the handler declares; a page form's "csrf" is
 * always accepted). false with err (422 unknown_field, field = the first
 * field not in the list, the message naming the accepted ones) otherwise.
 * Handlers call it before they act, so a typo ("peer_vlan_id") or a field
 * of another action ({"port": ...} on a reject) changes nothing instead of
 * being silently dropped. No input is fine. */
bool web_input_only(web_ctx *ctx, const char *const *fields, pf_err *err);

/* Answers. Each takes ownership of what it is given (view is stolen).
 * web_view's template_name may be NULL for routes that are API only. */
void web_view(web_ctx *ctx, int status, const char *template_name, json_t *view);
void web_error(web_ctx *ctx, const pf_err *err);
/* Sends Retry-After when err says when to try again (web_error does; a
 * handler that answers a refusal with its own page calls it). */
void web_retry_after(web_ctx *ctx, const pf_err *err);
void web_redirect(web_ctx *ctx, const char *location);
void web_text(web_ctx *ctx, int status, const char *content_type, char *body, size_t len);
void web_add_cookie(web_ctx *ctx, const char *name, const char *value, int max_age);

/* The HTTP status for an error (malformed input -> 400, validation -> 422, ...). */
int web_status_for(const pf_err *err);

/* Handlers (web/h_*.c). */
void web_h_login_form(web_ctx *ctx);
void web_h_login(web_ctx *ctx);
void web_h_logout(web_ctx *ctx);
void web_h_dashboard(web_ctx *ctx);
void web_h_request_list(web_ctx *ctx);
void web_h_request_list_csv(web_ctx *ctx);
void web_h_request_new(web_ctx *ctx);
void web_h_request_create(web_ctx *ctx);
void web_h_request_show(web_ctx *ctx);
void web_h_request_decide(web_ctx *ctx);
void web_h_networks(web_ctx *ctx);
void web_h_network_show(web_ctx *ctx);   /* h_bgp.c: routing facts */
void web_h_network_update(web_ctx *ctx);
void web_h_bgp_config(web_ctx *ctx);     /* h_bgp.c */
void web_h_change_open(web_ctx *ctx);    /* h_changes.c: changing a live circuit */
void web_h_change_decide(web_ctx *ctx);
/* The request page (or its JSON) with failed's message shown, status as
 * given: what a refused form on that page answers (h_requests.c). */
void web_request_page(web_ctx *ctx, long long id, int status, const pf_err *failed);
void web_h_reports(web_ctx *ctx);
void web_h_report(web_ctx *ctx);
void web_h_fabric(web_ctx *ctx);
void web_h_account(web_ctx *ctx);
void web_h_token_create(web_ctx *ctx);
void web_h_token_revoke(web_ctx *ctx);
void web_h_password_change(web_ctx *ctx);
void web_h_me(web_ctx *ctx);
void web_h_link_page(web_ctx *ctx);
void web_h_link_decide(web_ctx *ctx);
void web_h_traffic(web_ctx *ctx);        /* h_traffic.c */
void web_h_traffic_csv(web_ctx *ctx);
/* The request page's path diagram and traffic graph (view["traffic"]),
 * and the fabric page's topology (view["topology_svg"]); pages only. */
void web_traffic_decorate(web_ctx *ctx, long long id, json_t *view);
void web_topology_decorate(web_ctx *ctx, json_t *view);
void web_h_healthz(web_ctx *ctx);
void web_h_metrics(web_ctx *ctx);
void web_h_static(web_ctx *ctx);
/* h_peering_api.c: the IETF Peering API (docs/peering-api.md) */
void web_h_papi_locations(web_ctx *ctx);
void web_h_papi_sessions(web_ctx *ctx);
void web_h_papi_sessions_add(web_ctx *ctx);
void web_h_papi_session(web_ctx *ctx);
void web_h_papi_session_delete(web_ctx *ctx);
void web_h_papi_openapi(web_ctx *ctx);
/* h_peering_api.c: a network's PeeringDB pins (docs/peeringdb.md) */
void web_h_peeringdb_pins(web_ctx *ctx);
void web_h_peeringdb_pins_set(web_ctx *ctx);

/* The Peering API's path in the route table; a server configured with
 * another prefix maps it onto this one (server.c). */
#define WEB_PAPI_PREFIX "/peering-api/v0.1"

#endif
