/* web_server: see server.h. */
#include "web/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

struct web_server {
    struct MHD_Daemon *daemon;
    db_conn *db;           /* shared by the polling thread; guarded by lock */
    pthread_mutex_t lock;
    int port;
};

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
                               const char *type, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls)
{
    (void)version;
    (void)upload;
    web_server *s = cls;
    if (*req_cls == NULL) { /* first call: headers only */
        *req_cls = s;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0; /* no handler takes a body yet */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                       "method not allowed\n");
    if (strcmp(url, "/healthz") == 0) {
        pf_err err = {0};
        pthread_mutex_lock(&s->lock);
        pf_kind k = db_ping(s->db, &err);
        pthread_mutex_unlock(&s->lock);
        return k == PF_OK ? respond(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n")
                          : respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    "text/plain; charset=utf-8", "database unavailable\n");
    }
    if (strcmp(url, "/") == 0)
        return respond(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
                       "<!doctype html><html lang=en><head><meta charset=utf-8>"
                       "<title>peerflow</title></head><body><h1>peerflow</h1>"
                       "<p>The peering request engine is running. Operators use the "
                       "<code>peerflow</code> command; see README.md.</p></body></html>\n");
    return respond(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found\n");
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
    s->db = db_connect(cfg->database_url, err);
    if (s->db == NULL) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                     MHD_USE_ERROR_LOG,
                                 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &sa,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)512, MHD_OPTION_END);
    if (s->daemon == NULL) {
        pf_fail(err, PF_EUNAVAIL, "cannot_listen", "listen",
                "cannot listen on %s (address in use, or not an address of this host?)",
                cfg->listen);
        db_close(s->db);
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
    MHD_stop_daemon(s->daemon);
    db_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
