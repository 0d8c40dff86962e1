/* peerflow reconcile [--switch NAME]
 *
 * Reconciles the fabric's switches (or one) against the desired flows in
 * the database, now, from this process: installs what is missing, deletes
 * peerflow's flows that should not be there, leaves other controllers'
 * flows and the right ones alone, and audits the drift. A switch without
 * an endpoint (it connects to the provisioner) cannot be reached from
 * here: the running provisioner is asked to reconcile it. */
#include <stdio.h>

#include "cmd/cli.h"
#include "provisioner/prov.h"

int cmd_reconcile(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"switch", true, false}, {NULL}};
    cli_args a;
    pf_err err = {0};
    if (cli_parse("reconcile", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    if (a.npos != 0) {
        pf_fail(&err, PF_EINVALID, "unexpected_argument", NULL,
                "usage: peerflow reconcile [--switch NAME]");
        return cli_fail(&err);
    }
    prov_config pc = {.database_url = cfg->worker_database_url,
                      .openflow_tls_dir = cfg->openflow_tls_dir,
                      .barrier_timeout_ms = 5000};
    prov_reconcile_report rep;
    pf_kind k = prov_reconcile_now(&pc, cli_get(&a, "switch"), &rep, &err);
    if (k != PF_OK && k != PF_EUNAVAIL)
        return cli_fail(&err);
    printf("reconciled %d switch%s in %.1f ms: %d flows desired, %d added, %d modified, "
           "%d removed, %d unchanged, %d foreign left alone",
           rep.switches, rep.switches == 1 ? "" : "es", rep.total.ms, rep.total.desired,
           rep.total.added, rep.total.modified, rep.total.removed, rep.total.unchanged,
           rep.total.foreign);
    if (rep.requested)
        printf("; asked the running provisioner to reconcile %d switch%s that connect%s to it",
               rep.requested, rep.requested == 1 ? "" : "es", rep.requested == 1 ? "s" : "");
    printf("\n");
    fflush(stdout);
    if (k != PF_OK)
        return cli_fail(&err);
    return 0;
}
