/* web_server: see server.h. */
#include "web/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/pf_log.h"
#include "db/db.h"
#include "web/form.h"
#include "web/http.h"
#include "web/metrics.h"
#include "web/proxy.h"
#include "web/routes.h"

#ifndef PF_WEB_DIR
#define PF_WEB_DIR "web"
#endif

struct web_server {
    struct MHD_Daemon *daemon;
    web_config cfg;
    char base_url[512];
    char mail_domain[128];
    char papi_base[256];    /* the Peering API's prefix, no trailing '/' */
    web_templates *templates;
    wf_keyring *keys;       /* NULL when no key directory is configured */
    web_read_cache *read_cache; /* owned; the API's kept request answers */
    web_proxies proxies;    /* PEERFLOW_TRUSTED_PROXIES */
    pthread_key_t db_key;   /* this thread's db_conn */
    pthread_mutex_t lock;   /* guards conns */
    db_conn **conns;        /* every thread's connection, closed at stop */
    size_t nconns, capconns;
    int port;
    volatile sig_atomic_t draining; /* set by web_server_stop: answers close */
};

/* The static directory is process-wide configuration: set once at start. */
static char static_dir[1024];

/* How long web_server_stop waits for open connections to finish; below
 * systemd's stop timeout (90 s) and MHD's idle timeout (15 s). */
#define WEB_DRAIN_SECONDS 10
/* Kept API answers: 4,096 readers x requests, at most 16 KiB each (about
 * 1.5 KiB for a request with a short history: ~6 MiB when full) */
#define WEB_READ_CACHE_SLOTS 4096

const char *web_server_static_dir(void)
{
    return static_dir;
}

/* Per-connection state across the calls libmicrohttpd makes. */
struct conn_state {
    struct timespec start;
    char *body;
    size_t len;
    bool too_big;
};

static db_conn *thread_db(web_server *s, pf_err *err)
{
    db_conn *c = pthread_getspecific(s->db_key);
    if (c != NULL)
        return c;
    c = db_connect_as(s->cfg.database_url, DB_ROLE_APP, err);
    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&s->lock);
    if (s->nconns == s->capconns) {
        size_t cap = s->capconns ? s->capconns * 2 : 16;
        db_conn **v = realloc(s->conns, cap * sizeof *v);
        if (v != NULL) {
            s->conns = v;
            s->capconns = cap;
        }
    }
    if (s->nconns < s->capconns)
        s->conns[s->nconns++] = c;
    pthread_mutex_unlock(&s->lock);
    pthread_setspecific(s->db_key, c);
    return c;
}

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    if (key && value)
        json_object_set_new(cls, key, json_string(value));
    return MHD_YES;
}

/* Joins every X-Forwarded-For header, in order, with commas. */
struct xff_buf {
    char text[1024];
    bool overflow;
};

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct xff_buf *b = cls;
    if (key == NULL || value == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
        return MHD_YES;
    size_t have = strlen(b->text);
    if (have + strlen(value) + 2 > sizeof b->text) {
        b->overflow = true;
        return MHD_YES;
    }
    snprintf(b->text + have, sizeof b->text - have, "%s%s", have ? "," : "", value);
    return MHD_YES;
}

/* The client's address: the TCP peer, or - when the peer is a trusted
 * proxy - what X-Forwarded-For says (web/proxy.h). */
static void client_addr(const web_server *s, struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char peer[WEB_ADDR_LEN] = "unknown";
    if (ci != NULL && ci->client_addr != NULL) {
        if (ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, peer,
                      sizeof peer);
        else if (ci->client_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr,
                      peer, sizeof peer);
    }
    struct xff_buf xff = {{0}, false};
    if (s->proxies.n > 0)
        MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_xff, &xff);
    /* an over-long header is not trusted at all: the peer it is */
    web_client_address(&s->proxies, peer, xff.text[0] && !xff.overflow ? xff.text : NULL, out,
                       n);
}

static void parse_body(web_ctx *ctx, struct MHD_Connection *conn, struct conn_state *cs)
{
    if (cs->len == 0)
        return;
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (type == NULL)
        type = "";
    if (strncmp(type, "application/json", 16) == 0) {
        json_error_t je;
        ctx->input = json_loadb(cs->body, cs->len, JSON_REJECT_DUPLICATES, &je);
        if (json_is_array(ctx->input) && (ctx->route->flags & WEB_JSON_LIST)) {
            ctx->input_list = ctx->input; /* the Peering API's list of sessions */
            ctx->input = NULL;
            return;
        }
        if (ctx->input == NULL || !json_is_object(ctx->input)) {
            json_decref(ctx->input);
            ctx->input = NULL;
            ctx->input_malformed = true;
        }
    } else if (strncmp(type, "application/x-www-form-urlencoded", 33) == 0) {
        ctx->input = web_form_parse(cs->body, cs->len);
        ctx->input_malformed = ctx->input == NULL;
    } else {
        ctx->input_malformed = true;
    }
}

