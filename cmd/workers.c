/* workers: see workers.h. */
#include "cmd/workers.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/pf_log.h"
#include "provisioner/prov.h"
#include "workflow/auth.h"
#include "workflow/keys.h"
#include "workflow/mailer.h"
#include "workflow/peeringdb.h"
#include "workflow/requests.h"
#include "workflow/traffic.h"

static void log_err(const char *what, const pf_err *err)
{
    pf_log_error("peerflow", "%s: %s", what, err->message);
}

/* The requests the expiry sweep could not expire: each is logged once,
 * when it first fails, not at every sweep while it keeps failing. */
#define EXPIRY_REMEMBER 256
struct expiry_failures {
    long long prev[EXPIRY_REMEMBER], cur[EXPIRY_REMEMBER];
    size_t n_prev, n_cur;
};

static void on_expire_failed(void *arg, long long id, const pf_err *why)
{
    struct expiry_failures *f = arg;
    bool known = false;
    for (size_t i = 0; i < f->n_prev && !known; i++)
        known = f->prev[i] == id;
    if (f->n_cur < EXPIRY_REMEMBER)
        f->cur[f->n_cur++] = id;
    if (!known)
        pf_log_error("peerflow", "expiry sweep: request %lld could not expire (%s): %s; "
                                 "the sweep skips it and goes on",
                id, why->code, why->message);
}

/* One expiry sweep: every due request that can expire does. */
static void expiry_sweep(wf_env *env, struct expiry_failures *f)
{
    pf_err err = {0};
    int n = 0, failed = 0;
    f->n_cur = 0;
    pf_kind k = wf_request_expire_sweep(env, &n, &failed, on_expire_failed, f, &err);
    if (k != PF_OK && failed == 0)
        log_err("expiry sweep", &err);
    if (n > 0)
        pf_log_info("peerflow", "expired %d request%s", n, n == 1 ? "" : "s");
    if (failed > 0)
        pf_log_info("peerflow", "%d expired request%s could not expire", failed,
                    failed == 1 ? "" : "s");
    fflush(stdout);
    memcpy(f->prev, f->cur, f->n_cur * sizeof f->cur[0]);
    f->n_prev = f->n_cur;
}

/* The mailer's set-up; false (with a line on stderr) when mail is off. */
static bool mailer_setup(const cli_config *cfg, wf_keyring **keys, wf_mailer_config *mc)
{
    pf_err err = {0};
    *keys = NULL;
    if (cfg->smtp_url == NULL) {
        pf_log_error("peerflow", "mail delivery is off: set PEERFLOW_SMTP_URL "
                                 "(smtp://HOST:PORT, smtps://..., or file:DIR)");
        return false;
    }
    if (cfg->key_dir == NULL)
        pf_log_error("peerflow", "PEERFLOW_KEY_DIR is not set: approval links cannot be "
                                 "signed, their mail waits in the outbox");
    else if (wf_keyring_open(cfg->key_dir, keys, &err) != PF_OK)
        log_err("approval-link keys", &err);
    int max_attempts = 0; /* docs/mail.md: dead letters; checked by cli_connect */
    cli_mail_max_attempts(cfg, &max_attempts, &err);
    *mc = (wf_mailer_config){.smtp_url = cfg->smtp_url, .mail_from = cfg->mail_from,
                             .keys = *keys, .max_attempts = max_attempts};
    return true;
}

/* The provisioner's lines for the operator (a switch without bundles). */
static void prov_log(void *arg, const char *line)
{
    (void)arg;
    pf_log_info("provisioner", "%s", line);
}

