/* workers: see workers.h. */
#include "cmd/workers.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workflow/requests.h"

static void log_err(const char *what, const pf_err *err)
{
    fprintf(stderr, "peerflow: %s: %s\n", what, err->message);
}

int workers_run(const cli_config *cfg, wf_env *env, int which, volatile sig_atomic_t *stop)
{
    (void)cfg;
    time_t next_sweep = 0;
    while (!*stop) {
        pf_err err = {0};
        if ((which & WORKERS_MAILER) && time(NULL) >= next_sweep) {
            int n;
            if (wf_request_expire_due(env, &n, &err) != PF_OK)
                log_err("expiry sweep", &err);
            else if (n > 0)
                printf("peerflow: expired %d request%s\n", n, n == 1 ? "" : "s");
            fflush(stdout);
            next_sweep = time(NULL) + 30;
        }
        usleep(200 * 1000);
    }
    return 0;
}

static volatile sig_atomic_t worker_stop;

static void on_signal(int sig)
{
    (void)sig;
    worker_stop = 1;
}

int cmd_worker(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"only", true, false}, {NULL}};
    static const char *const kinds[] = {"mailer", "provisioner", NULL};
    cli_args a;
    pf_err err = {0};
    if (cli_parse("worker", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    int which = WORKERS_ALL;
    if (cli_has(&a, "only")) {
        const char *only = cli_get(&a, "only");
        bool known = false;
        for (int i = 0; kinds[i]; i++)
            known |= strcmp(only, kinds[i]) == 0;
        if (!known) {
            pf_fail(&err, PF_EINVALID, "bad_choice", "only",
                    "--only must be mailer or provisioner, not '%s'", only);
            return cli_fail(&err);
        }
        which = strcmp(only, "mailer") == 0 ? WORKERS_MAILER : WORKERS_PROVISIONER;
    }
    wf_env env;
    db_conn *db = cli_connect(cfg, NULL, &env, &err);
    if (db == NULL)
        return cli_fail(&err);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("peerflow: worker running (%s)\n", which == WORKERS_ALL ? "all" : cli_get(&a, "only"));
    fflush(stdout);
    int rc = workers_run(cfg, &env, which, &worker_stop);
    db_close(db);
    return rc;
}
