/* db_master: the mastership leases of the switches (migrations/0016,
 * docs/fabric.md "Several provisioners: mastership"). One row per switch
 * names the provisioner process that is its OpenFlow master, until
 * expires_at, with the generation id it sends in OFPT_ROLE_REQUEST. The
 * SQL lives here only; every function runs in the caller's transaction. */
#ifndef DB_MASTERSHIP_H
#define DB_MASTERSHIP_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

typedef struct {
    long long switch_id;
    char worker[160];      /* "" when nobody holds it */
    long long generation;  /* of the holder's ROLE_REQUEST; 0 for nobody */
    long long expires_ms;  /* the lease's time left (<= 0: expired) */
    bool taken;            /* this round took it over (a new generation) */
} db_master_row;

typedef struct {
    int taken;      /* leases this round took over */
    int renewed;    /* leases this round renewed */
    int requeued;   /* running jobs of dead holders put back in the queue */
    bool standby;   /* another worker holds live leases, this one none */
} db_master_stats;

/* One round of worker `me` (a process's worker name), serialised among
 * all workers by a transaction-scoped advisory lock:
 *   - renews me's live leases of the switches in reach[] (the switches me
 *     is connected to) for lease_ms;
 *   - takes over, with a new generation, the expired leases of switches in
 *     reach[] when no other worker holds a live lease (the fabric's
 *     masters stay together: a job spans the switches of a path), or when
 *     the lease has been expired for a whole lease_ms more (its holder
 *     does not take it back: it cannot reach the switch);
 *   - puts back in the queue the running jobs of a holder it took over
 *     from that holds no live lease any more (presumed dead: its jobs'
 *     own leases need not be waited for);
 *   - audits each takeover from another holder (switch.master_changed:
 *     from, worker, generation);
 *   - returns every lease row (*out malloc'ed, caller frees). */
pf_kind db_master_round(db_conn *c, const char *me, int lease_ms, const long long *reach,
                        size_t n_reach, db_master_row **out, size_t *n_out,
                        db_master_stats *stats, pf_err *err);

/* Gives up me's leases (a clean stop): they expire now, so another worker
 * takes over at its next round instead of after the lease. */
pf_kind db_master_release(db_conn *c, const char *me, pf_err *err);

#endif
