/* db_prov: see provision.h. */
#include "db/provision.h"

#include <jansson.h>

#include "db/audit.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- jobs */

static const db_stmt job_claim = {
    "pf_prov_job_claim",
    "UPDATE jobs SET state = 'running', locked_by = $1, locked_at = now(),"
    " attempts = attempts + 1"
    " WHERE id = (SELECT id FROM jobs"
    "   WHERE (state = 'queued' AND run_after <= now())"
    "      OR (state = 'running' AND locked_at < now() - make_interval(secs => $2))"
    "   ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING id, request_id, kind, attempts,"
    "   (extract(epoch FROM now() - created_at) * 1000)::bigint",
    2};

static const db_stmt job_finish = {
    "pf_prov_job_finish",
    "UPDATE jobs SET state = $3, last_error = $4, finished_at = now(),"
    " locked_by = NULL, locked_at = NULL"
    " WHERE id = $1 AND locked_by = $2 AND state = 'running' RETURNING id",
    4};

static const db_stmt job_defer = {
    "pf_prov_job_defer",
    "UPDATE jobs SET state = 'queued', last_error = $4, locked_by = NULL, locked_at = NULL,"
    " run_after = now() + make_interval(secs => $3::double precision / 1000)"
    " WHERE id = $1 AND locked_by = $2 AND state = 'running' RETURNING id",
    4};

static const db_stmt job_renew = {
    "pf_prov_job_renew",
    "UPDATE jobs SET locked_at = now()"
    " WHERE id = $1 AND locked_by = $2 AND state = 'running' RETURNING id",
    2};

pf_kind db_prov_job_claim(db_conn *c, const char *worker, int lease_s, db_prov_job *job,
                          pf_err *err)
{
    char b[24];
    const char *p[2] = {worker, db_fmt_ll(b, lease_s)};
    memset(job, 0, sizeof *job);
    PGresult *r = db_exec(c, &job_claim, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) == 1) {
        job->id = db_ll(r, 0, 0);
        job->request_id = db_ll(r, 0, 1);
        snprintf(job->kind, sizeof job->kind, "%s", db_val(r, 0, 2));
        job->attempts = (int)db_ll(r, 0, 3);
        job->age_ms = db_ll(r, 0, 4);
    }
    PQclear(r);
    return PF_OK;
}

pf_kind db_prov_job_finish(db_conn *c, long long job_id, const char *worker, bool ok,
                           const char *error, bool *owned, pf_err *err)
{
    char b[24];
    const char *p[4] = {db_fmt_ll(b, job_id), worker, ok ? "done" : "failed", error};
    PGresult *r = db_exec(c, &job_finish, p, err);
    if (r == NULL)
        return err->kind;
    if (owned)
        *owned = PQntuples(r) == 1;
    PQclear(r);
    return PF_OK;
}

pf_kind db_prov_job_renew(db_conn *c, long long job_id, const char *worker, bool *owned,
                          pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, job_id), worker};
    PGresult *r = db_exec(c, &job_renew, p, err);
    if (r == NULL)
        return err->kind;
    *owned = PQntuples(r) == 1;
    PQclear(r);
    return PF_OK;
}

pf_kind db_prov_job_defer(db_conn *c, long long job_id, const char *worker, int delay_ms,
                          const char *error, bool *owned, pf_err *err)
{
    char b[24], d[24];
    const char *p[4] = {db_fmt_ll(b, job_id), worker, db_fmt_ll(d, delay_ms), error};
    PGresult *r = db_exec(c, &job_defer, p, err);
    if (r == NULL)
        return err->kind;
    if (owned)
        *owned = PQntuples(r) == 1;
    PQclear(r);
    return PF_OK;
}

/* ------------------------------------------------------------ requests */

static const db_stmt request_get = {
    "pf_prov_request_get",
    "SELECT r.id, r.state,"
    " ap.id, ap.switch_id, ap.ofport, coalesce(r.requester_vlan, 0), ap.mode = 'trunk', ap.name,"
    " bp.id, bp.switch_id, bp.ofport, coalesce(r.peer_vlan, 0), bp.mode = 'trunk', bp.name,"
    " coalesce(r.bandwidth_mbps, 0)"
    " FROM peering_requests r"
    " JOIN ports ap ON ap.id = r.requester_port_id"
    " LEFT JOIN ports bp ON bp.id = r.peer_port_id"
    " WHERE r.id = $1",
    1};

