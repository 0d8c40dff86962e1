/* db_papi: the reads of the IETF Peering API (docs/peering-api.md). A
 * session is a peering request seen from one of its two networks
 * (pf_papi_session in migrations/0011_peering_api.sql). All functions run
 * inside the caller's transaction or read and filter on the acting
 * network (db_scope_param) besides row-level security. */
#ifndef DB_PEERING_API_H
#define DB_PEERING_API_H

#include <jansson.h>
#include <stdbool.h>

#include "db/db.h"

/* The sessions between network me and network other, oldest first, from
 * offset, at most limit (+1 so the caller can tell whether there are
 * more). *out is a JSON array; caller decrefs. */
pf_kind db_papi_sessions(db_conn *c, long long me, long long other, long long offset, int limit,
                         json_t **out, pf_err *err);

/* One session by its id (a canonical UUID) or by request id (uuid NULL),
 * as me sees it. PF_ENOTFOUND "unknown_session" when there is none that
 * me is a party of. Sets *request_id. Caller decrefs *out. */
pf_kind db_papi_session(db_conn *c, long long me, const char *uuid, long long request_id,
                        json_t **out, long long *request_id_out, pf_err *err);

/* The ports of network me usable for a new private interconnect: trunk
 * ports, and access ports no live request holds. [{"name", "mode"}]. */
pf_kind db_papi_free_ports(db_conn *c, long long me, json_t **out, pf_err *err);

/* The session id of a live request between me and other that holds me's
 * port port_name on me's side; *found false when there is none. uuid gets
 * 37 bytes. */
pf_kind db_papi_live_duplicate(db_conn *c, long long me, long long other, const char *port_name,
                               bool *found, char uuid[37], pf_err *err);

#endif
