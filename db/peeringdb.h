/* db_pdb: what the PeeringDB import reads and writes (docs/peeringdb.md,
 * migrations/0011_peering_api.sql). All functions run inside the
 * caller's transaction. */
#ifndef DB_PEERINGDB_H
#define DB_PEERINGDB_H

#include <jansson.h>
#include <stdbool.h>

#include "db/db.h"

/* The network with asn as the import compares it: {"id", "asn", "name",
 * "policy", "irr_as_set", "max_prefix4", "max_prefix6", "contacts": [..],
 * "pinned": [..], "peeringdb_net_id", "auto_approve"}; *out NULL when
 * there is none. lock: FOR UPDATE (the import holds it to its commit). */
pf_kind db_pdb_network(db_conn *c, long long asn, bool lock, json_t **out, pf_err *err);

/* Writes the fields of v (an object like db_pdb_network's) to network id. */
pf_kind db_pdb_network_set(db_conn *c, long long id, const json_t *v, pf_err *err);

/* Replaces the pins of network id (pins: a JSON array of field names). */
pf_kind db_pdb_pins_set(db_conn *c, long long id, const json_t *pins, pf_err *err);

/* Every network here: [{"asn", "net_id"}] (net_id null when not linked). */
pf_kind db_pdb_networks(db_conn *c, json_t **out, pf_err *err);

/* The sync's cursor (Unix time, 0 before the first sync). */
pf_kind db_pdb_since(db_conn *c, long long *since, pf_err *err);
pf_kind db_pdb_since_set(db_conn *c, long long since, pf_err *err);

#endif