static void read_end(const PGresult *r, int col, db_prov_end *e)
{
    memset(e, 0, sizeof *e);
    e->port_id = db_ll(r, 0, col);
    e->switch_id = db_ll(r, 0, col + 1);
    e->ofport = db_ll(r, 0, col + 2);
    e->vlan = (int)db_ll(r, 0, col + 3);
    e->trunk = db_bool(r, 0, col + 4);
    snprintf(e->name, sizeof e->name, "%s", db_val(r, 0, col + 5) ? db_val(r, 0, col + 5) : "");
}

pf_kind db_prov_request_get(db_conn *c, long long request_id, db_prov_request *out,
                            pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, request_id)};
    PGresult *r = db_exec_one(c, &request_get, p, "unknown_request", "no such request", err);
    if (r == NULL)
        return err->kind;
    memset(out, 0, sizeof *out);
    out->id = db_ll(r, 0, 0);
    snprintf(out->state, sizeof out->state, "%s", db_val(r, 0, 1));
    read_end(r, 2, &out->a);
    read_end(r, 8, &out->b);
    out->bandwidth_mbps = (int)db_ll(r, 0, 14);
    PQclear(r);
    return PF_OK;
}

/* -------------------------------------------------------------- fabric */

static const db_stmt links_all = {
    "pf_prov_links",
    "SELECT id, a_switch_id, a_port, b_switch_id, b_port FROM links ORDER BY id", 0};

pf_kind db_prov_links(db_conn *c, db_prov_link **out, size_t *n, pf_err *err)
{
    *out = NULL;
    *n = 0;
    PGresult *r = db_exec(c, &links_all, NULL, err);
    if (r == NULL)
        return err->kind;
    int rows = PQntuples(r);
    db_prov_link *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
    if (v == NULL) {
        PQclear(r);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
        v[i].id = db_ll(r, i, 0);
        v[i].a_switch = db_ll(r, i, 1);
        v[i].a_port = db_ll(r, i, 2);
        v[i].b_switch = db_ll(r, i, 3);
        v[i].b_port = db_ll(r, i, 4);
    }
    PQclear(r);
    *out = v;
    *n = (size_t)rows;
    return PF_OK;
}

static const db_stmt switches_all = {
    "pf_prov_switches",
    "SELECT id, name, dpid, coalesce(endpoint, ''), reconcile_requested_at IS NOT NULL,"
    " coalesce(cert_sha256, '')"
    " FROM switches ORDER BY id",
    0};

pf_kind db_prov_switches(db_conn *c, db_prov_switch **out, size_t *n, pf_err *err)
{
    *out = NULL;
    *n = 0;
    PGresult *r = db_exec(c, &switches_all, NULL, err);
    if (r == NULL)
        return err->kind;
    int rows = PQntuples(r);
    db_prov_switch *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
    if (v == NULL) {
        PQclear(r);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
        v[i].id = db_ll(r, i, 0);
        snprintf(v[i].name, sizeof v[i].name, "%s", db_val(r, i, 1));
        snprintf(v[i].dpid, sizeof v[i].dpid, "%s", db_val(r, i, 2));
        snprintf(v[i].endpoint, sizeof v[i].endpoint, "%s", db_val(r, i, 3));
        v[i].reconcile_requested = db_bool(r, i, 4);
        snprintf(v[i].cert_sha256, sizeof v[i].cert_sha256, "%s", db_val(r, i, 5));
    }
    PQclear(r);
    *out = v;
    *n = (size_t)rows;
    return PF_OK;
}

static const db_stmt switch_state = {
    "pf_prov_switch_state",
    "UPDATE switches SET conn_state = $2, conn_error = $3,"
    " conn_changed_at = CASE WHEN conn_state IS DISTINCT FROM $2 OR conn_changed_at IS NULL"
    "                   THEN now() ELSE conn_changed_at END"
    " WHERE id = $1 AND (conn_state IS DISTINCT FROM $2 OR conn_error IS DISTINCT FROM $3)",
    3};

