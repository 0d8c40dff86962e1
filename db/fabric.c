/* db_fabric: see fabric.h. */
#include "db/fabric.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt ins_switch = {
    "pf_switch_insert",
    "INSERT INTO switches (name, dpid, endpoint, cert_sha256) VALUES ($1, $2, $3, $4)"
    " RETURNING id",
    4};
static const db_stmt switch_by_name = {
    "pf_switch_by_name",
    "SELECT id, name, dpid, endpoint, conn_state FROM switches WHERE name = $1", 1};
static const db_stmt ins_link = {
    "pf_link_insert",
    "INSERT INTO links (a_switch_id, a_port, b_switch_id, b_port) VALUES ($1, $2, $3, $4)"
    " RETURNING id",
    4};
static const db_stmt ins_port = {
    "pf_port_insert",
    "INSERT INTO ports (network_id, switch_id, ofport, name, mode, speed_mbps)"
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    6};

#define PORT_COLS "id, network_id, switch_id, ofport, name, mode, speed_mbps"
static const db_stmt port_by_name = {
    "pf_port_by_name", "SELECT " PORT_COLS " FROM ports WHERE network_id = $1 AND name = $2", 2};
static const db_stmt port_by_id = {
    "pf_port_by_id", "SELECT " PORT_COLS " FROM ports WHERE id = $1", 1};

static const db_stmt ports_of_network = {
    "pf_ports_of_network",
    "SELECT " PORT_COLS " FROM ports WHERE network_id = $1 ORDER BY name LIMIT $2", 2};

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static pf_kind returning_id(PGresult *r, long long *id, pf_err *err)
{
    if (r == NULL)
        return err->kind;
    *id = db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

pf_kind db_switch_insert(db_conn *c, const db_switch *s, long long *id, pf_err *err)
{
    const char *p[4] = {s->name, s->dpid, s->endpoint[0] ? s->endpoint : NULL,
                        s->cert_sha256[0] ? s->cert_sha256 : NULL};
    return returning_id(db_exec(c, &ins_switch, p, err), id, err);
}

pf_kind db_switch_by_name(db_conn *c, const char *name, db_switch *out, pf_err *err)
{
    const char *p[1] = {name};
    PGresult *r = db_exec(c, &switch_by_name, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return pf_fail(err, PF_ENOTFOUND, "unknown_switch", "switch",
                       "no switch named '%s': list them with peerflow report switches", name);
    }
    memset(out, 0, sizeof *out);
    out->id = db_ll(r, 0, 0);
    copy(out->name, sizeof out->name, db_val(r, 0, 1));
    copy(out->dpid, sizeof out->dpid, db_val(r, 0, 2));
    copy(out->endpoint, sizeof out->endpoint, db_val(r, 0, 3));
    copy(out->conn_state, sizeof out->conn_state, db_val(r, 0, 4));
    PQclear(r);
    return PF_OK;
}

pf_kind db_link_insert(db_conn *c, long long a_switch, long long a_port, long long b_switch,
                       long long b_port, long long *id, pf_err *err)
{
    char b1[24], b2[24], b3[24], b4[24];
    const char *p[4] = {db_fmt_ll(b1, a_switch), db_fmt_ll(b2, a_port),
                        db_fmt_ll(b3, b_switch), db_fmt_ll(b4, b_port)};
    return returning_id(db_exec(c, &ins_link, p, err), id, err);
}

pf_kind db_port_insert(db_conn *c, const db_port *pt, long long *id, pf_err *err)
{
    char b1[24], b2[24], b3[24], b4[24];
    const char *p[6] = {db_fmt_ll(b1, pt->network_id), db_fmt_ll(b2, pt->switch_id),
                        db_fmt_ll(b3, pt->ofport), pt->name, pt->mode,
                        db_fmt_id(b4, pt->speed_mbps)};
    return returning_id(db_exec(c, &ins_port, p, err), id, err);
}

static void port_from_row(const PGresult *r, int row, db_port *out)
{
    memset(out, 0, sizeof *out);
    out->id = db_ll(r, row, 0);
    out->network_id = db_ll(r, row, 1);
    out->switch_id = db_ll(r, row, 2);
    out->ofport = db_ll(r, row, 3);
    copy(out->name, sizeof out->name, db_val(r, row, 4));
    copy(out->mode, sizeof out->mode, db_val(r, row, 5));
    out->speed_mbps = (int)db_ll(r, row, 6);
}

pf_kind db_ports_of_network_all(db_conn *c, long long network_id, db_port **out, int *n,
                                pf_err *err)
{
    char b[24];
    /* LIMIT NULL is no limit */
    const char *p[2] = {db_fmt_ll(b, network_id), NULL};
    *out = NULL;
    *n = 0;
    PGresult *r = db_exec(c, &ports_of_network, p, err);
    if (r == NULL)
        return err->kind;
    int rows = PQntuples(r);
    db_port *ports = calloc(rows > 0 ? (size_t)rows : 1, sizeof *ports);
    if (ports == NULL) {
        PQclear(r);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (int i = 0; i < rows; i++)
        port_from_row(r, i, &ports[i]);
    PQclear(r);
    *out = ports;
    *n = rows;
    return PF_OK;
}

pf_kind db_port_by_name(db_conn *c, long long network_id, const char *name, db_port *out,
                        pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, network_id), name};
    PGresult *r = db_exec(c, &port_by_name, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return pf_fail(err, PF_ENOTFOUND, "unknown_port", "port",
                       "the network has no port named '%s'", name);
    }
    port_from_row(r, 0, out);
    PQclear(r);
    return PF_OK;
}

pf_kind db_port_by_id(db_conn *c, long long id, db_port *out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, id)};
    PGresult *r = db_exec_one(c, &port_by_id, p, "unknown_port", "no such port", err);
    if (r == NULL)
        return err->kind;
    port_from_row(r, 0, out);
    PQclear(r);
    return PF_OK;
}
