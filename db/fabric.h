/* db_fabric: switches, inter-switch links and member ports.
 * All functions run inside the caller's transaction. */
#ifndef DB_FABRIC_H
#define DB_FABRIC_H

#include <stdbool.h>

#include "db/db.h"

typedef struct {
    long long id;
    char name[64];
    char dpid[17];      /* 16 lowercase hex digits */
    char endpoint[256]; /* "" when the switch connects to us */
    char conn_state[16];
    char cert_sha256[65]; /* pinned TLS certificate (64 hex digits), "" for none */
} db_switch;

typedef struct {
    long long id;
    long long network_id;
    long long switch_id;
    long long ofport;
    char name[64];
    char mode[8];        /* "access" or "trunk" */
    int speed_mbps;      /* 0 when unknown */
} db_port;

pf_kind db_switch_insert(db_conn *c, const db_switch *s, long long *id, pf_err *err);
/* PF_ENOTFOUND "unknown_switch". */
pf_kind db_switch_by_name(db_conn *c, const char *name, db_switch *out, pf_err *err);

pf_kind db_link_insert(db_conn *c, long long a_switch, long long a_port, long long b_switch,
                       long long b_port, long long *id, pf_err *err);

pf_kind db_port_insert(db_conn *c, const db_port *p, long long *id, pf_err *err);
/* The port of network_id named name; PF_ENOTFOUND "unknown_port". */
pf_kind db_port_by_name(db_conn *c, long long network_id, const char *name, db_port *out,
                        pf_err *err);
/* All ports of a network, by name: *out is malloc'd (caller frees, also
 * when *n is 0), *n gets how many. */
pf_kind db_ports_of_network_all(db_conn *c, long long network_id, db_port **out, int *n,
                                pf_err *err);
pf_kind db_port_by_id(db_conn *c, long long id, db_port *out, pf_err *err);

#endif