pf_kind db_prov_switch_state(db_conn *c, long long switch_id, const char *state,
                             const char *error, pf_err *err)
{
    char b[24];
    const char *p[3] = {db_fmt_ll(b, switch_id), state, error};
    PGresult *r = db_exec(c, &switch_state, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

static const db_stmt switch_reconcile_set = {
    "pf_prov_switch_reconcile_set",
    "UPDATE switches SET reconcile_requested_at = CASE WHEN $2 THEN now() END WHERE id = $1",
    2};

pf_kind db_prov_switch_reconcile_flag(db_conn *c, long long switch_id, bool request,
                                      pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, switch_id), request ? "true" : "false"};
    PGresult *r = db_exec(c, &switch_reconcile_set, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

static const db_stmt switch_lock = {
    "pf_prov_switch_lock", "SELECT pg_advisory_lock(20550, ($1::bigint % 2147483647)::int)", 1};
static const db_stmt switch_unlock = {
    "pf_prov_switch_unlock", "SELECT pg_advisory_unlock(20550, ($1::bigint % 2147483647)::int)",
    1};

pf_kind db_prov_switch_lock(db_conn *c, long long switch_id, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, switch_id)};
    PGresult *r = db_exec(c, &switch_lock, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_prov_switch_unlock(db_conn *c, long long switch_id, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, switch_id)};
    PGresult *r = db_exec(c, &switch_unlock, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

/* ------------------------------------------------------------ circuits */

static const db_stmt circuit_create = {
    "pf_prov_circuit_create",
    "INSERT INTO circuits (request_id) VALUES ($1) ON CONFLICT (request_id) DO NOTHING", 1};

static const db_stmt circuit_lock = {
    "pf_prov_circuit_lock",
    "SELECT c.id, c.request_id, c.state, coalesce(c.error, ''),"
    " (SELECT count(*) FROM flows f WHERE f.circuit_id = c.id)"
    " FROM circuits c WHERE c.request_id = $1 FOR UPDATE OF c",
    1};

pf_kind db_prov_circuit_lock(db_conn *c, long long request_id, bool create,
                             db_prov_circuit *out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, request_id)};
    memset(out, 0, sizeof *out);
    if (create) {
        PGresult *r = db_exec(c, &circuit_create, p, err);
        if (r == NULL)
            return err->kind;
        PQclear(r);
    }
    PGresult *r = db_exec(c, &circuit_lock, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) == 1) {
        out->id = db_ll(r, 0, 0);
        out->request_id = db_ll(r, 0, 1);
        snprintf(out->state, sizeof out->state, "%s", db_val(r, 0, 2));
        snprintf(out->error, sizeof out->error, "%s", db_val(r, 0, 3));
        out->n_flows = (int)db_ll(r, 0, 4);
    }
    PQclear(r);
    return PF_OK;
}

static const db_stmt circuit_set = {
    "pf_prov_circuit_set",
    "UPDATE circuits SET state = $2, path = coalesce($3::jsonb, path), error = $4,"
    " updated_at = now(),"
    " installed_at = CASE WHEN $2 = 'installed' THEN now() ELSE installed_at END,"
    " attempts = attempts + CASE WHEN $2 = 'installing' AND state <> 'installing'"
    "                        THEN 1 ELSE 0 END"
    " WHERE id = $1",
    4};

