/* db_changes: see changes.h. */
#include "db/changes.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <string.h>

#define CHANGE_COLS                                                                     \
    "ch.id, ch.request_id, ch.side, ch.network_id, coalesce(ch.requested_by, 0),"       \
    " ch.old_bandwidth_mbps, ch.bandwidth_mbps, ch.state"

static const db_stmt ins_change = {
    "pf_change_insert",
    "INSERT INTO request_changes (request_id, side, network_id, requested_by,"
    " old_bandwidth_mbps, bandwidth_mbps) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    6};
static const db_stmt lock_change = {
    "pf_change_lock",
    "SELECT " CHANGE_COLS " FROM request_changes ch JOIN peering_requests r ON r.id = ch.request_id"
    " WHERE ch.id = $1 AND ch.request_id = $2"
    " AND ($3::bigint IS NULL OR $3 IN (r.requester_network_id, r.peer_network_id))"
    " FOR UPDATE OF ch",
    3};
static const db_stmt open_change = {
    "pf_change_open_of",
    "SELECT " CHANGE_COLS " FROM request_changes ch JOIN peering_requests r ON r.id = ch.request_id"
    " WHERE ch.request_id = $1 AND ch.state IN ('pending', 'approved')"
    " AND ($2::bigint IS NULL OR $2 IN (r.requester_network_id, r.peer_network_id))"
    " FOR UPDATE OF ch",
    2};
static const db_stmt set_state = {
    "pf_change_set_state",
    "UPDATE request_changes SET state = $2, decided_by = coalesce($3, decided_by),"
    " reason = coalesce($4, reason), error = coalesce($5, error),"
    " decided_at = CASE WHEN $2 IN ('approved', 'rejected', 'cancelled') THEN now()"
    "                   ELSE decided_at END,"
    " applied_at = CASE WHEN $2 = 'applied' THEN now() ELSE applied_at END"
    " WHERE id = $1",
    5};
static const db_stmt set_bandwidth = {
    "pf_request_set_bandwidth", "UPDATE peering_requests SET bandwidth_mbps = $2 WHERE id = $1",
    2};

static void from_row(const PGresult *r, db_change *out)
{
    memset(out, 0, sizeof *out);
    out->id = db_ll(r, 0, 0);
    out->request_id = db_ll(r, 0, 1);
    snprintf(out->side, sizeof out->side, "%s", db_val(r, 0, 2));
    out->network_id = db_ll(r, 0, 3);
    out->requested_by = db_ll(r, 0, 4);
    out->old_bandwidth_mbps = (int)db_ll(r, 0, 5);
    out->bandwidth_mbps = (int)db_ll(r, 0, 6);
    snprintf(out->state, sizeof out->state, "%s", db_val(r, 0, 7));
}

pf_kind db_change_insert(db_conn *c, const db_change *ch, long long *id, pf_err *err)
{
    char b[6][24];
    const char *p[6] = {db_fmt_ll(b[0], ch->request_id), ch->side,
                        db_fmt_ll(b[1], ch->network_id), db_fmt_id(b[2], ch->requested_by),
                        db_fmt_ll(b[3], ch->old_bandwidth_mbps),
                        db_fmt_ll(b[4], ch->bandwidth_mbps)};
    PGresult *r = db_exec(c, &ins_change, p, err);
    if (r == NULL)
        return err->kind;
    *id = db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

pf_kind db_change_lock(db_conn *c, long long request_id, long long id, db_change *out,
                       pf_err *err)
{
    char b[2][24], nb[24];
    const char *p[3] = {db_fmt_ll(b[0], id), db_fmt_ll(b[1], request_id), db_scope_param(c, nb)};
    PGresult *r = db_exec_one(c, &lock_change, p, "unknown_change",
                              "no such change of this request", err);
    if (r == NULL)
        return err->kind;
    from_row(r, out);
    PQclear(r);
    return PF_OK;
}

pf_kind db_change_open_of(db_conn *c, long long request_id, db_change *out, bool *found,
                          pf_err *err)
{
    char b[24], nb[24];
    const char *p[2] = {db_fmt_ll(b, request_id), db_scope_param(c, nb)};
    PGresult *r = db_exec(c, &open_change, p, err);
    if (r == NULL)
        return err->kind;
    *found = PQntuples(r) == 1;
    if (*found)
        from_row(r, out);
    PQclear(r);
    return PF_OK;
}

pf_kind db_change_set_state(db_conn *c, long long id, const char *state, const char *decided_by,
                            const char *reason, const char *error, pf_err *err)
{
    char b[24];
    const char *p[5] = {db_fmt_ll(b, id), state, decided_by, reason, error};
    PGresult *r = db_exec(c, &set_state, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_request_set_bandwidth(db_conn *c, long long request_id, int mbps, pf_err *err)
{
    char b[2][24];
    const char *p[2] = {db_fmt_ll(b[0], request_id), db_fmt_ll(b[1], mbps)};
    PGresult *r = db_exec(c, &set_bandwidth, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}
