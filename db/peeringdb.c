/* db_pdb: see peeringdb.h. */
#include "db/peeringdb.h"
#include "db/db_internal.h"

#include <stdlib.h>

#define NET_JSON                                                                            \
    "json_build_object('id', n.id, 'asn', n.asn, 'name', n.name, 'policy', n.policy,"       \
    " 'irr_as_set', n.irr_as_set, 'max_prefix4', n.max_prefix4, 'max_prefix6',"            \
    " n.max_prefix6, 'contacts', array_to_json(n.contacts), 'pinned',"                      \
    " array_to_json(n.peeringdb_pinned), 'peeringdb_net_id', n.peeringdb_net_id,"           \
    " 'auto_approve', n.auto_approve)"

static const db_stmt net_get = {
    "pf_pdb_network", "SELECT " NET_JSON " FROM networks n WHERE n.asn = $1", 1};
static const db_stmt net_lock = {
    "pf_pdb_network_lock", "SELECT " NET_JSON " FROM networks n WHERE n.asn = $1 FOR UPDATE", 1};
static const db_stmt net_set = {
    "pf_pdb_network_set",
    "UPDATE networks SET name = $2, policy = $3, irr_as_set = $4, max_prefix4 = $5,"
    " max_prefix6 = $6, contacts = ARRAY(SELECT json_array_elements_text($7::json)),"
    " peeringdb_net_id = $8 WHERE id = $1 RETURNING id",
    8};
static const db_stmt pins_set = {
    "pf_pdb_pins_set",
    "UPDATE networks SET peeringdb_pinned = ARRAY(SELECT json_array_elements_text($2::json))"
    " WHERE id = $1 RETURNING id",
    2};
static const db_stmt nets = {
    "pf_pdb_networks",
    "SELECT coalesce(json_agg(json_build_object('asn', asn, 'net_id', peeringdb_net_id)"
    " ORDER BY asn), '[]'::json) FROM networks",
    0};
static const db_stmt since_get = {"pf_pdb_since", "SELECT since FROM peeringdb_sync", 0};
static const db_stmt since_set = {
    "pf_pdb_since_set", "UPDATE peeringdb_sync SET since = $1, synced_at = now()", 1};

static pf_kind one_json(PGresult *r, json_t **out, pf_err *err)
{
    *out = NULL;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return PF_OK;
    }
    return db_json_take(r, out, err);
}

pf_kind db_pdb_network(db_conn *c, long long asn, bool lock, json_t **out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, asn)};
    *out = NULL;
    PGresult *r = db_exec(c, lock ? &net_lock : &net_get, p, err);
    return r ? one_json(r, out, err) : err->kind;
}

/* A JSON value as a statement parameter: NULL for null/absent. */
static const char *param(const json_t *v, char buf[24])
{
    if (v == NULL || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return json_string_value(v);
    return db_fmt_ll(buf, json_integer_value(v));
}

pf_kind db_pdb_network_set(db_conn *c, long long id, const json_t *v, pf_err *err)
{
    char b[7][24];
    char *contacts = json_dumps(json_object_get(v, "contacts"), JSON_COMPACT | JSON_ENCODE_ANY);
    const char *p[8] = {db_fmt_ll(b[0], id),
                        param(json_object_get(v, "name"), b[1]),
                        param(json_object_get(v, "policy"), b[2]),
                        param(json_object_get(v, "irr_as_set"), b[3]),
                        param(json_object_get(v, "max_prefix4"), b[4]),
                        param(json_object_get(v, "max_prefix6"), b[5]),
                        contacts,
                        param(json_object_get(v, "peeringdb_net_id"), b[6])};
    PGresult *r = db_exec_one(c, &net_set, p, "unknown_network", "no such network", err);
    free(contacts);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_pdb_pins_set(db_conn *c, long long id, const json_t *pins, pf_err *err)
{
    char b[24];
    char *t = json_dumps(pins, JSON_COMPACT);
    const char *p[2] = {db_fmt_ll(b, id), t};
    PGresult *r = db_exec_one(c, &pins_set, p, "unknown_network", "no such network", err);
    free(t);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_pdb_networks(db_conn *c, json_t **out, pf_err *err)
{
    PGresult *r = db_exec(c, &nets, NULL, err);
    return r ? one_json(r, out, err) : err->kind;
}

pf_kind db_pdb_since(db_conn *c, long long *since, pf_err *err)
{
    PGresult *r = db_exec(c, &since_get, NULL, err);
    if (r == NULL)
        return err->kind;
    *since = PQntuples(r) ? db_ll(r, 0, 0) : 0;
    PQclear(r);
    return PF_OK;
}

pf_kind db_pdb_since_set(db_conn *c, long long since, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, since)};
    PGresult *r = db_exec(c, &since_set, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}
