/* db_changes: changes of a live circuit (migrations/0014_changes.sql).
 * All functions run inside the caller's transaction; row-level security
 * and the acting network's filter hide other networks' changes. */
#ifndef DB_CHANGES_H
#define DB_CHANGES_H

#include <stdbool.h>

#include "db/db.h"

typedef struct {
    long long id;
    long long request_id;
    char side[12];         /* who asked: "requester" | "peer" */
    long long network_id;  /* ... and its network */
    long long requested_by;
    int old_bandwidth_mbps;
    int bandwidth_mbps;
    char state[12];        /* pending approved applied failed rejected cancelled */
} db_change;

/* Inserts a pending change from c's request, side, network, requester and
 * bandwidths; sets *id. A second open change of the request is
 * PF_ECONFLICT "change_open". */
pf_kind db_change_insert(db_conn *c, const db_change *ch, long long *id, pf_err *err);

/* Reads and row-locks change id of request request_id (FOR UPDATE).
 * PF_ENOTFOUND "unknown_change" when there is none visible. */
pf_kind db_change_lock(db_conn *c, long long request_id, long long id, db_change *out,
                       pf_err *err);

/* The request's open change (pending or approved), locked; *found. */
pf_kind db_change_open_of(db_conn *c, long long request_id, db_change *out, bool *found,
                          pf_err *err);

/* Moves it to state; decided_by, reason and error may be NULL (kept). */
pf_kind db_change_set_state(db_conn *c, long long id, const char *state, const char *decided_by,
                            const char *reason, const char *error, pf_err *err);

/* Sets the request's cap (the change applied). */
pf_kind db_request_set_bandwidth(db_conn *c, long long request_id, int mbps, pf_err *err);

#endif
