/* peerflow serve [--listen ADDR:PORT] [--no-workers]
 *
 * Runs the web server and, unless --no-workers, the periodic workers in
 * this process (for now: the expiry sweep, every 30 s). Stops on SIGTERM
 * or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "web/server.h"
#include "workflow/requests.h"

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
    web_config wc = {.listen = c.listen, .database_url = c.database_url};
    web_server *srv = web_server_start(&wc, &err);
    if (srv == NULL)
        return cli_fail(&err);
    wf_env env;
    db_conn *db = NULL;
    bool workers = !cli_has(&a, "no-workers");
    if (workers && (db = cli_connect(&c, NULL, &env, &err)) == NULL) {
        web_server_stop(srv);
        return cli_fail(&err);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("peerflow: serving on http://%s (workers %s)\n", c.listen, workers ? "on" : "off");
    fflush(stdout);
    time_t next_sweep = 0;
    while (!stopping) {
        if (workers && time(NULL) >= next_sweep) {
            int n;
            if (wf_request_expire_due(&env, &n, &err) != PF_OK)
                fprintf(stderr, "peerflow: expiry sweep: %s\n", err.message);
            else if (n > 0)
                printf("peerflow: expired %d request%s\n", n, n == 1 ? "" : "s");
            fflush(stdout);
            next_sweep = time(NULL) + 30;
        }
        usleep(200 * 1000);
    }
    printf("peerflow: stopping\n");
    web_server_stop(srv);
    db_close(db);
    return 0;
}
