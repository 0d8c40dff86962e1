/* web_server: the HTTP side of `peerflow serve`.
 *
 * This is the first cut: GET /healthz (checks the database) and a plain
 * status page at /. The pages, the JSON API, sessions and CSRF are built
 * on top of it (see docs/architecture.md, "web"). */
#ifndef WEB_SERVER_H
#define WEB_SERVER_H

#include "common/pf_err.h"

typedef struct web_server web_server;

typedef struct {
    const char *listen;       /* "ADDR:PORT" */
    const char *database_url; /* libpq conninfo for the request threads */
} web_config;

/* Starts listening; returns NULL with err filled (bad address, port in
 * use, database unreachable). */
web_server *web_server_start(const web_config *cfg, pf_err *err);

/* The port actually bound (useful with port 0). */
int web_server_port(const web_server *s);

/* Stops accepting, finishes running requests, frees everything. */
void web_server_stop(web_server *s);

#endif
