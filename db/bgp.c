/* db_bgp: see bgp.h. */
#include "db/bgp.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt pool_insert = {
    "pf_pool_insert", "INSERT INTO address_pools (cidr) VALUES ($1::cidr) RETURNING id", 1};
static const db_stmt pool_delete = {
    "pf_pool_delete", "DELETE FROM address_pools WHERE cidr = $1::cidr RETURNING id", 1};
static const db_stmt pool_usage = {
    "pf_pool_usage",
    "SELECT coalesce(json_agg(json_build_object('cidr', u.cidr, 'family', u.family,"
    " 'allocated', u.allocated, 'free', u.free)), '[]'::json) FROM pf_bgp_pool_usage() u",
    0};

const db_stmt db_bgp_allocate_stmt = {"pf_bgp_allocate", "SELECT pf_bgp_allocate($1)", 1};
static const db_stmt release = {"pf_bgp_release", "SELECT pf_bgp_release($1)", 1};
static const db_stmt has_addresses = {
    "pf_bgp_has_addresses",
    "SELECT EXISTS (SELECT 1 FROM circuit_addresses WHERE request_id = $1)", 1};
static const db_stmt set_failure = {
    "pf_request_set_failure",
    "UPDATE peering_requests SET failure_code = $2, failure_message = $3 WHERE id = $1", 3};

#define FACTS_JSON(n)                                                                      \
    "json_build_object('asn', " n ".asn, 'name', " n ".name, 'policy', " n ".policy,"       \
    " 'max_prefix4', " n ".max_prefix4, 'max_prefix6', " n ".max_prefix6,"                  \
    " 'irr_as_set', " n ".irr_as_set, 'network_id', " n ".id,"                              \
    " 'prefixes', coalesce((SELECT json_agg(p.prefix ORDER BY family(p.prefix), p.prefix)" \
    "   FROM network_prefixes p WHERE p.network_id = " n ".id), '[]'::json))"

static const db_stmt facts = {
    "pf_network_facts", "SELECT " FACTS_JSON("n") " FROM networks n WHERE n.asn = $1", 1};
static const db_stmt facts_set = {
    "pf_network_facts_set",
    "UPDATE networks SET max_prefix4 = $2, max_prefix6 = $3, irr_as_set = $4 WHERE id = $1"
    " RETURNING id",
    4};
static const db_stmt prefix_insert = {
    "pf_prefix_insert",
    "INSERT INTO network_prefixes (network_id, prefix) VALUES ($1, $2::cidr)"
    " ON CONFLICT DO NOTHING RETURNING 1",
    2};
static const db_stmt prefix_delete = {
    "pf_prefix_delete",
    "DELETE FROM network_prefixes WHERE network_id = $1 AND prefix = $2::cidr RETURNING 1", 2};
/* Prefix registrations take one transaction-scoped advisory lock (key
 * 'PF' 0x0010), then look for a conflict in a statement of their own:
 * two networks registering overlapping space at once are serialised, and
 * the second one's check sees the first one's row (no constraint can say
 * "overlapping, unless forced"). Registrations are rare; one lock is
 * enough. */
static const db_stmt prefix_lock = {
    "pf_prefix_lock", "SELECT pg_advisory_xact_lock(1346764816)", 0}; /* 0x50460010 */
static const db_stmt prefix_conflict = {
    "pf_prefix_conflict",
    "SELECT n.asn, p.prefix FROM network_prefixes p JOIN networks n ON n.id = p.network_id"
    " WHERE p.network_id <> $1 AND p.prefix && $2::cidr ORDER BY p.prefix LIMIT 1",
    2};

static const db_stmt secret_put = {
    "pf_bgp_secret_put",
    "INSERT INTO request_bgp_secrets (request_id, nonce, sealed)"
    " VALUES ($1, decode($2, 'hex'), decode($3, 'hex'))",
    3};
static const db_stmt secret_get = {
    "pf_bgp_secret_get",
    "SELECT encode(s.nonce, 'hex'), encode(s.sealed, 'hex') FROM request_bgp_secrets s"
    " JOIN peering_requests r ON r.id = s.request_id"
    " WHERE s.request_id = $1"
    " AND ($2::bigint IS NULL OR $2 IN (r.requester_network_id, r.peer_network_id))",
    2};

static const db_stmt session = {
    "pf_bgp_session",
    "SELECT json_build_object('id', r.id, 'state', r.state, 'md5', r.bgp_md5,"
    " 'requester', " FACTS_JSON("rn") ", 'peer', " FACTS_JSON("pn") ","
    " 'ipv4', (SELECT a.net FROM circuit_addresses a WHERE a.request_id = r.id AND a.family = 4),"
    " 'ipv6', (SELECT a.net FROM circuit_addresses a WHERE a.request_id = r.id AND a.family = 6))"
    " FROM peering_requests r"
    " JOIN networks rn ON rn.id = r.requester_network_id"
    " JOIN networks pn ON pn.id = r.peer_network_id"
    " WHERE r.id = $1 AND ($2::bigint IS NULL OR $2 IN (r.requester_network_id, r.peer_network_id))",
    2};

