/* web_server: the HTTP side of `peerflow serve` (libmicrohttpd).
 *
 * A pool of threads, each with its own database connection (libpq
 * connections are single-threaded; one per thread means no locking and no
 * connection set-up per request). Limits: connections in total and per
 * client address, memory per connection, request body size, and a timeout
 * that cuts slow clients off without holding up the others. Every answer
 * carries the security headers; every request is logged and counted. */
#ifndef WEB_SERVER_H
#define WEB_SERVER_H

#include <stdbool.h>

#include "common/pf_err.h"

typedef struct web_server web_server;

typedef struct {
    const char *listen;        /* "ADDR:PORT"; port 0 picks a free one */
    const char *database_url;  /* libpq conninfo for the request threads */
    const char *base_url;      /* public URL (links, Secure cookies when https) */
    const char *mail_domain;
    const char *templates_dir; /* NULL: the source tree's web/templates */
    const char *static_dir;    /* NULL: the source tree's web/static */
    const char *key_dir;       /* approval-link keys; NULL: /t/ pages answer 503 */
    int threads;               /* 0: 4 */
    int timeout_seconds;       /* 0: 15 */
    bool access_log;           /* one line per request on stdout */
    int max_open_requests;     /* per network; 0: WF_DEFAULT_MAX_OPEN_REQUESTS */
    int max_submissions_per_hour; /* per network; 0: WF_DEFAULT_... */
    const char *trusted_proxies; /* CIDRs whose X-Forwarded-For is believed; NULL: none */
    const char *peering_api_base; /* the Peering API's prefix; NULL: /peering-api/v0.1 */
    const char *peeringdb_ix_id;  /* the exchange's PeeringDB ix id (a public location) */
} web_config;

/* Starts listening; returns NULL with err filled (bad address, port in
 * use, templates missing). */
web_server *web_server_start(const web_config *cfg, pf_err *err);

/* The port actually bound (useful with port 0). */
int web_server_port(const web_server *s);

/* Stops accepting, lets running requests finish, frees everything. */
void web_server_stop(web_server *s);

/* The static directory of the server (for the static handler). */
const char *web_server_static_dir(void);

#endif
