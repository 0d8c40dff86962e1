/* web_routes: the route table and its matcher. One line per resource;
 * pages and the JSON API share handlers where they serve the same thing.
 * Find a behaviour by its URL here, then read the handler. */
#include "web/routes.h"

#include <stdlib.h>
#include <string.h>

static const web_route routes[] = {
    /* operations */
    {"GET", "/healthz", web_h_healthz, WEB_PUBLIC, "healthz"},
    /* the fabric's and the queues' figures are the exchange's: scrape with
     * an operator's API token (docs/operations.md) */
    {"GET", "/metrics", web_h_metrics, WEB_API | WEB_OPERATOR, "metrics"},
    {"GET", "/static/{file}", web_h_static, WEB_PUBLIC, "static"},

    /* accounts */
    {"GET", "/login", web_h_login_form, WEB_PUBLIC | WEB_PAGE, "login_form"},
    {"POST", "/login", web_h_login, WEB_PUBLIC | WEB_PAGE, "login"},
    {"POST", "/logout", web_h_logout, WEB_PAGE, "logout"},
    {"GET", "/account", web_h_account, WEB_PAGE, "account"},
    {"POST", "/account/tokens", web_h_token_create, WEB_PAGE, "token_create"},
    {"POST", "/account/tokens/{id}/revoke", web_h_token_revoke, WEB_PAGE, "token_revoke"},
    {"POST", "/account/password", web_h_password_change, WEB_PAGE, "password_change"},

    /* approval links from email: the token is the credential (no session,
     * no CSRF token needed: a forged POST would have to know it) */
    {"GET", "/t/{token}", web_h_link_page, WEB_PUBLIC | WEB_PAGE, "link_page"},
    {"POST", "/t/{token}", web_h_link_decide, WEB_PUBLIC | WEB_PAGE, "link_decide"},

    /* pages */
    {"GET", "/", web_h_dashboard, WEB_PAGE, "dashboard"},
    {"GET", "/requests", web_h_request_list, WEB_PAGE, "request_list"},
    {"GET", "/requests.csv", web_h_request_list_csv, WEB_PAGE, "request_list_csv"},
    {"GET", "/requests/new", web_h_request_new, WEB_PAGE, "request_new"},
    {"POST", "/requests", web_h_request_create, WEB_PAGE, "request_create"},
    {"GET", "/requests/{id}", web_h_request_show, WEB_PAGE, "request_show"},
    {"POST", "/requests/{id}/modify", web_h_change_open, WEB_PAGE, "change_open"},
    {"POST", "/requests/{id}/changes/{change}/{action}", web_h_change_decide, WEB_PAGE,
     "change_decide"},
    {"POST", "/requests/{id}/{action}", web_h_request_decide, WEB_PAGE, "request_decide"},
    {"GET", "/requests/{id}/bgp-config", web_h_bgp_config, WEB_PAGE, "bgp_config"},
    {"GET", "/requests/{id}/traffic.csv", web_h_traffic_csv, WEB_PAGE, "traffic_csv"},
    {"GET", "/networks", web_h_networks, WEB_PAGE, "networks"},
    {"GET", "/networks/{asn}", web_h_network_show, WEB_PAGE, "network_show"},
    {"POST", "/networks/{asn}", web_h_network_update, WEB_PAGE, "network_update"},
    {"GET", "/reports", web_h_reports, WEB_PAGE, "reports"},
    {"GET", "/reports/{name}", web_h_report, WEB_PAGE, "report"},
    {"GET", "/fabric", web_h_fabric, WEB_PAGE | WEB_OPERATOR, "fabric"},

    /* JSON API */
    {"GET", "/api/v1/me", web_h_me, WEB_API, "api_me"},
    {"GET", "/api/v1/dashboard", web_h_dashboard, WEB_API, "api_dashboard"},
    {"GET", "/api/v1/requests", web_h_request_list, WEB_API, "api_request_list"},
    {"GET", "/api/v1/requests.csv", web_h_request_list_csv, WEB_API, "api_request_list_csv"},
    {"POST", "/api/v1/requests", web_h_request_create, WEB_API, "api_request_create"},
    {"GET", "/api/v1/requests/{id}", web_h_request_show, WEB_API, "api_request_show"},
    {"POST", "/api/v1/requests/{id}/modify", web_h_change_open, WEB_API, "api_change_open"},
    {"POST", "/api/v1/requests/{id}/changes/{change}/{action}", web_h_change_decide, WEB_API,
     "api_change_decide"},
    {"POST", "/api/v1/requests/{id}/{action}", web_h_request_decide, WEB_API,
     "api_request_decide"},
    {"GET", "/api/v1/requests/{id}/bgp-config", web_h_bgp_config, WEB_API, "api_bgp_config"},
    {"GET", "/api/v1/requests/{id}/traffic", web_h_traffic, WEB_API, "api_traffic"},
    {"GET", "/api/v1/requests/{id}/traffic.csv", web_h_traffic_csv, WEB_API, "api_traffic_csv"},
    {"GET", "/api/v1/networks", web_h_networks, WEB_API, "api_networks"},
    {"GET", "/api/v1/networks/{asn}", web_h_network_show, WEB_API, "api_network_show"},
    {"POST", "/api/v1/networks/{asn}", web_h_network_update, WEB_API, "api_network_update"},
    {"GET", "/api/v1/reports", web_h_reports, WEB_API, "api_reports"},
    {"GET", "/api/v1/reports/{name}", web_h_report, WEB_API, "api_report"},
    {"GET", "/api/v1/fabric", web_h_fabric, WEB_API | WEB_OPERATOR, "api_fabric"},
    {"GET", "/api/v1/networks/{asn}/peeringdb-pins", web_h_peeringdb_pins, WEB_API,
     "api_peeringdb_pins"},
    {"POST", "/api/v1/networks/{asn}/peeringdb-pins", web_h_peeringdb_pins_set, WEB_API,
     "api_peeringdb_pins_set"},

    /* the IETF Peering API (docs/peering-api.md); the prefix is
     * PEERFLOW_PEERING_API_BASE, mapped onto this one by the server */
    {"GET", WEB_PAPI_PREFIX "/openapi.json", web_h_papi_openapi, WEB_PUBLIC, "papi_openapi"},
    {"GET", WEB_PAPI_PREFIX "/locations", web_h_papi_locations, WEB_API, "papi_locations"},
    {"GET", WEB_PAPI_PREFIX "/sessions", web_h_papi_sessions, WEB_API, "papi_sessions"},
    {"POST", WEB_PAPI_PREFIX "/sessions", web_h_papi_sessions_add, WEB_API | WEB_JSON_LIST,
     "papi_sessions_add"},
    {"GET", WEB_PAPI_PREFIX "/sessions/{id}", web_h_papi_session, WEB_API, "papi_session"},
    {"DELETE", WEB_PAPI_PREFIX "/sessions/{id}", web_h_papi_session_delete, WEB_API,
     "papi_session_delete"},
};