/* Sets ctx->session from the cookie or the bearer token as the route asks.
 * Returns false when the handler must not run (the answer is set). */
static bool authenticate(web_ctx *ctx)
{
    pf_err err = {0};
    const web_route *r = ctx->route;
    if (r->flags & WEB_API) {
        const char *h = ctx->authorization;
        if (h == NULL || strncmp(h, "Bearer ", 7) != 0) {
            pf_fail(&err, PF_EAUTH, "unauthenticated", NULL,
                    "send 'Authorization: Bearer pft_...' with an API token of yours");
            web_error(ctx, &err);
            return false;
        }
        /* a read may use what this thread remembers of the token: the
         * database checks it in the read's own round trip (check_token).
         * So may a decision: its first database work is the actor's own
         * transaction, where the check rides with BEGIN. Other writes look
         * the token up first: not all of them start with their actor's
         * transaction. */
        bool may_remember = strcmp(ctx->method, "GET") == 0 || r->fn == web_h_request_decide;
        pf_kind k = ctx->token_fresh || !may_remember
                        ? wf_api_actor(&ctx->env, h + 7, &ctx->session.actor, &err)
                        : wf_api_actor_remembered(&ctx->env, h + 7, &ctx->session.actor, &err);
        if (k != PF_OK) {
            web_error(ctx, &err);
            return false;
        }
        ctx->authenticated = true;
    } else if (ctx->cookie_session != NULL) {
        if (wf_session_resume(&ctx->env, ctx->cookie_session, &ctx->session, &err) == PF_OK)
            ctx->authenticated = true;
        else if (err.kind != PF_EAUTH) {
            web_error(ctx, &err);
            return false;
        }
    }
    if (!ctx->authenticated && !(r->flags & WEB_PUBLIC)) {
        if (strcmp(ctx->method, "GET") == 0) {
            web_redirect(ctx, "/login");
        } else {
            pf_fail(&err, PF_EAUTH, "session_expired", NULL,
                    "your session has expired or you logged out: log in again");
            web_error(ctx, &err);
        }
        return false;
    }
    if ((r->flags & WEB_OPERATOR) && ctx->session.actor.role != WF_ROLE_OPERATOR) {
        pf_fail(&err, PF_EFORBIDDEN, "operators_only", NULL, "only exchange operators may see this");
        web_error(ctx, &err);
        return false;
    }
    /* CSRF: every form POST of a logged-in page carries the session's token. */
    if ((r->flags & WEB_PAGE) && !(r->flags & WEB_PUBLIC) && strcmp(ctx->method, "POST") == 0) {
        const char *sent = web_input_str(ctx, "csrf");
        size_t want = strlen(ctx->session.csrf);
        if (sent == NULL || strlen(sent) != want || want == 0 ||
            sodium_memcmp(sent, ctx->session.csrf, want) != 0) {
            pf_fail(&err, PF_EFORBIDDEN, "csrf_failed", NULL,
                    "this form is stale or came from another site: reload the page and submit "
                    "again");
            web_error(ctx, &err);
            return false;
        }
    }
    return true;
}

/* Forgets the answer a handler set, for the route to run again. */
static void reset_answer(web_ctx *ctx)
{
    free(ctx->body);
    ctx->body = NULL;
    ctx->body_len = 0;
    ctx->status = 500;
    ctx->content_type = NULL;
    ctx->location[0] = '\0';
    ctx->n_cookies = 0;
    ctx->no_store = false;
    ctx->referrer_policy = NULL;
    ctx->extra_header_name[0] = ctx->extra_header_value[0] = '\0';
    ctx->authenticated = false;
    memset(&ctx->session, 0, sizeof ctx->session);
}

/* Runs the route for an authenticated caller. A remembered API token
 * (a GET's) has been checked by the database in the round trip of the
 * handler's work; when the check refused it, or no work checked it, the
 * answer does not stand until the token is looked up again: unknown,
 * revoked or of a disabled user, the answer is that error (401); still
 * good (its user changed network or role since), the route runs again
 * as the user it is now. A refused check let nothing of the work run. */