pf_kind db_prov_circuit_set(db_conn *c, long long circuit_id, const char *state,
                            const char *path_json, const char *error, pf_err *err)
{
    char b[24];
    const char *p[4] = {db_fmt_ll(b, circuit_id), state, path_json, error};
    PGresult *r = db_exec(c, &circuit_set, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

static const db_stmt link_vlan_held = {
    "pf_prov_link_vlan_held",
    "SELECT vlan FROM link_vlans WHERE link_id = $1 AND circuit_id = $2", 2};

static const db_stmt link_vlan_claim = {
    "pf_prov_link_vlan_claim",
    "INSERT INTO link_vlans (link_id, vlan, circuit_id)"
    " SELECT $1, v, $2 FROM generate_series(2, 4094) v"
    " WHERE NOT EXISTS (SELECT 1 FROM link_vlans l WHERE l.link_id = $1 AND l.vlan = v)"
    " ORDER BY v LIMIT 1 RETURNING vlan",
    2};

pf_kind db_prov_link_vlan(db_conn *c, long long link_id, long long circuit_id, int *vlan,
                          pf_err *err)
{
    char b1[24], b2[24];
    const char *p[2] = {db_fmt_ll(b1, link_id), db_fmt_ll(b2, circuit_id)};
    PGresult *r = db_exec(c, &link_vlan_held, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) > 0) {
        *vlan = (int)db_ll(r, 0, 0);
        PQclear(r);
        return PF_OK;
    }
    PQclear(r);
    r = db_exec(c, &link_vlan_claim, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return pf_fail(err, PF_ECONFLICT, "link_full", NULL,
                       "every transport VLAN (2-4094) on link %lld is in use: add a link",
                       link_id);
    }
    *vlan = (int)db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

static const db_stmt release_flows = {
    "pf_prov_release_flows", "DELETE FROM flows WHERE circuit_id = $1", 1};
static const db_stmt release_vlans = {
    "pf_prov_release_vlans", "DELETE FROM link_vlans WHERE circuit_id = $1", 1};
static const db_stmt release_meters = {
    "pf_prov_release_meters", "DELETE FROM circuit_meters WHERE circuit_id = $1", 1};

pf_kind db_prov_release(db_conn *c, long long circuit_id, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, circuit_id)};
    PGresult *r = db_exec(c, &release_flows, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    r = db_exec(c, &release_vlans, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    r = db_exec(c, &release_meters, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

/* --------------------------------------------------------------- flows */

static const db_stmt flow_insert = {
    "pf_prov_flow_insert",
    "INSERT INTO flows (circuit_id, switch_id, table_id, priority, match, actions, cookie)"
    " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)",
    7};

pf_kind db_prov_flow_insert(db_conn *c, const db_prov_flow *f, pf_err *err)
{
    char b[5][24];
    const char *p[7] = {db_fmt_ll(b[0], f->circuit_id), db_fmt_ll(b[1], f->switch_id),
                        db_fmt_ll(b[2], f->table_id),   db_fmt_ll(b[3], f->priority),
                        f->match,                       f->actions,
                        db_fmt_ll(b[4], f->cookie)};
    PGresult *r = db_exec(c, &flow_insert, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

#define FLOW_COLS "f.id, f.circuit_id, f.switch_id, f.cookie, f.table_id, f.priority," \
                  " f.match::text, f.actions::text"

static const db_stmt flows_of_circuit = {
    "pf_prov_flows_of_circuit",
    "SELECT " FLOW_COLS " FROM flows f WHERE f.circuit_id = $1 ORDER BY f.switch_id, f.id", 1};

static const db_stmt desired_flows = {
    "pf_prov_desired_flows",
    "SELECT " FLOW_COLS " FROM flows f JOIN circuits c ON c.id = f.circuit_id"
    " WHERE f.switch_id = $1 AND c.state IN ('planned', 'installing', 'installed')"
    " ORDER BY f.id",
    1};

static pf_kind read_flows(PGresult *r, db_prov_flow **out, size_t *n, pf_err *err)
{
    *out = NULL;
    *n = 0;
    if (r == NULL)
        return err->kind;
    int rows = PQntuples(r);
    db_prov_flow *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
    if (v == NULL) {
        PQclear(r);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
        v[i].id = db_ll(r, i, 0);
        v[i].circuit_id = db_ll(r, i, 1);
        v[i].switch_id = db_ll(r, i, 2);
        v[i].cookie = db_ll(r, i, 3);
        v[i].table_id = (int)db_ll(r, i, 4);
        v[i].priority = (int)db_ll(r, i, 5);
        v[i].match = strdup(db_val(r, i, 6));
        v[i].actions = strdup(db_val(r, i, 7));
        if (v[i].match == NULL || v[i].actions == NULL) {
            db_prov_flows_free(v, (size_t)i + 1);
            PQclear(r);
            return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        }
    }
    PQclear(r);
    *out = v;
    *n = (size_t)rows;
    return PF_OK;
}

pf_kind db_prov_flows_of_circuit(db_conn *c, long long circuit_id, db_prov_flow **out,
                                 size_t *n, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, circuit_id)};
    return read_flows(db_exec(c, &flows_of_circuit, p, err), out, n, err);
}

pf_kind db_prov_desired_flows(db_conn *c, long long switch_id, db_prov_flow **out, size_t *n,
                              pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, switch_id)};
    return read_flows(db_exec(c, &desired_flows, p, err), out, n, err);
}

/* Unordered (no sort to wait for: the first rows come while the server
 * still reads the rest) and without the columns the reconcile knows. */
static const db_stmt desired_flows_stream = {
    "pf_prov_desired_flows_stream",
    "SELECT f.cookie, f.table_id, f.priority, f.match::text, f.actions::text"
    " FROM flows f JOIN circuits c ON c.id = f.circuit_id"
    " WHERE f.switch_id = $1 AND c.state IN ('planned', 'installing', 'installed')",
    1};

struct each_ctx {
    long long switch_id;
    int (*fn)(void *arg, const db_prov_flow *f);
    void *arg;
};

static int each_row(void *arg, const PGresult *r)
{
    struct each_ctx *x = arg;
    db_prov_flow f = {.switch_id = x->switch_id,
                      .cookie = db_ll(r, 0, 0),
                      .table_id = (int)db_ll(r, 0, 1),
                      .priority = (int)db_ll(r, 0, 2),
                      .match = (char *)db_val(r, 0, 3),
                      .actions = (char *)db_val(r, 0, 4)};
    return x->fn(x->arg, &f);
}

pf_kind db_prov_desired_flows_each(db_conn *c, long long switch_id,
                                   int (*fn)(void *arg, const db_prov_flow *f), void *arg,
                                   pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, switch_id)};
    struct each_ctx x = {switch_id, fn, arg};
    return db_exec_each(c, &desired_flows_stream, p, each_row, &x, err);
}

