/* prov_plan: the flows of a circuit, computed without I/O.
 *
 *  - the path: breadth-first search over the inter-switch links (fewest
 *    hops; among equal paths the one through the lowest link ids, so the
 *    same fabric always gives the same path);
 *  - the flows: for each direction and each switch on the path, one flow
 *    that matches the ingress port (+ its VLAN, or untagged) and rewrites
 *    the VLAN to what the egress port wants: push + set_field on
 *    untagged -> tagged, pop on tagged -> untagged, set_field when two
 *    VLANs differ, nothing when they are equal; then output. Access ports
 *    are untagged, trunk ports carry the customer's VLAN, inter-switch
 *    links carry the circuit's transport VLAN of that link. This one rule
 *    gives every circuit kind of docs/fabric.md (same-switch, ingress,
 *    transit, egress; access and trunk ends);
 *  - the JSON form of a flow's match and actions, as stored in the flows
 *    table, and back;
 *  - the cookie scheme: tag 0x5046 ("PF") in the top 16 bits, circuit id
 *    in the low 48.
 */
#ifndef PROV_PLAN_H
#define PROV_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/provision.h"
#include "provisioner/ofp13.h"

#define PROV_COOKIE_TAG 0x5046000000000000ULL
#define PROV_COOKIE_TAG_MASK 0xffff000000000000ULL
#define PROV_COOKIE_ALL 0xffffffffffffffffULL
#define PROV_PRIORITY 1000      /* circuit flows */
#define PROV_MISS_PRIORITY 0    /* the table-miss (drop) flow */
#define PROV_MAX_HOPS 64

/* The cookie of a circuit's flows; circuit 0 is the table-miss flow. */
static inline uint64_t prov_cookie(long long circuit_id)
{
    return PROV_COOKIE_TAG | ((uint64_t)circuit_id & ~PROV_COOKIE_TAG_MASK);
}
/* Whether a cookie found on a switch is peerflow's. */
static inline bool prov_cookie_owned(uint64_t cookie)
{
    return (cookie & PROV_COOKIE_TAG_MASK) == PROV_COOKIE_TAG;
}

/* One link crossed, in the direction of travel. */
typedef struct {
    long long link_id;
    long long from_switch, from_port; /* leaves from_switch by from_port */
    long long to_switch, to_port;     /* enters to_switch by to_port */
    int vlan;                         /* transport VLAN on this link */
} prov_hop;

/* Shortest path from switch `from` to switch `to`. Returns 0 and the hops
 * (0 hops when from == to), -1 when no path exists, -2 when it would
 * need more than cap hops. */
int prov_path(const db_prov_link *links, size_t n_links, long long from, long long to,
              prov_hop *out, size_t cap, size_t *n_hops);

typedef struct {
    long long switch_id;
    long long ofport;
    int vlan; /* customer VLAN on a trunk port; 0 = access (untagged) */
} prov_end;

typedef struct {
    long long switch_id;
    struct ofp_flow flow; /* command ADD, table 0, PROV_PRIORITY, cookie */
} prov_flow;

/* The flows of a circuit from a to b over hops (a's side first), both
 * directions: 2 * (n_hops + 1) flows. Returns 0, or -1 when cap is too
 * small or an input is out of range. */
int prov_plan(const prov_end *a, const prov_end *b, const prov_hop *hops, size_t n_hops,
              uint64_t cookie, prov_flow *out, size_t cap, size_t *n_out);

/* The table-miss flow: table 0, priority 0, match all, no actions (drop),
 * cookie prov_cookie(0). */
void prov_table_miss(struct ofp_flow *f);

/* JSON text of a flow's match ({"in_port": 1, "vlan": 100|"untagged"}) and
 * actions ([{"type": "push_vlan", "ethertype": 33024}, {"type":
 * "set_vlan_vid", "vlan": 100}, {"type": "pop_vlan"}, {"type": "output",
 * "port": 10}]). Caller frees both. Returns 0 or -1 (out of memory). */
int prov_flow_to_json(const struct ofp_flow *f, char **match, char **actions);
/* The reverse; fills f (ofp_flow_init first) with table, priority and
 * cookie given. Returns 0, or -1 with why[] filled. */
int prov_flow_from_json(const char *match, const char *actions, int table_id, int priority,
                        uint64_t cookie, struct ofp_flow *f, char why[128]);
/* The same with jansson alone, slower: the reference prov_flow_from_json
 * falls back to for anything but the plain JSON PostgreSQL prints, and
 * that the tests compare it with. */
int prov_flow_from_json_ref(const char *match, const char *actions, int table_id, int priority,
                            uint64_t cookie, struct ofp_flow *f, char why[128]);

/* Same table, priority, cookie, match and actions (what a switch reports
 * back for a flow peerflow wrote). */
bool prov_flow_same(const struct ofp_flow *a, const struct ofp_flow *b);
/* Same table, priority and match: the same flow entry on a switch. */
bool prov_flow_same_entry(const struct ofp_flow *a, const struct ofp_flow *b);
/* A total order of flow entries: 0 exactly when prov_flow_same_entry. */
int prov_flow_entry_cmp(const struct ofp_flow *a, const struct ofp_flow *b);

/* ---------------------------------------------------------------- meters
 *
 * A circuit with a cap gets one meter per end, on that end's switch
 * (OFPMF_KBPS | OFPMF_BURST | OFPMF_STATS, one DROP band at the cap), and
 * the flow that takes the end's traffic into the fabric carries an
 * OFPIT_METER instruction for it: each side's sending is capped where it
 * enters, before it uses any inter-switch link. */

#define PROV_METER_FLAGS (OFPMF_KBPS | OFPMF_BURST | OFPMF_STATS)

/* The burst of a drop band at rate_kbps: what a TCP sender may put on the
 * wire at once without losing packets to the policer. A policer with a
 * small bucket drops a window's worth of segments at every burst and TCP
 * backs off below the cap; one sized to 500 ms of the rate lets a
 * sender ride close to it (docs/fabric.md: iperf3 through the userspace
 * datapath at 20 Mbit/s gave 18.9 with 200 ms, 19.3 with 500 ms).
 * At least 100 kbit. */
uint32_t prov_meter_burst_kbits(uint32_t rate_kbps);

/* The meter mod that creates (command ADD) or re-rates (MODIFY) a meter. */
void prov_meter_mod(uint16_t command, uint32_t meter_id, uint32_t rate_kbps,
                    uint32_t burst_kbits, struct ofp_meter *m);

/* Puts the meters on the ingress flows of a plan from prov_plan over
 * n_hops: meter_a on a's (flow 0), meter_b on b's (flow n_hops + 1); 0
 * means none. Returns 0, or -1 when the plan has not 2 * (n_hops + 1)
 * flows. */
int prov_plan_meters(prov_flow *flows, size_t n_flows, size_t n_hops, uint32_t meter_a,
                     uint32_t meter_b);

#endif