enum { NROUTES = sizeof routes / sizeof routes[0] };

size_t web_route_count(void)
{
    return NROUTES;
}

size_t web_route_index(const web_route *r)
{
    return r ? (size_t)(r - routes) : NROUTES;
}

const web_route *web_route_at(size_t i)
{
    return i < NROUTES ? &routes[i] : NULL;
}

/* Matches path against pattern; fills params (malloc'd) on success. */
static bool match(const char *pattern, const char *path, const char **params, int *n)
{
    const char *p = pattern, *s = path;
    *n = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            size_t len = se ? (size_t)(se - s) : strlen(s);
            if (pe == NULL || len == 0 || *n == WEB_MAX_PARAMS)
                return false;
            char *v = strndup(s, len);
            if (v == NULL)
                return false;
            params[(*n)++] = v;
            p = pe + 1;
            s += len;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            return false;
        }
    }
    return *p == '\0' && *s == '\0';
}

static void free_params(const char **params, int n)
{
    for (int i = 0; i < n; i++)
        free((void *)params[i]);
}

const web_route *web_route_find(const char *method, const char *path, const char **params,
                                int *nparams, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < NROUTES; i++) {
        int n;
        const char *tmp[WEB_MAX_PARAMS];
        if (!match(routes[i].pattern, path, tmp, &n)) {
            free_params(tmp, n);
            continue;
        }
        *path_known = true;
        bool head = strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0;
        if (strcmp(routes[i].method, method) != 0 && !head) {
            free_params(tmp, n);
            continue;
        }
        memcpy(params, tmp, sizeof(const char *) * (size_t)n);
        *nparams = n;
        return &routes[i];
    }
    *nparams = 0;
    return NULL;
}