void db_prov_flows_free(db_prov_flow *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].match);
        free(v[i].actions);
    }
    free(v);
}

/* -------------------------------------------------------------- meters */

#define METER_COLS "m.circuit_id, m.end_side, m.switch_id, m.meter_id, m.rate_kbps, m.burst_kbits"

static const db_stmt meter_held = {
    "pf_prov_meter_held",
    "SELECT " METER_COLS " FROM circuit_meters m WHERE m.circuit_id = $1 AND m.end_side = $2",
    2};

/* The lowest free tagged id on the switch; a concurrent claim of the same
 * id fails on circuit_meters_switch_meter_key (retry the transaction). */
static const db_stmt meter_claim = {
    "pf_prov_meter_claim",
    "INSERT INTO circuit_meters AS m (circuit_id, end_side, switch_id, meter_id, rate_kbps,"
    " burst_kbits)"
    " SELECT $1, $2, $3, x'50460000'::bigint + n, $4, $5 FROM generate_series(1, 65535) n"
    " WHERE NOT EXISTS (SELECT 1 FROM circuit_meters o WHERE o.switch_id = $3"
    "                   AND o.meter_id = x'50460000'::bigint + n)"
    " ORDER BY n LIMIT 1 RETURNING " METER_COLS,
    5};

static const db_stmt meter_rerate = {
    "pf_prov_meter_rerate",
    "UPDATE circuit_meters m SET rate_kbps = $3, burst_kbits = $4"
    " WHERE m.circuit_id = $1 AND m.end_side = $2 RETURNING " METER_COLS,
    4};

static const db_stmt meters_of_circuit = {
    "pf_prov_meters_of_circuit",
    "SELECT " METER_COLS " FROM circuit_meters m WHERE m.circuit_id = $1 ORDER BY m.end_side",
    1};

static const db_stmt desired_meters = {
    "pf_prov_desired_meters",
    "SELECT " METER_COLS " FROM circuit_meters m JOIN circuits c ON c.id = m.circuit_id"
    " WHERE m.switch_id = $1 AND c.state IN ('planned', 'installing', 'installed')"
    " ORDER BY m.meter_id",
    1};

