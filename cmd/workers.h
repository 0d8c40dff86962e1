/* workers: the background loop shared by `peerflow serve` and
 * `peerflow worker`: mail delivery ("mailer") and the provisioner, and in
 * every process the expiry sweep. Each worker coordinates with the others through the
 * database only (SKIP LOCKED), so any number of processes may run them. */
#ifndef CMD_WORKERS_H
#define CMD_WORKERS_H

#include <signal.h>

#include "cmd/cli.h"

enum {
    WORKERS_MAILER = 1,      /* mail delivery (the expiry sweep runs in all) */
    WORKERS_PROVISIONER = 2,
    WORKERS_ALL = 3,
};

/* Runs the chosen workers until *stop becomes non-zero. env is borrowed
 * (its connection is used by this thread only). Returns an exit status. */
int workers_run(const cli_config *cfg, wf_env *env, int which, volatile sig_atomic_t *stop);

int cmd_worker(const cli_config *cfg, int argc, char **argv);

#endif
