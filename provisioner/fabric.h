/* prov_fabric: what the provisioner does to one switch, on top of prov_net.
 *
 *  - prov_sync_cookie: make the switch hold exactly the given flows among
 *    those with one cookie (a circuit's): read them (flow stats filtered
 *    by cookie, mask all ones), add what is missing or different, delete
 *    (strict) what should not be there, one BARRIER for all of it. A flow
 *    already right is left alone, so running it twice changes nothing;
 *  - prov_delete_cookie: remove a circuit's flows (DELETE_STRICT per known
 *    flow, then DELETE by cookie for anything left), one BARRIER;
 *  - prov_reconcile_switch: the whole switch against the database (see
 *    docs/fabric.md, "Reconciliation").
 * All of them pipeline their flow mods and wait for one BARRIER. */
#ifndef PROV_FABRIC_H
#define PROV_FABRIC_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "provisioner/conn.h"
#include "provisioner/plan.h"

/* *failed_want is the index in want[] of the flow an ERROR answered, or
 * -1. *sent counts the flow mods sent. Returns res->ok. */
bool prov_sync_cookie(prov_net *n, long long switch_id, uint64_t cookie,
                      const struct ofp_flow *want, size_t n_want, int timeout_ms,
                      prov_result *res, long *failed_want, size_t *sent);

bool prov_delete_cookie(prov_net *n, long long switch_id, uint64_t cookie,
                        const struct ofp_flow *known, size_t n_known, int timeout_ms,
                        prov_result *res);

typedef struct {
    int desired;    /* flows the database wants there (table-miss included) */
    int found;      /* flows on the switch */
    int added;      /* missing, installed */
    int modified;   /* same entry, wrong cookie or actions: rewritten in place */
    int removed;    /* peerflow's (tagged cookie) but not desired: deleted */
    int unchanged;  /* already right: not touched */
    int foreign;    /* other cookies: left alone */
    int meters_added;     /* a circuit's meter missing: added */
    int meters_modified;  /* wrong rate or flags: modified in place */
    int meters_removed;   /* tagged 0x5046 but no circuit needs it: deleted */
    int meters_unchanged;
    int meters_foreign;   /* other meter ids: left alone */
    double ms;      /* wall time */
} prov_drift;

/* Reconciles one switch: dump flows and meters, then read the desired
 * meters and flows (in that order, so a flow written to the database and
 * sent meanwhile is never taken for a stray); the meters to add or
 * re-rate (+ BARRIER) before the flows are read; the flows in one batch
 * (a bundle where the switch has them) - streamed: each desired row is
 * compared as PostgreSQL sends it and, past 512 mods, the bundle goes out
 * in pieces while the rest is read, committed only once every mod is
 * checked - and last the orphan peerflow meters (+ BARRIER).
 * Appends "fabric.drift_repaired" to the audit log when anything was
 * added, modified or removed. PF_EUNAVAIL when the switch is not
 * reachable; PF_ECONFLICT "openflow_error" when it refused a flow. */
pf_kind prov_reconcile_switch(prov_net *n, db_conn *db, long long switch_id,
                              const char *switch_name, const char *actor, int timeout_ms,
                              prov_drift *out, pf_err *err);

/* Makes the switch hold the given meters (the circuit's rows for this
 * switch; others in want[] are skipped): dump, ADD what is missing,
 * MODIFY what differs, one BARRIER. Meters are sent before the flows that
 * use them. *failed_want: the index in want[] an ERROR answered, or -1. */
bool prov_sync_meters(prov_net *n, long long switch_id, const db_prov_meter *want,
                      size_t n_want, int timeout_ms, prov_result *res, long *failed_want);
/* Deletes the meters of known[] on this switch (after their flows: a
 * meter deleted takes its flows with it). A meter already gone is fine. */
bool prov_delete_meters(prov_net *n, long long switch_id, const db_prov_meter *known,
                        size_t n_known, int timeout_ms, prov_result *res);

/* Reads desired flows rows into ofp_flows (malloc'ed, caller frees).
 * Rows that do not parse are skipped and counted in *bad. */
struct ofp_flow *prov_flows_from_rows(const db_prov_flow *rows, size_t n, size_t *bad);

#endif