static void read_meter(const PGresult *r, int i, db_prov_meter *m)
{
    memset(m, 0, sizeof *m);
    m->circuit_id = db_ll(r, i, 0);
    m->end_side = db_val(r, i, 1)[0];
    m->switch_id = db_ll(r, i, 2);
    m->meter_id = db_ll(r, i, 3);
    m->rate_kbps = db_ll(r, i, 4);
    m->burst_kbits = db_ll(r, i, 5);
}

pf_kind db_prov_meter_claim(db_conn *c, long long circuit_id, char end_side, long long switch_id,
                            long long rate_kbps, long long burst_kbits, db_prov_meter *out,
                            pf_err *err)
{
    char b1[24], b3[24], b4[24], b5[24], side[2] = {end_side, '\0'};
    const char *p[5] = {db_fmt_ll(b1, circuit_id), side, db_fmt_ll(b3, switch_id),
                        db_fmt_ll(b4, rate_kbps), db_fmt_ll(b5, burst_kbits)};
    PGresult *r = db_exec(c, &meter_held, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) > 0) {
        read_meter(r, 0, out);
        PQclear(r);
        if (out->switch_id == switch_id)
            return PF_OK; /* a re-run keeps its meter */
        return pf_fail(err, PF_ECONFLICT, "meter_moved", NULL,
                       "the circuit's meter is on another switch: release the circuit first");
    }
    PQclear(r);
    r = db_exec(c, &meter_claim, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return pf_fail(err, PF_ECONFLICT, "meters_full", NULL,
                       "the switch has no free peerflow meter id (65535 in use)");
    }
    read_meter(r, 0, out);
    PQclear(r);
    return PF_OK;
}

pf_kind db_prov_meter_rerate(db_conn *c, long long circuit_id, long long rate_kbps,
                             long long burst_kbits, db_prov_meter *out, size_t cap, size_t *n,
                             pf_err *err)
{
    *n = 0;
    static const char sides[] = "ab";
    for (int i = 0; i < 2; i++) {
        char b1[24], b3[24], b4[24], side[2] = {sides[i], '\0'};
        const char *p[4] = {db_fmt_ll(b1, circuit_id), side, db_fmt_ll(b3, rate_kbps),
                            db_fmt_ll(b4, burst_kbits)};
        PGresult *r = db_exec(c, &meter_rerate, p, err);
        if (r == NULL)
            return err->kind;
        if (PQntuples(r) > 0 && *n < cap)
            read_meter(r, 0, &out[(*n)++]);
        PQclear(r);
    }
    return PF_OK;
}

static pf_kind read_meters(PGresult *r, db_prov_meter **out, size_t *n, pf_err *err)
{
    *out = NULL;
    *n = 0;
    if (r == NULL)
        return err->kind;
    int rows = PQntuples(r);
    db_prov_meter *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
    if (v == NULL) {
        PQclear(r);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (int i = 0; i < rows; i++)
        read_meter(r, i, &v[i]);
    PQclear(r);
    *out = v;
    *n = (size_t)rows;
    return PF_OK;
}

pf_kind db_prov_meters_of_circuit(db_conn *c, long long circuit_id, db_prov_meter **out,
                                  size_t *n, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, circuit_id)};
    return read_meters(db_exec(c, &meters_of_circuit, p, err), out, n, err);
}

pf_kind db_prov_desired_meters(db_conn *c, long long switch_id, db_prov_meter **out, size_t *n,
                               pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, switch_id)};
    return read_meters(db_exec(c, &desired_meters, p, err), out, n, err);
}

/* ------------------------------------------------------- TLS refusals */

pf_kind db_prov_audit_refusal(db_conn *c, long long switch_id, const char *dpid,
                              const char *presented, const char *reason, pf_err *err)
{
    char ids[24], after[900];
    snprintf(ids, sizeof ids, "%lld", switch_id);
    json_t *a = json_pack("{s:s, s:s, s:s}", "dpid", dpid, "presented_sha256",
                          presented && *presented ? presented : "(none: not TLS)", "reason",
                          reason);
    char *text = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(a);
    snprintf(after, sizeof after, "%s", text ? text : "{}");
    free(text);
    db_audit_event ev = {.actor_kind = "system",
                         .actor_label = "provisioner",
                         .action = "switch.connection_refused",
                         .object_type = "switch",
                         .object_id = ids,
                         .after = after};
    return db_audit_append(c, &ev, err);
}
