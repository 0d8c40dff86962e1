/* peerflow serve [--listen ADDR:PORT] [--no-workers]
 *
 * Runs the web server and, unless --no-workers, the workers in this
 * process (cmd/workers.c). Stops on SIGTERM or SIGINT: the web server
 * stops accepting, finishes running requests, then everything is freed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/workers.h"
#include "common/pf_log.h"
#include "web/server.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int cmd_serve(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"listen", true, false}, {"no-workers", false, false}, {NULL}};
    cli_args a;
    pf_err err = {0};
    if (cli_parse("serve", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    cli_config c = *cfg;
    if (cli_get(&a, "listen"))
        c.listen = cli_get(&a, "listen");
    wf_env env;
    db_conn *db = cli_connect(&c, NULL, &env, &err);
    if (db == NULL)
        return cli_fail(&err);
    web_config wc = {.listen = c.listen,
                     .database_url = c.database_url,
                     .base_url = env.base_url,
                     .mail_domain = env.mail_domain,
                     .templates_dir = c.templates_dir,
                     .static_dir = c.static_dir,
                     .key_dir = c.key_dir,
                     .trusted_proxies = c.trusted_proxies,
                     .peering_api_base = c.peering_api_base,
                     .peeringdb_ix_id = c.peeringdb_ix_id,
                     .access_log = true,
                     .max_open_requests = env.max_open_requests,
                     .max_submissions_per_hour = env.max_submissions_per_hour};
    web_server *srv = web_server_start(&wc, &err);
    if (srv == NULL) {
        db_close(db);
        return cli_fail(&err);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    bool workers = !cli_has(&a, "no-workers");
    pf_log_info("peerflow", "serving on http://%s (port %d), workers %s", c.listen,
                web_server_port(srv), workers ? "on" : "off");
    fflush(stdout);
    int rc = 0;
    if (workers)
        rc = workers_run(&c, &env, WORKERS_ALL, &stopping);
    else
        while (!stopping)
            pause();
    pf_log_info("peerflow", "stopping");
    fflush(stdout);
    web_server_stop(srv);
    db_close(db);
    return rc;
}
