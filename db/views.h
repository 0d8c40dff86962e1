/* db_views: read models for pages and the API, built as JSON by
 * PostgreSQL in one query each. Inside the caller's transaction; row-level
 * security decides what the acting party sees. New references; caller
 * json_decref()s. */
#ifndef DB_VIEWS_H
#define DB_VIEWS_H

#include <jansson.h>

#include "db/db.h"

/* {"waiting": [...], "open": [...], "active": [...]} of request cards, at
 * most 100 each (the request list has them all). network_id 0
 * (operators): waiting = failed requests. */
pf_kind db_dashboard_json(db_conn *c, long long network_id, json_t **out, pf_err *err);

/* [{"asn","name","policy","auto_approve","ports":[{"name","switch","mode","speed_mbps"}]}] */
pf_kind db_networks_json(db_conn *c, json_t **out, pf_err *err);

/* {"switches": [...], "links": [...], "ports": [...]} for operators. */
pf_kind db_fabric_json(db_conn *c, json_t **out, pf_err *err);

/* {"port name": [VLANs reserved on it, ascending]} for every port of the
 * network (0: untagged, an access port in use). */
pf_kind db_port_vlans_json(db_conn *c, long long network_id, json_t **out, pf_err *err);

/* Operational gauges for /metrics: {"requests_by_state": {"pending": N...},
 * "outbox_pending": N, "outbox_dead": N, "jobs_pending": N, "switches": {"s1": "connected"},
 * "masters": {"s1": "worker holding a live mastership lease"}}. */
pf_kind db_gauges_json(db_conn *c, json_t **out, pf_err *err);

#endif