static void run_route(web_ctx *ctx)
{
    if (!authenticate(ctx))
        return;
    if (ctx->env.db)
        db_token_state_take(ctx->env.db);
    ctx->route->fn(ctx);
    if (!ctx->session.actor.check_token || ctx->env.db == NULL)
        return;
    db_token_state st = db_token_state_take(ctx->env.db);
    if (st == DB_TOKEN_CHECKED)
        return;
    wf_api_forget(ctx->authorization + 7);
    ctx->token_fresh = true;
    if (st == DB_TOKEN_UNCHECKED) {
        wf_actor was = ctx->session.actor, now;
        pf_err err = {0};
        if (wf_api_actor(&ctx->env, ctx->authorization + 7, &now, &err) == PF_OK &&
            now.user_id == was.user_id && now.network_id == was.network_id &&
            now.role == was.role)
            return;
    }
    reset_answer(ctx);
    if (authenticate(ctx))
        ctx->route->fn(ctx);
}

static void add_security_headers(struct MHD_Response *r, const web_ctx *ctx)
{
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy",
                            ctx->referrer_policy ? ctx->referrer_policy : "same-origin");
    if (ctx->no_store || ctx->authenticated)
        MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result send_answer(const web_server *s, struct MHD_Connection *conn,
                                   web_ctx *ctx)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        ctx->body_len, ctx->body ? ctx->body : (void *)"", MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        return MHD_NO;
    ctx->body = NULL; /* owned by the response now */
    if (ctx->content_type)
        MHD_add_response_header(r, "Content-Type", ctx->content_type);
    if (ctx->location[0])
        MHD_add_response_header(r, "Location", ctx->location);
    for (int i = 0; i < ctx->n_cookies; i++)
        MHD_add_response_header(r, "Set-Cookie", ctx->set_cookie[i]);
    if (ctx->extra_header_name[0])
        MHD_add_response_header(r, ctx->extra_header_name, ctx->extra_header_value);
    add_security_headers(r, ctx);
    /* draining: the client (or the load balancer) takes its next request
     * elsewhere instead of sending it on a connection about to close */
    if (s->draining)
        MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)ctx->status, r);
    MHD_destroy_response(r);
    return ret;
}