int workers_run(const cli_config *cfg, wf_env *env, int which, volatile sig_atomic_t *stop)
{
    /* The provisioner runs its own threads and connections (OpenFlow I/O,
     * job workers, reconciler); this loop only starts and stops it. */
    prov_service *prov = NULL;
    if (which & WORKERS_PROVISIONER) {
        pf_err err = {0};
        int counter_s = 0, lease_s = 0;
        if (cli_counter_interval(cfg, &counter_s, &err) != PF_OK ||
            cli_master_lease(cfg, &lease_s, &err) != PF_OK) {
            log_err("provisioner", &err);
            return pf_kind_exit_status(err.kind);
        }
        prov_config pc = {.database_url = cfg->worker_database_url,
                          .openflow_listen = cfg->openflow_listen,
                          .openflow_tls_dir = cfg->openflow_tls_dir,
                          .base_url = env->base_url,
                          .mail_domain = env->mail_domain,
                          .counter_interval_ms = counter_s * 1000,
                          .master_lease_ms = lease_s * 1000,
                          .log = prov_log};
        prov = prov_service_start(&pc, &err);
        if (prov == NULL) {
            log_err("provisioner", &err);
            return pf_kind_exit_status(err.kind);
        }
    }
    /* the PeeringDB sync runs beside the mailer, when configured */
    int pdb_every = 0;
    pf_err perr = {0};
    if ((which & WORKERS_MAILER) && cli_peeringdb_interval(cfg, &pdb_every, &perr) != PF_OK) {
        log_err("peeringdb sync", &perr); /* a configuration error: refuse to start */
        prov_service_stop(prov);
        return pf_kind_exit_status(perr.kind);
    }
    time_t next_pdb = pdb_every > 0 ? time(NULL) + 5 : 0;
    wf_keyring *keys = NULL;
    wf_mailer_config mc;
    bool mail = (which & WORKERS_MAILER) && mailer_setup(cfg, &keys, &mc);
    time_t next_sweep = 0, next_rollup = 0;
    char last_mail_error[400] = "";
    static struct expiry_failures expiry_failed;
    while (!*stop) {
        pf_err err = {0};
        /* every worker process sweeps (mailer, provisioner or both): SKIP
         * LOCKED keeps two sweeps off the same request */
        if (time(NULL) >= next_sweep) {
            expiry_sweep(env, &expiry_failed);
            if (wf_sessions_prune(env, NULL, &err) != PF_OK)
                log_err("session pruning", &err);
            next_sweep = time(NULL) + 30;
        }
        /* traffic rollups and pruning (migrations/0012_traffic.sql): each
         * run recomputes the buckets since the last, so any worker may */
        if (time(NULL) >= next_rollup) {
            if (wf_traffic_rollup(env, 0, &err) != PF_OK)
                log_err("traffic rollup", &err);
            next_rollup = time(NULL) + 60;
        }
        if (pdb_every > 0 && time(NULL) >= next_pdb) {
            wf_actor who = wf_actor_system("peeringdb");
            wf_pdb_sync_opts po = {.url = cfg->peeringdb_url, .api_key = cfg->peeringdb_api_key};
            wf_pdb_summary sum;
            if (wf_pdb_sync(env, &who, &po, &sum, &err) != PF_OK) {
                log_err("peeringdb sync", &err);
            } else {
                pf_log_info("peerflow", "peeringdb sync: %d networks here, %d changed",
                            sum.networks_seen, sum.networks_changed);
                json_decref(sum.lines);
            }
            next_pdb = time(NULL) + pdb_every;
        }
        int sent = 0;
        if (mail) {
            pf_kind k = wf_mailer_run_once(env, &mc, 100, &sent, &err);
            /* a failing server is said once, not every second */
            if (k != PF_OK && strcmp(err.message, last_mail_error) != 0)
                log_err("mail", &err);
            snprintf(last_mail_error, sizeof last_mail_error, "%s", k == PF_OK ? "" : err.message);
            if (k == PF_EINVALID)
                mail = false; /* a configuration error: retrying will not help */
            if (sent > 0)
                pf_log_info("peerflow", "delivered %d message%s", sent, sent == 1 ? "" : "s");
            fflush(stdout);
        }
        /* a full batch means more may be waiting: go again at once */
        if (sent < 100)
            usleep(mail ? 500 * 1000 : 200 * 1000);
    }
    wf_keyring_free(keys);
    prov_service_stop(prov);
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
    pf_log_info("peerflow", "worker running (%s)", which == WORKERS_ALL ? "all" : cli_get(&a, "only"));
    fflush(stdout);
    int rc = workers_run(cfg, &env, which, &worker_stop);
    db_close(db);
    return rc;
}
