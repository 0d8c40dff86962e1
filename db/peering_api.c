/* db_papi: see peering_api.h. */
#include "db/peering_api.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <string.h>

/* $2 is the scope's network (NULL for the system): the filter that holds
 * also where row-level security would not. */
#define PARTY "($2::bigint IS NULL OR $2 IN (r.requester_network_id, r.peer_network_id))" \
              " AND $1 IN (r.requester_network_id, r.peer_network_id)"

static const db_stmt sessions = {
    "pf_papi_sessions",
    "SELECT coalesce(json_agg(pf_papi_session(r, $1) ORDER BY r.id), '[]'::json) FROM"
    " (SELECT r.* FROM peering_requests r WHERE " PARTY
    "  AND $3 IN (r.requester_network_id, r.peer_network_id) AND $3 <> $1"
    "  ORDER BY r.id OFFSET $4 LIMIT $5) r",
    5};
static const db_stmt session_one = {
    "pf_papi_session",
    "SELECT pf_papi_session(r, $1), r.id FROM peering_requests r WHERE " PARTY
    " AND (r.session_id = $3::uuid OR ($3 IS NULL AND r.id = $4))",
    4};
static const db_stmt free_ports = {
    "pf_papi_free_ports",
    "SELECT coalesce(json_agg(json_build_object('name', p.name, 'mode', p.mode) ORDER BY p.name),"
    " '[]'::json) FROM ports p WHERE p.network_id = $1"
    " AND ($2::bigint IS NULL OR p.network_id = $2)"
    " AND (p.mode = 'trunk' OR NOT EXISTS (SELECT 1 FROM request_endpoints e"
    "      WHERE e.port_id = p.id))",
    2};
static const db_stmt duplicate = {
    "pf_papi_duplicate",
    "SELECT r.session_id FROM peering_requests r JOIN request_states s ON s.state = r.state"
    " JOIN ports p ON p.network_id = $1 AND p.name = $4 WHERE " PARTY
    " AND NOT s.terminal AND $3 IN (r.requester_network_id, r.peer_network_id)"
    " AND ((r.requester_network_id = $1 AND r.requester_port_id = p.id)"
    "   OR (r.peer_network_id = $1 AND r.peer_port_id = p.id))"
    " ORDER BY r.id LIMIT 1",
    4};


pf_kind db_papi_sessions(db_conn *c, long long me, long long other, long long offset, int limit,
                         json_t **out, pf_err *err)
{
    char b[5][24];
    const char *p[5] = {db_fmt_ll(b[0], me), db_scope_param(c, b[1]), db_fmt_ll(b[2], other),
                        db_fmt_ll(b[3], offset), db_fmt_ll(b[4], limit + 1)};
    *out = NULL;
    PGresult *r = db_exec(c, &sessions, p, err);
    if (r == NULL)
        return err->kind;
    pf_kind k = db_json_val(r, 0, out, err);
    PQclear(r);
    return k;
}

pf_kind db_papi_session(db_conn *c, long long me, const char *uuid, long long request_id,
                        json_t **out, long long *request_id_out, pf_err *err)
{
    char b[3][24];
    const char *p[4] = {db_fmt_ll(b[0], me), db_scope_param(c, b[1]), uuid,
                        uuid ? NULL : db_fmt_ll(b[2], request_id)};
    *out = NULL;
    PGresult *r = db_exec_one(c, &session_one, p, "unknown_session",
                              "there is no such session of your network", err);
    if (r == NULL)
        return err->kind;
    pf_kind k = db_json_val(r, 0, out, err);
    if (request_id_out)
        *request_id_out = db_ll(r, 0, 1);
    PQclear(r);
    return k;
}

pf_kind db_papi_free_ports(db_conn *c, long long me, json_t **out, pf_err *err)
{
    char b[2][24];
    const char *p[2] = {db_fmt_ll(b[0], me), db_scope_param(c, b[1])};
    *out = NULL;
    PGresult *r = db_exec(c, &free_ports, p, err);
    if (r == NULL)
        return err->kind;
    pf_kind k = db_json_val(r, 0, out, err);
    PQclear(r);
    return k;
}

pf_kind db_papi_live_duplicate(db_conn *c, long long me, long long other, const char *port_name,
                               bool *found, char uuid[37], pf_err *err)
{
    char b[3][24];
    const char *p[4] = {db_fmt_ll(b[0], me), db_scope_param(c, b[1]), db_fmt_ll(b[2], other),
                        port_name};
    PGresult *r = db_exec(c, &duplicate, p, err);
    if (r == NULL)
        return err->kind;
    *found = PQntuples(r) > 0;
    uuid[0] = '\0';
    if (*found)
        snprintf(uuid, 37, "%s", db_val(r, 0, 0));
    PQclear(r);
    return PF_OK;
}