static double elapsed(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The Peering API under its configured prefix (PEERFLOW_PEERING_API_BASE)
 * is the route table's WEB_PAPI_PREFIX; with another prefix configured,
 * the default one is not served (one public address per API). */
static const char *papi_path(const web_server *s, const char *url, char *buf, size_t n)
{
    size_t bl = strlen(s->papi_base), dl = strlen(WEB_PAPI_PREFIX);
    if (strcmp(s->papi_base, WEB_PAPI_PREFIX) == 0)
        return url;
    if (strncmp(url, s->papi_base, bl) == 0 && (url[bl] == '/' || url[bl] == '\0') &&
        (size_t)snprintf(buf, n, "%s%s", WEB_PAPI_PREFIX, url + bl) < n)
        return buf;
    if (strncmp(url, WEB_PAPI_PREFIX, dl) == 0 && (url[dl] == '/' || url[dl] == '\0'))
        return "/peering-api-not-here"; /* answers 404 */
    return url;
}

static enum MHD_Result dispatch(web_server *s, struct MHD_Connection *conn, const char *url,
                                const char *method, struct conn_state *cs)
{
    web_ctx ctx = {
        .method = method, .path = url, .templates = s->templates, .keys = s->keys,
        .read_cache = s->read_cache, .status = 500};
    char addr[64], sess[128], login_csrf[128];
    client_addr(s, conn, addr, sizeof addr);
    ctx.client_addr = addr;
    ctx.user_agent = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
    ctx.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *cookies = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie");
    if (cookies && web_cookie_get(cookies, "pf_session", sess, sizeof sess))
        ctx.cookie_session = sess;
    if (cookies && web_cookie_get(cookies, "pf_login_csrf", login_csrf, sizeof login_csrf))
        ctx.cookie_login_csrf = login_csrf;
    ctx.https = strncmp(s->base_url, "https:", 6) == 0;
    ctx.env.base_url = s->base_url;
    ctx.env.mail_domain = s->mail_domain;
    ctx.env.request_ttl_seconds = WF_DEFAULT_TTL_SECONDS;
    ctx.env.max_open_requests = s->cfg.max_open_requests;
    ctx.env.max_submissions_per_hour = s->cfg.max_submissions_per_hour;
    ctx.env.key_dir = s->cfg.key_dir;
    ctx.query = json_object();
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect, ctx.query);

    ctx.peering_api_base = s->papi_base;
    ctx.peeringdb_ix_id = s->cfg.peeringdb_ix_id;
    char papi_url[1024];
    url = papi_path(s, url, papi_url, sizeof papi_url);
    bool known = false;
    ctx.route = web_route_find(method, url, ctx.params, &ctx.nparams, &known);
    size_t route_index = web_route_index(ctx.route);
    ctx.is_api = strncmp(url, "/api/", 5) == 0 ||
                 strncmp(url, WEB_PAPI_PREFIX "/", sizeof WEB_PAPI_PREFIX) == 0;
    pf_err err = {0};
    if (ctx.route == NULL) {
        if (known)
            pf_fail(&err, PF_EINVALID, "method_not_allowed", NULL, "%s is not allowed on %s",
                    method, ctx.path);
        else
            pf_fail(&err, PF_ENOTFOUND, "not_found", NULL, "there is nothing at %s", ctx.path);
        web_error(&ctx, &err);
        if (known)
            ctx.status = 405;
    } else {
        ctx.is_api = (ctx.route->flags & WEB_API) != 0;
        parse_body(&ctx, conn, cs);
        ctx.env.db = thread_db(s, &err);
        if (ctx.env.db == NULL)
            snprintf(ctx.db_error, sizeof ctx.db_error, "%s", err.message);
        if (cs->too_big) {
            pf_fail(&err, PF_EINVALID, "body_too_large", NULL,
                    "the request body is larger than %d bytes", WEB_MAX_BODY);
            web_error(&ctx, &err);
            ctx.status = 413;
        } else if (ctx.env.db == NULL && ctx.route->fn != web_h_static &&
                   ctx.route->fn != web_h_healthz) {
            web_error(&ctx, &err); /* 503 with Retry-After (db_connect) */
        } else if (ctx.route->fn == web_h_static || ctx.route->fn == web_h_healthz) {
            ctx.route->fn(&ctx);
        } else {
            run_route(&ctx);
        }
    }
    enum MHD_Result ret = send_answer(s, conn, &ctx);
    double secs = elapsed(&cs->start);
    web_metrics_record(route_index, ctx.status, secs);
    if (s->cfg.access_log) {
        /* never a secret in the log: /t/ tokens redacted, no query string */
        char logged[512];
        web_log_path(ctx.path, logged, sizeof logged);
        pf_log_info("web", "%s %s %s %d %.1fms %s", addr, method, logged, ctx.status, secs * 1000,
                    ctx.authenticated ? ctx.session.actor.label : "-");
    }
    free(ctx.body);
    json_decref(ctx.query);
    json_decref(ctx.input);
    json_decref(ctx.input_list);
    for (int i = 0; i < ctx.nparams; i++)
        free((void *)ctx.params[i]);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls)
{
    (void)version;
    web_server *s = cls;
    struct conn_state *cs = *req_cls;
    if (cs == NULL) { /* first call: headers only */
        cs = calloc(1, sizeof *cs);
        if (cs == NULL)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &cs->start);
        *req_cls = cs;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (!cs->too_big && cs->len + *upload_size <= WEB_MAX_BODY) {
            char *b = realloc(cs->body, cs->len + *upload_size + 1);
            if (b == NULL)
                return MHD_NO;
            memcpy(b + cs->len, upload, *upload_size);
            cs->body = b;
            cs->len += *upload_size;
            cs->body[cs->len] = '\0';
        } else {
            cs->too_big = true; /* keep reading to answer 413, store nothing */
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(s, conn, url, method, cs);
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct conn_state *cs = *req_cls;
    if (cs) {
        free(cs->body);
        free(cs);
    }
    *req_cls = NULL;
}

static bool parse_listen(const char *listen, struct sockaddr_in *sa, pf_err *err)
{
    char host[64];
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    if (colon == NULL || (size_t)(colon - listen) >= sizeof host) {
        pf_fail(err, PF_EINVALID, "bad_listen", "listen",
                "listen address must be ADDR:PORT, like 127.0.0.1:8080");
        return false;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (*end != '\0' || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        pf_fail(err, PF_EINVALID, "bad_listen", "listen",
                "listen address must be IPv4ADDR:PORT, like 127.0.0.1:8080, not '%s'", listen);
        return false;
    }
    return true;
}

web_server *web_server_start(const web_config *cfg, pf_err *err)
{
    struct sockaddr_in sa;
    if (!parse_listen(cfg->listen, &sa, err))
        return NULL;
    web_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        return NULL;
    }
    if (web_proxies_parse(cfg->trusted_proxies, &s->proxies, err) != PF_OK) {
        free(s);
        return NULL;
    }
    s->cfg = *cfg;
    snprintf(s->base_url, sizeof s->base_url, "%s", cfg->base_url ? cfg->base_url : "");
    size_t n = strlen(s->base_url);
    while (n > 0 && s->base_url[n - 1] == '/')
        s->base_url[--n] = '\0';
    snprintf(s->papi_base, sizeof s->papi_base, "%s",
             cfg->peering_api_base && cfg->peering_api_base[0] ? cfg->peering_api_base
                                                                : WEB_PAPI_PREFIX);
    for (size_t pl = strlen(s->papi_base); pl > 1 && s->papi_base[pl - 1] == '/'; pl--)
        s->papi_base[pl - 1] = '\0';
    snprintf(s->mail_domain, sizeof s->mail_domain, "%s",
             cfg->mail_domain ? cfg->mail_domain : "localhost");
    const char *tdir = cfg->templates_dir ? cfg->templates_dir : PF_WEB_DIR "/templates";
    snprintf(static_dir, sizeof static_dir, "%s",
             cfg->static_dir ? cfg->static_dir : PF_WEB_DIR "/static");
    s->templates = web_templates_load(tdir, err);
    if (s->templates == NULL) {
        free(s);
        return NULL;
    }
    if (cfg->key_dir != NULL && wf_keyring_open_verify(cfg->key_dir, &s->keys, err) != PF_OK) {
        web_templates_free(s->templates);
        free(s);
        return NULL;
    }
    /* Fail early when the database is unreachable, not on the first request. */
    db_conn *probe = db_connect_as(cfg->database_url, DB_ROLE_APP, err);
    if (probe == NULL) {
        wf_keyring_free(s->keys);
        web_templates_free(s->templates);
        free(s);
        return NULL;
    }
    db_close(probe);
    pthread_key_create(&s->db_key, NULL);
    pthread_mutex_init(&s->lock, NULL);
    unsigned threads = cfg->threads > 0 ? (unsigned)cfg->threads : 4;
    unsigned timeout = cfg->timeout_seconds > 0 ? (unsigned)cfg->timeout_seconds : 15;
    /* NULL (out of memory) only means no answer is kept */
    s->read_cache = web_read_cache_new(WEB_READ_CACHE_SLOTS);
    s->daemon = MHD_start_daemon(
        /* ITC: lets web_server_stop() quiesce (stop accepting) first */
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0,
        NULL, NULL,
        handle, s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(32 * 1024), MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (s->daemon == NULL) {
        pf_fail(err, PF_EUNAVAIL, "cannot_listen", "listen",
                "cannot listen on %s (address in use, or not an address of this host?)",
                cfg->listen);
        web_templates_free(s->templates);
        wf_keyring_free(s->keys);
        web_read_cache_free(s->read_cache);
        pthread_key_delete(s->db_key);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : ntohs(sa.sin_port);
    return s;
}

int web_server_port(const web_server *s)
{
    return s->port;
}

void web_server_stop(web_server *s)
{
    if (s == NULL)
        return;
    /* The drain, so that a restart behind a load balancer fails no request:
     * stop accepting (the listening socket is closed: a new connection is
     * refused at once and the balancer tries another process), then keep
     * serving the open connections, each answer with `Connection: close`,
     * until the clients have closed them all or WEB_DRAIN_SECONDS passed
     * (an idle keep-alive connection that sends nothing more). Only then
     * are the remaining connections closed. */
    s->draining = 1;
    MHD_socket ls = MHD_quiesce_daemon(s->daemon);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    struct timespec tick = {0, 20 * 1000 * 1000};
    for (int i = 0; i < WEB_DRAIN_SECONDS * 50; i++) {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (info == NULL || info->num_connections == 0)
            break;
        nanosleep(&tick, NULL);
    }
    MHD_stop_daemon(s->daemon);
    for (size_t i = 0; i < s->nconns; i++)
        db_close(s->conns[i]);
    free(s->conns);
    pthread_key_delete(s->db_key);
    pthread_mutex_destroy(&s->lock);
    web_templates_free(s->templates);
    wf_keyring_free(s->keys);
    web_read_cache_free(s->read_cache);
    free(s);
}