pf_kind db_pool_insert(db_conn *c, const char *cidr, long long *id, pf_err *err)
{
    const char *p[1] = {cidr};
    PGresult *r = db_exec(c, &pool_insert, p, err);
    if (r == NULL)
        return err->kind;
    *id = db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

/* Runs a statement returning zero or one row; *hit says which. */
static pf_kind exec_hit(db_conn *c, const db_stmt *st, const char *const *p, bool *hit,
                        pf_err *err)
{
    PGresult *r = db_exec(c, st, p, err);
    if (r == NULL)
        return err->kind;
    *hit = PQntuples(r) > 0;
    PQclear(r);
    return PF_OK;
}

pf_kind db_pool_delete(db_conn *c, const char *cidr, bool *removed, pf_err *err)
{
    const char *p[1] = {cidr};
    return exec_hit(c, &pool_delete, p, removed, err);
}

/* A statement whose one row's first column is JSON: parsed into *out. */
static pf_kind exec_json(db_conn *c, const db_stmt *st, const char *const *p, json_t **out,
                         const char *nf_code, const char *nf_msg, pf_err *err)
{
    *out = NULL;
    PGresult *r = nf_code ? db_exec_one(c, st, p, nf_code, nf_msg, err) : db_exec(c, st, p, err);
    if (r == NULL)
        return err->kind;
    return db_json_take(r, out, err);
}

pf_kind db_pool_usage(db_conn *c, json_t **out, pf_err *err)
{
    return exec_json(c, &pool_usage, NULL, out, NULL, NULL, err);
}

pf_kind db_bgp_allocate(db_conn *c, long long id, json_t **out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, id)};
    return exec_json(c, &db_bgp_allocate_stmt, p, out, NULL, NULL, err);
}

pf_kind db_bgp_release(db_conn *c, long long id, json_t **out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, id)};
    return exec_json(c, &release, p, out, NULL, NULL, err);
}

pf_kind db_bgp_has_addresses(db_conn *c, long long id, bool *has, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, id)};
    PGresult *r = db_exec(c, &has_addresses, p, err);
    if (r == NULL)
        return err->kind;
    *has = db_bool(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

pf_kind db_request_set_failure(db_conn *c, long long id, const char *code, const char *message,
                               pf_err *err)
{
    char b[24];
    const char *p[3] = {db_fmt_ll(b, id), code, code ? message : NULL};
    PGresult *r = db_exec(c, &set_failure, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_network_facts(db_conn *c, long long asn, json_t **out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, asn)};
    return exec_json(c, &facts, p, out, "unknown_asn",
                     "no network with that ASN is registered on this exchange", err);
}

pf_kind db_network_facts_set(db_conn *c, long long network_id, int max_prefix4, int max_prefix6,
                             const char *irr_as_set, pf_err *err)
{
    char b[3][24];
    const char *p[4] = {db_fmt_ll(b[0], network_id), db_fmt_id(b[1], max_prefix4),
                        db_fmt_id(b[2], max_prefix6), irr_as_set};
    PGresult *r = db_exec_one(c, &facts_set, p, "unknown_network", "no such network", err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_prefix_insert(db_conn *c, long long network_id, const char *cidr, bool *added,
                         pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, network_id), cidr};
    return exec_hit(c, &prefix_insert, p, added, err);
}

pf_kind db_prefix_delete(db_conn *c, long long network_id, const char *cidr, bool *removed,
                         pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, network_id), cidr};
    return exec_hit(c, &prefix_delete, p, removed, err);
}

pf_kind db_prefix_conflict(db_conn *c, long long network_id, const char *cidr, bool *found,
                           long long *asn, char prefix[64], pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, network_id), cidr};
    PGresult *r = db_exec(c, &prefix_lock, NULL, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    r = db_exec(c, &prefix_conflict, p, err);
    if (r == NULL)
        return err->kind;
    *found = PQntuples(r) > 0;
    if (*found) {
        *asn = db_ll(r, 0, 0);
        snprintf(prefix, 64, "%s", db_val(r, 0, 1));
    }
    PQclear(r);
    return PF_OK;
}

pf_kind db_bgp_secret_put(db_conn *c, long long id, const unsigned char nonce[24],
                          const unsigned char *sealed, size_t len, pf_err *err)
{
    if (len > DB_BGP_SEALED_MAX)
        return pf_fail(err, PF_EINTERNAL, "secret_too_long", NULL, "sealed secret too long");
    char b[24], nh[49], sh[2 * DB_BGP_SEALED_MAX + 1];
    for (size_t i = 0; i < 24; i++)
        snprintf(nh + 2 * i, 3, "%02x", nonce[i]);
    for (size_t i = 0; i < len; i++)
        snprintf(sh + 2 * i, 3, "%02x", sealed[i]);
    sh[2 * len] = '\0';
    const char *p[3] = {db_fmt_ll(b, id), nh, sh};
    PGresult *r = db_exec(c, &secret_put, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

static bool unhex(const char *s, unsigned char *out, size_t max, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > max)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return true;
}

pf_kind db_bgp_secret_get(db_conn *c, long long id, unsigned char nonce[24],
                          unsigned char sealed[DB_BGP_SEALED_MAX], size_t *len, bool *found,
                          pf_err *err)
{
    char b[24], nb[24];
    const char *p[2] = {db_fmt_ll(b, id), db_scope_param(c, nb)};
    PGresult *r = db_exec(c, &secret_get, p, err);
    if (r == NULL)
        return err->kind;
    *found = PQntuples(r) == 1;
    size_t nl = 0;
    bool ok = !*found || (unhex(db_val(r, 0, 0), nonce, 24, &nl) && nl == 24 &&
                          unhex(db_val(r, 0, 1), sealed, DB_BGP_SEALED_MAX, len));
    PQclear(r);
    if (!ok)
        return pf_fail(err, PF_EINTERNAL, "bad_secret_row", NULL,
                       "the stored secret of request %lld is unreadable", id);
    return PF_OK;
}

pf_kind db_bgp_session(db_conn *c, long long id, json_t **out, pf_err *err)
{
    char b[24], nb[24];
    const char *p[2] = {db_fmt_ll(b, id), db_scope_param(c, nb)};
    return exec_json(c, &session, p, out, "unknown_request",
                     "no such request (or it is not visible to your network)", err);
}
