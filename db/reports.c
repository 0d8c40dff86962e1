/* db_reports: see reports.h.
 *
 * A view name cannot be a query parameter, so the name the user gave is
 * first looked up in the catalog; only a name found there is used, and it
 * is quoted with PQescapeIdentifier. */
#include "db/reports.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt list_reports = {
    "pf_report_list",
    "SELECT c.relname AS name, coalesce(obj_description(c.oid, 'pg_class'), '') AS description"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN report_audience a ON a.name = c.relname"
    " WHERE n.nspname = 'reports' AND c.relkind = 'v'"
    "   AND ($1::bigint IS NULL OR NOT coalesce(a.operators_only, false))"
    " ORDER BY c.relname",
    1};

static const db_stmt find_report = {
    "pf_report_find",
    "SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
    "   AND a.attname = 'request_id' AND NOT a.attisdropped),"
    " coalesce((SELECT operators_only FROM report_audience WHERE name = c.relname), false)"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'reports' AND c.relkind = 'v' AND c.relname = $1",
    1};

static pf_kind to_table(PGresult *r, pf_table **out, pf_err *err)
{
    int nc = PQnfields(r), nr = PQntuples(r);
    pf_table *t = pf_table_new(nc);
    const char **row = calloc((size_t)nc + 1, sizeof *row);
    bool ok = t != NULL && row != NULL;
    for (int c = 0; ok && c < nc; c++)
        ok = pf_table_set_name(t, c, PQfname(r, c));
    for (int i = 0; ok && i < nr; i++) {
        for (int c = 0; c < nc; c++)
            row[c] = db_val(r, i, c);
        ok = pf_table_add_row(t, row);
    }
    free(row);
    PQclear(r);
    if (!ok) {
        pf_table_free(t);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    *out = t;
    return PF_OK;
}

pf_kind db_report_list(db_conn *c, pf_table **out, pf_err *err)
{
    char nb[24];
    const char *p[1] = {db_scope_param(c, nb)};
    PGresult *r = db_exec(c, &list_reports, p, err);
    if (r == NULL)
        return err->kind;
    return to_table(r, out, err);
}

pf_kind db_report_run(db_conn *c, const char *name, long long request_id, pf_table **out,
                      pf_err *err)
{
    const char *p[1] = {name};
    PGresult *r = db_exec(c, &find_report, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return pf_fail(err, PF_ENOTFOUND, "unknown_report", "name",
                       "no report named '%s': see peerflow report list", name);
    }
    bool has_request = db_bool(r, 0, 1);
    char nb[24];
    if (db_bool(r, 0, 2) && db_scope_param(c, nb) != NULL) {
        PQclear(r);
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", "name",
                       "report %s describes the exchange's fabric and is for its operators only",
                       name);
    }
    char *ident = PQescapeIdentifier(c->pg, db_val(r, 0, 0), strlen(db_val(r, 0, 0)));
    PQclear(r);
    if (ident == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    if (request_id > 0 && !has_request) {
        PQfreemem(ident);
        return pf_fail(err, PF_EINVALID, "report_has_no_request", "request",
                       "report %s is not per request: drop --request", name);
    }
    /* The view is read as a subquery so that its own ORDER BY survives
     * the optional filter. A network's per-request report also names the
     * network (row-level security decides it too: isolation twice). */
    static const char head[] = "SELECT * FROM reports.";
    const char *net = db_scope_param(c, nb);
    const char *tail;
    char idb[24];
    const char *params[2];
    int np = 0;
    if (request_id > 0)
        params[np++] = db_fmt_ll(idb, request_id);
    if (has_request && net != NULL)
        params[np++] = net;
    if (request_id > 0 && has_request && net != NULL)
        tail = " v WHERE request_id = $1 AND request_id IN (SELECT id FROM peering_requests"
               " WHERE $2::bigint IN (requester_network_id, peer_network_id))";
    else if (request_id > 0)
        tail = " v WHERE request_id = $1";
    else if (has_request && net != NULL)
        tail = " v WHERE request_id IN (SELECT id FROM peering_requests"
               " WHERE $1::bigint IN (requester_network_id, peer_network_id))";
    else
        tail = " v";
    size_t len = strlen(head) + strlen(ident) + strlen(tail) + 1;
    char *q = malloc(len);
    if (q == NULL) {
        PQfreemem(ident);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    strcpy(q, head);
    strcat(q, ident);
    strcat(q, tail);
    PQfreemem(ident);
    PGresult *res = db_exec_sql(c, q, np, np ? params : NULL, err);
    free(q);
    if (res == NULL)
        return err->kind;
    return to_table(res, out, err);
}
