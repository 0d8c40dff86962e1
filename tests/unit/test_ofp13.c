/*
 * test_ofp13.c - unit tests of the OpenFlow 1.3 codec (provisioner/ofp13.c).
 *
 * The expected bytes below were written by hand from the OpenFlow 1.3.5
 * specification's structure layouts, not produced by the codec, so a
 * golden test failing means the codec and the spec disagree. The same
 * messages are written to files by `test_ofp13 --write-golden DIR` for
 * tests/unit/ofp13_oracle.sh, which has Open vSwitch decode them as an
 * independent check of both the codec and these arrays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "provisioner/ofp13.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Hand-written wire messages                                                */
/* ------------------------------------------------------------------------ */

/* HELLO, xid 1, version bitmap element offering 1.3 only (bit 4). */
static const uint8_t g_hello[] = {
    0x04, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, /* header */
    0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x10, /* bitmap elem */
};

static const uint8_t g_echo_request[] = {
    0x04, 0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x02, 'p', 'i', 'n', 'g',
};

static const uint8_t g_echo_reply[] = {
    0x04, 0x03, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x02, 'p', 'i', 'n', 'g',
};

static const uint8_t g_features_request[] = {
    0x04, 0x05, 0x00, 0x08, 0x00, 0x00, 0x00, 0x03,
};

/* FLOW_MOD ADD xid 0x10: cookie 5, table 0, priority 100, SEND_FLOW_REM,
 * match in_port=3 + vlan_vid=PRESENT|10, apply push_vlan 0x8100,
 * set_field vlan_vid PRESENT|20, output 4. */
static const uint8_t g_flow_add[] = {
    0x04, 0x0e, 0x00, 0x78, 0x00, 0x00, 0x00, 0x10, /* header, len 120 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* cookie */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* cookie_mask */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* tbl cmd idle hard prio */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* buffer_id, out_port */
    0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x00, 0x00, /* out_group, flags, pad */
    0x00, 0x01, 0x00, 0x12, 0x80, 0x00, 0x00, 0x04, /* match OXM len 18 */
    0x00, 0x00, 0x00, 0x03, 0x80, 0x00, 0x0c, 0x02, /* in_port=3, vlan_vid */
    0x10, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0x100a, pad 6 */
    0x00, 0x04, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, /* APPLY_ACTIONS len 48 */
    0x00, 0x11, 0x00, 0x08, 0x81, 0x00, 0x00, 0x00, /* push_vlan 0x8100 */
    0x00, 0x19, 0x00, 0x10, 0x80, 0x00, 0x0c, 0x02, /* set_field vlan_vid */
    0x10, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0x1014, pad */
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x04, /* output port 4 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* max_len 0, pad */
};

/* FLOW_MOD DELETE_STRICT xid 0x11: cookie 42 with a full cookie mask,
 * priority 100, same match, no instructions. */
static const uint8_t g_flow_delete_strict[] = {
    0x04, 0x0e, 0x00, 0x48, 0x00, 0x00, 0x00, 0x11,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x12, 0x80, 0x00, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x03, 0x80, 0x00, 0x0c, 0x02,
    0x10, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* FLOW_MOD ADD xid 0x12: cookie 7, priority 50, match vlan_vid
 * 0x1000/0x1000 (any tagged packet), apply pop_vlan, output 2. */
static const uint8_t g_flow_vlan_masked[] = {
    0x04, 0x0e, 0x00, 0x60, 0x00, 0x00, 0x00, 0x12,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x32,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x0c, 0x80, 0x00, 0x0d, 0x04, /* vlan_vid with mask */
    0x10, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, /* value, mask, pad */
    0x00, 0x04, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, /* APPLY len 32 */
    0x00, 0x12, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, /* pop_vlan */
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, /* output 2 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* FLOW_MOD ADD xid 0x13: cookie 9, idle 30, hard 300, priority 10,
 * match in_port=1, meter 5, apply output 2. */
static const uint8_t g_flow_meter[] = {
    0x04, 0x0e, 0x00, 0x60, 0x00, 0x00, 0x00, 0x13,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x1e, 0x01, 0x2c, 0x00, 0x0a,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x0c, 0x80, 0x00, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x05, /* METER 5 */
    0x00, 0x04, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, /* APPLY len 24 */
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t g_barrier_request[] = {
    0x04, 0x14, 0x00, 0x08, 0x00, 0x00, 0x00, 0x20,
};

/* MULTIPART_REQUEST FLOW xid 0x21: all tables, cookie 42/all ones,
 * match in_port=3. */
static const uint8_t g_flow_stats_request[] = {
    0x04, 0x12, 0x00, 0x40, 0x00, 0x00, 0x00, 0x21,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* OFPMP_FLOW, flags */
    0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, /* table ALL, out_port */
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, /* out_group, pad */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* cookie */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* cookie_mask */
    0x00, 0x01, 0x00, 0x0c, 0x80, 0x00, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t g_port_desc_request[] = {
    0x04, 0x12, 0x00, 0x10, 0x00, 0x00, 0x00, 0x22,
    0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* ERROR xid 0x23: flow_mod_failed/table_full, data = a barrier request. */
static const uint8_t g_error[] = {
    0x04, 0x01, 0x00, 0x14, 0x00, 0x00, 0x00, 0x23,
    0x00, 0x05, 0x00, 0x01,
    0x04, 0x14, 0x00, 0x08, 0x00, 0x00, 0x00, 0x20,
};

/* Replies a switch sends. */
static const uint8_t g_features_reply[] = {
    0x04, 0x06, 0x00, 0x20, 0x00, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0xbc, /* datapath_id */
    0x00, 0x00, 0x01, 0x00, 0xfe, 0x00, 0x00, 0x00, /* n_buffers, tables, aux */
    0x00, 0x00, 0x00, 0x4f, 0x00, 0x00, 0x00, 0x00, /* caps, reserved */
};

static const uint8_t g_barrier_reply[] = {
    0x04, 0x15, 0x00, 0x08, 0x00, 0x00, 0x00, 0x20,
};

/* MULTIPART_REPLY FLOW xid 0x21 with REPLY_MORE: the g_flow_add flow with
 * counters, then a table-miss drop flow. */
static const uint8_t g_flow_stats_reply[] = {
    0x04, 0x13, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x21,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* FLOW, REPLY_MORE */
    /* entry 1, 120 bytes, at offset 16 */
    0x00, 0x78, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, /* len, table, dur 12 s */
    0x00, 0x00, 0x01, 0xf4, 0x00, 0x64, 0x00, 0x00, /* 500 ns, prio, idle */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* hard, flags, pad */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* cookie */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* packets */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xbc, /* bytes */
    0x00, 0x01, 0x00, 0x12, 0x80, 0x00, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x03, 0x80, 0x00, 0x0c, 0x02,
    0x10, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x11, 0x00, 0x08, 0x81, 0x00, 0x00, 0x00,
    0x00, 0x19, 0x00, 0x10, 0x80, 0x00, 0x0c, 0x02,
    0x10, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* entry 2, 56 bytes, at offset 136: priority 0, empty match, drop */
    0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};

/* Flows another controller installed: eth_type match + goto_table, and a
 * group action + set_field eth_dst next to an output. */
static const uint8_t g_flow_stats_reply_foreign[] = {
    0x04, 0x13, 0x00, 0xc8, 0x00, 0x00, 0x00, 0x30,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* entry 1, 72 bytes: table 1, priority 0x8000, cookie 0x99 */
    0x00, 0x48, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x99,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x0a, 0x80, 0x00, 0x0a, 0x02, /* eth_type */
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0x0800, pad */
    0x00, 0x01, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, /* goto_table 2 */
    /* entry 2, 112 bytes: table 0, priority 5, cookie 0x77 */
    0x00, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x77,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x0c, 0x80, 0x00, 0x00, 0x04, /* in_port=7 */
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, /* APPLY len 48 */
    0x00, 0x16, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, /* group 1 */
    0x00, 0x19, 0x00, 0x10, 0x80, 0x00, 0x06, 0x06, /* set_field eth_dst */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x09, /* output 9 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

#define PORT1_BODY(state)                                                     \
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* port_no 1, pad */     \
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* hw_addr, pad */       \
    'b', 'r', '0', '-', 'p', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,              \
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, (state), /* config, state */  \
    0x00, 0x00, 0x08, 0x40, 0x00, 0x00, 0x00, 0x00, /* curr, advertised */   \
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* supported, peer */    \
    0x00, 0x98, 0x96, 0x80, 0x00, 0x98, 0x96, 0x80  /* speeds, 10 Gb/s */

static const uint8_t g_port_desc_reply[] = {
    0x04, 0x13, 0x00, 0x90, 0x00, 0x00, 0x00, 0x22,
    0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    PORT1_BODY(0x04), /* LIVE */
    0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x00, /* OFPP_LOCAL */
    0x02, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00,
    'b', 'r', '0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* PORT_DOWN, LINK_DOWN */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t g_port_status[] = {
    0x04, 0x0c, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MODIFY, pad */
    PORT1_BODY(0x01), /* LINK_DOWN */
};

/* ------------------------------------------------------------------------ */
/* Host-side inputs matching the arrays above                                */
/* ------------------------------------------------------------------------ */

static void flow_add_host(struct ofp_flow *f)
{
    ofp_flow_init(f);
    f->cookie = 5;
    f->priority = 100;
    f->flags = OFPFF_SEND_FLOW_REM;
    ofp_match_in_port(&f->match, 3);
    ofp_match_vlan(&f->match, 10);
    assert_int_equal(ofp_flow_add_push_vlan(f, OFP_ETH_TYPE_VLAN), OFP_OK);
    assert_int_equal(ofp_flow_add_set_vlan_vid(f, 20), OFP_OK);
    assert_int_equal(ofp_flow_add_output(f, 4, 0), OFP_OK);
}

static void flow_delete_strict_host(struct ofp_flow *f)
{
    ofp_flow_init(f);
    f->command = OFPFC_DELETE_STRICT;
    f->cookie = 42;
    f->cookie_mask = UINT64_MAX;
    f->priority = 100;
    ofp_match_in_port(&f->match, 3);
    ofp_match_vlan(&f->match, 10);
}

static void flow_vlan_masked_host(struct ofp_flow *f)
{
    ofp_flow_init(f);
    f->cookie = 7;
    f->priority = 50;
    ofp_match_vlan_masked(&f->match, OFPVID_PRESENT, OFPVID_PRESENT);
    assert_int_equal(ofp_flow_add_pop_vlan(f), OFP_OK);
    assert_int_equal(ofp_flow_add_output(f, 2, 0), OFP_OK);
}

static void flow_meter_host(struct ofp_flow *f)
{
    ofp_flow_init(f);
    f->cookie = 9;
    f->idle_timeout = 30;
    f->hard_timeout = 300;
    f->priority = 10;
    ofp_match_in_port(&f->match, 1);
    f->has_meter = true;
    f->meter_id = 5;
    assert_int_equal(ofp_flow_add_output(f, 2, 0), OFP_OK);
}

static void flow_stats_request_host(struct ofp_flow_stats_req *r)
{
    ofp_flow_stats_req_init(r);
    r->cookie = 42;
    r->cookie_mask = UINT64_MAX;
    ofp_match_in_port(&r->match, 3);
}

static void features_host(struct ofp_features *f)
{
    memset(f, 0, sizeof *f);
    f->datapath_id = 0xabc;
    f->n_buffers = 256;
    f->n_tables = 254;
    f->capabilities = OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS |
                      OFPC_GROUP_STATS | OFPC_QUEUE_STATS;
}

static void flow_entries_host(struct ofp_flow_entry e[2])
{
    memset(e, 0, 2 * sizeof *e);
    flow_add_host(&e[0].flow);
    e[0].duration_sec = 12;
    e[0].duration_nsec = 500;
    e[0].packet_count = 7;
    e[0].byte_count = 700;
    ofp_flow_init(&e[1].flow);
    e[1].duration_sec = 1;
}

static void port1_host(struct ofp_port_info *p, uint32_t state)
{
    memset(p, 0, sizeof *p);
    p->port_no = 1;
    memcpy(p->hw_addr, "\x02\x00\x00\x00\x00\x01", 6);
    strcpy(p->name, "br0-p1");
    p->state = state;
    p->curr = 0x840;
    p->curr_speed = 10000000;
    p->max_speed = 10000000;
}

static void ports_host(struct ofp_port_info p[2])
{
    port1_host(&p[0], OFPPS_LIVE);
    memset(&p[1], 0, sizeof p[1]);
    p[1].port_no = OFPP_LOCAL;
    memcpy(p[1].hw_addr, "\x02\x00\x00\x00\x00\xff", 6);
    strcpy(p[1].name, "br0");
    p[1].config = OFPPC_PORT_DOWN;
    p[1].state = OFPPS_LINK_DOWN;
}

/* ------------------------------------------------------------------------ */
/* Golden table: each case encodes its host input                            */
/* ------------------------------------------------------------------------ */


/* ---- meters and bundles (issue 13) ---- */

/* METER_MOD ADD xid 0x40: meter 5, KBPS|BURST|STATS, one DROP band at
 * 20000 kb/s with a 2000 kbit burst. */
static const uint8_t g_meter_add[] = {
    0x04, 0x1d, 0x00, 0x20, 0x00, 0x00, 0x00, 0x40,
    0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x4e, 0x20,
    0x00, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x00, 0x00,
};

/* METER_MOD MODIFY xid 0x41: meter 5 to 50000 kb/s, burst 5000. */
static const uint8_t g_meter_modify[] = {
    0x04, 0x1d, 0x00, 0x20, 0x00, 0x00, 0x00, 0x41,
    0x00, 0x01, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0xc3, 0x50,
    0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x00, 0x00,
};

/* METER_MOD DELETE xid 0x42 of meter 5: no bands. */
static const uint8_t g_meter_delete[] = {
    0x04, 0x1d, 0x00, 0x10, 0x00, 0x00, 0x00, 0x42,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
};

/* MULTIPART_REQUEST METER_CONFIG xid 0x43, every meter. */
static const uint8_t g_meter_config_request[] = {
    0x04, 0x12, 0x00, 0x18, 0x00, 0x00, 0x00, 0x43,
    0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

/* MULTIPART_REQUEST METER (stats) xid 0x44, meter 5. */
static const uint8_t g_meter_stats_request[] = {
    0x04, 0x12, 0x00, 0x18, 0x00, 0x00, 0x00, 0x44,
    0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
};

/* MULTIPART_REQUEST METER_FEATURES xid 0x45. */
static const uint8_t g_meter_features_request[] = {
    0x04, 0x12, 0x00, 0x10, 0x00, 0x00, 0x00, 0x45,
    0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* MULTIPART_REPLY METER_CONFIG xid 0x43: meter 5 as in g_meter_add. */
static const uint8_t g_meter_config_reply[] = {
    0x04, 0x13, 0x00, 0x28, 0x00, 0x00, 0x00, 0x43,
    0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x18, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x4e, 0x20,
    0x00, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x00, 0x00,
};

/* MULTIPART_REPLY METER xid 0x44: meter 5, 2 flows, 100 packets / 10000
 * bytes in, 12 s, its band dropped 3 packets / 300 bytes. */
static const uint8_t g_meter_stats_reply[] = {
    0x04, 0x13, 0x00, 0x48, 0x00, 0x00, 0x00, 0x44,
    0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x38, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x27, 0x10,
    0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c,
};

/* MULTIPART_REPLY METER_FEATURES xid 0x45: 65536 meters, drop bands,
 * KBPS|PKTPS|BURST|STATS, 1 band, no colors. */
static const uint8_t g_meter_features_reply[] = {
    0x04, 0x13, 0x00, 0x20, 0x00, 0x00, 0x00, 0x45,
    0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x0f, 0x01, 0x00, 0x00, 0x00,
};

/* EXPERIMENTER ONF bundle control xid 0x50: open bundle 1, ATOMIC|ORDERED. */
static const uint8_t g_bundle_open[] = {
    0x04, 0x04, 0x00, 0x18, 0x00, 0x00, 0x00, 0x50,
    0x4f, 0x4e, 0x46, 0x00, 0x00, 0x00, 0x08, 0xfc,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03,
};

/* EXPERIMENTER ONF bundle add xid 0x51 to bundle 1, ATOMIC|ORDERED: the
 * flow mod of g_flow_delete_strict with xid 0x51. */
static const uint8_t g_bundle_add[] = {
    0x04, 0x04, 0x00, 0x60, 0x00, 0x00, 0x00, 0x51,
    0x4f, 0x4e, 0x46, 0x00, 0x00, 0x00, 0x08, 0xfd,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03,
    0x04, 0x0e, 0x00, 0x48, 0x00, 0x00, 0x00, 0x51,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x12, 0x80, 0x00, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x03, 0x80, 0x00, 0x0c, 0x02,
    0x10, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* EXPERIMENTER ONF bundle control xid 0x52: commit bundle 1. */
static const uint8_t g_bundle_commit[] = {
    0x04, 0x04, 0x00, 0x18, 0x00, 0x00, 0x00, 0x52,
    0x4f, 0x4e, 0x46, 0x00, 0x00, 0x00, 0x08, 0xfc,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x03,
};

/* ROLE_REQUEST xid 0x60: MASTER, generation id 7 (issue 17). */
static const uint8_t g_role_request[] = {
    0x04, 0x18, 0x00, 0x18, 0x00, 0x00, 0x00, 0x60,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
};

/* ROLE_REPLY xid 0x61: SLAVE, generation id 2^56 + 42 (all 8 bytes used). */
static const uint8_t g_role_reply[] = {
    0x04, 0x19, 0x00, 0x18, 0x00, 0x00, 0x00, 0x61,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
};

typedef int (*encode_fn)(uint8_t *buf, size_t cap, size_t *out_len,
                         struct ofp_err *err);

static int enc_hello(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    return ofp_encode_hello(b, c, 1, 1u << OFP13_VERSION, n, e);
}

static int enc_echo_request(uint8_t *b, size_t c, size_t *n,
                            struct ofp_err *e)
{
    return ofp_encode_echo_request(b, c, 2, (const uint8_t *)"ping", 4, n, e);
}

static int enc_echo_reply(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    return ofp_encode_echo_reply(b, c, 2, (const uint8_t *)"ping", 4, n, e);
}

static int enc_features_request(uint8_t *b, size_t c, size_t *n,
                                struct ofp_err *e)
{
    return ofp_encode_features_request(b, c, 3, n, e);
}

static int enc_flow(void (*make)(struct ofp_flow *), uint32_t xid,
                    uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    struct ofp_flow f;
    make(&f);
    return ofp_encode_flow_mod(b, c, xid, &f, n, e);
}

static int enc_flow_add(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    return enc_flow(flow_add_host, 0x10, b, c, n, e);
}

static int enc_flow_delete_strict(uint8_t *b, size_t c, size_t *n,
                                  struct ofp_err *e)
{
    return enc_flow(flow_delete_strict_host, 0x11, b, c, n, e);
}

static int enc_flow_vlan_masked(uint8_t *b, size_t c, size_t *n,
                                struct ofp_err *e)
{
    return enc_flow(flow_vlan_masked_host, 0x12, b, c, n, e);
}

static int enc_flow_meter(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    return enc_flow(flow_meter_host, 0x13, b, c, n, e);
}

static int enc_barrier_request(uint8_t *b, size_t c, size_t *n,
                               struct ofp_err *e)
{
    return ofp_encode_barrier_request(b, c, 0x20, n, e);
}

static int enc_flow_stats_request(uint8_t *b, size_t c, size_t *n,
                                  struct ofp_err *e)
{
    struct ofp_flow_stats_req r;
    flow_stats_request_host(&r);
    return ofp_encode_flow_stats_request(b, c, 0x21, &r, n, e);
}

static int enc_port_desc_request(uint8_t *b, size_t c, size_t *n,
                                 struct ofp_err *e)
{
    return ofp_encode_port_desc_request(b, c, 0x22, n, e);
}

static int enc_error(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    return ofp_encode_error(b, c, 0x23, OFPET_FLOW_MOD_FAILED, 1,
                            g_barrier_request, sizeof g_barrier_request, n, e);
}

static int enc_features_reply(uint8_t *b, size_t c, size_t *n,
                              struct ofp_err *e)
{
    struct ofp_features f;
    features_host(&f);
    return ofp_encode_features_reply(b, c, 3, &f, n, e);
}

static int enc_barrier_reply(uint8_t *b, size_t c, size_t *n,
                             struct ofp_err *e)
{
    return ofp_encode_barrier_reply(b, c, 0x20, n, e);
}

static int enc_flow_stats_reply(uint8_t *b, size_t c, size_t *n,
                                struct ofp_err *e)
{
    struct ofp_flow_entry ent[2];
    flow_entries_host(ent);
    return ofp_encode_flow_stats_reply(b, c, 0x21, OFPMPF_REPLY_MORE, ent, 2,
                                       n, e);
}

static int enc_port_desc_reply(uint8_t *b, size_t c, size_t *n,
                               struct ofp_err *e)
{
    struct ofp_port_info p[2];
    ports_host(p);
    return ofp_encode_port_desc_reply(b, c, 0x22, 0, p, 2, n, e);
}

static int enc_port_status(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    struct ofp_port_status_info ps;
    ps.reason = OFPPR_MODIFY;
    port1_host(&ps.port, OFPPS_LINK_DOWN);
    return ofp_encode_port_status(b, c, 0, &ps, n, e);
}


static void meter5_host(struct ofp_meter *m, uint16_t cmd, uint32_t rate,
                        uint32_t burst)
{
    ofp_meter_init(m, cmd, OFPMF_KBPS | OFPMF_BURST | OFPMF_STATS, 5);
    if (cmd != OFPMC_DELETE)
        ofp_meter_add_drop(m, rate, burst);
}

static int enc_meter_add(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    struct ofp_meter m;
    meter5_host(&m, OFPMC_ADD, 20000, 2000);
    return ofp_encode_meter_mod(b, c, 0x40, &m, n, e);
}

static int enc_meter_modify(uint8_t *b, size_t c, size_t *n,
                            struct ofp_err *e)
{
    struct ofp_meter m;
    meter5_host(&m, OFPMC_MODIFY, 50000, 5000);
    return ofp_encode_meter_mod(b, c, 0x41, &m, n, e);
}

static int enc_meter_delete(uint8_t *b, size_t c, size_t *n,
                            struct ofp_err *e)
{
    struct ofp_meter m;
    ofp_meter_init(&m, OFPMC_DELETE, 0, 5);
    return ofp_encode_meter_mod(b, c, 0x42, &m, n, e);
}

static int enc_meter_config_request(uint8_t *b, size_t c, size_t *n,
                                    struct ofp_err *e)
{
    return ofp_encode_meter_config_request(b, c, 0x43, OFPM_ALL, n, e);
}

static int enc_meter_stats_request(uint8_t *b, size_t c, size_t *n,
                                   struct ofp_err *e)
{
    return ofp_encode_meter_stats_request(b, c, 0x44, 5, n, e);
}

static int enc_meter_features_request(uint8_t *b, size_t c, size_t *n,
                                      struct ofp_err *e)
{
    return ofp_encode_meter_features_request(b, c, 0x45, n, e);
}

static int enc_meter_config_reply(uint8_t *b, size_t c, size_t *n,
                                  struct ofp_err *e)
{
    struct ofp_meter m;
    meter5_host(&m, OFPMC_ADD, 20000, 2000);
    return ofp_encode_meter_config_reply(b, c, 0x43, 0, &m, 1, n, e);
}

static void meter5_stats(struct ofp_meter_stats_entry *s)
{
    memset(s, 0, sizeof *s);
    s->meter_id = 5;
    s->flow_count = 2;
    s->packet_in_count = 100;
    s->byte_in_count = 10000;
    s->duration_sec = 12;
    s->n_bands = 1;
    s->bands[0].packets = 3;
    s->bands[0].bytes = 300;
}

static int enc_meter_stats_reply(uint8_t *b, size_t c, size_t *n,
                                 struct ofp_err *e)
{
    struct ofp_meter_stats_entry s;
    meter5_stats(&s);
    return ofp_encode_meter_stats_reply(b, c, 0x44, 0, &s, 1, n, e);
}

static int enc_meter_features_reply(uint8_t *b, size_t c, size_t *n,
                                    struct ofp_err *e)
{
    struct ofp_meter_features f = {.max_meter = 65536,
                                   .band_types = 1u << OFPMBT_DROP,
                                   .capabilities = 0x0f,
                                   .max_bands = 1};
    return ofp_encode_meter_features_reply(b, c, 0x45, &f, n, e);
}

static int enc_bundle_open(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    struct ofp_bundle_ctrl bc = {1, OFPBCT_OPEN_REQUEST,
                                 OFPBF_ATOMIC | OFPBF_ORDERED};
    return ofp_encode_bundle_ctrl(b, c, 0x50, &bc, n, e);
}

static int enc_bundle_add(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    uint8_t inner[256];
    size_t ilen;
    int rc = enc_flow(flow_delete_strict_host, 0x51, inner, sizeof inner,
                      &ilen, e);
    if (rc)
        return rc;
    return ofp_encode_bundle_add(b, c, 0x51, 1, OFPBF_ATOMIC | OFPBF_ORDERED,
                                 inner, ilen, n, e);
}

static int enc_bundle_commit(uint8_t *b, size_t c, size_t *n,
                             struct ofp_err *e)
{
    struct ofp_bundle_ctrl bc = {1, OFPBCT_COMMIT_REQUEST,
                                 OFPBF_ATOMIC | OFPBF_ORDERED};
    return ofp_encode_bundle_ctrl(b, c, 0x52, &bc, n, e);
}

static int enc_role_request(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    struct ofp_role r = {OFPCR_ROLE_MASTER, 7};
    return ofp_encode_role_request(b, c, 0x60, &r, n, e);
}

static int enc_role_reply(uint8_t *b, size_t c, size_t *n, struct ofp_err *e)
{
    struct ofp_role r = {OFPCR_ROLE_SLAVE, (1ull << 56) + 42};
    return ofp_encode_role_reply(b, c, 0x61, &r, n, e);
}

struct golden {
    const char *name;     /* file name for --write-golden, without .bin */
    const uint8_t *bytes; /* hand-written expected encoding */
    size_t len;
    encode_fn encode;     /* NULL: a decode-only fixture */
    /* Shorter lengths at which the message, with its header length fixed
     * up, is still valid (0-terminated), and the length from which every
     * cut is valid (0: none), for the truncation test. */
    size_t valid_cuts[4];
    size_t valid_from;
};

#define G(n, enc, ...) {#n, g_##n, sizeof g_##n, enc, __VA_ARGS__}

static const struct golden goldens[] = {
    G(hello, enc_hello, {8}, 0),
    G(echo_request, enc_echo_request, {0}, 8),
    G(echo_reply, enc_echo_reply, {0}, 8),
    G(features_request, enc_features_request, {0}, 0),
    G(flow_add, enc_flow_add, {72}, 0),
    G(flow_delete_strict, enc_flow_delete_strict, {0}, 0),
    G(flow_vlan_masked, enc_flow_vlan_masked, {64}, 0),
    G(flow_meter, enc_flow_meter, {64, 72}, 0),
    G(barrier_request, enc_barrier_request, {0}, 0),
    G(flow_stats_request, enc_flow_stats_request, {0}, 0),
    G(port_desc_request, enc_port_desc_request, {0}, 0),
    G(error, enc_error, {0}, 12),
    G(features_reply, enc_features_reply, {0}, 0),
    G(barrier_reply, enc_barrier_reply, {0}, 0),
    G(flow_stats_reply, enc_flow_stats_reply, {16, 136}, 0),
    G(port_desc_reply, enc_port_desc_reply, {16, 80}, 0),
    G(port_status, enc_port_status, {0}, 0),
    G(flow_stats_reply_foreign, NULL, {16, 88}, 0),
    G(meter_add, enc_meter_add, {16}, 0),
    G(meter_modify, enc_meter_modify, {16}, 0),
    G(meter_delete, enc_meter_delete, {0}, 0),
    G(meter_config_request, enc_meter_config_request, {0}, 0),
    G(meter_stats_request, enc_meter_stats_request, {0}, 0),
    G(meter_features_request, enc_meter_features_request, {0}, 0),
    G(meter_config_reply, enc_meter_config_reply, {16}, 0),
    G(meter_stats_reply, enc_meter_stats_reply, {16}, 0),
    G(meter_features_reply, enc_meter_features_reply, {0}, 0),
    G(bundle_open, enc_bundle_open, {0}, 0),
    G(bundle_add, enc_bundle_add, {0}, 0),
    G(bundle_commit, enc_bundle_commit, {0}, 0),
    G(role_request, enc_role_request, {0}, 0),
    G(role_reply, enc_role_reply, {0}, 0),
};

/* ------------------------------------------------------------------------ */
/* Decode-any helper: runs the decoder that fits a message type              */
/* ------------------------------------------------------------------------ */

#define MAX_ENTRIES 8

struct decoded {
    struct ofp_hello hello;
    struct ofp_error error;
    const uint8_t *payload;
    size_t payload_len;
    struct ofp_features features;
    struct ofp_flow flow;
    struct ofp_flow_stats_req fsr;
    struct ofp_flow_entry entries[MAX_ENTRIES];
    size_t n_entries;
    struct ofp_port_info ports[MAX_ENTRIES];
    size_t n_ports;
    bool more;
    struct ofp_port_status_info status;
    struct ofp_meter meters[MAX_ENTRIES];
    size_t n_meters;
    struct ofp_meter_stats_entry mstats[MAX_ENTRIES];
    struct ofp_meter_features mfeatures;
    struct ofp_bundle_ctrl bctrl;
    struct ofp_bundle_add badd;
    struct ofp_role role;
};

/* type/mp_type come from the message the bytes are supposed to be, not from
 * the bytes, so truncated and corrupted copies meet the same decoder. */
static int decode_as(uint8_t type, uint16_t mp_type, const uint8_t *b,
                     size_t n, struct decoded *d, struct ofp_err *e)
{
    switch (type) {
    case OFPT_HELLO:
        return ofp_decode_hello(b, n, &d->hello, e);
    case OFPT_ERROR:
        return ofp_decode_error(b, n, &d->error, e);
    case OFPT_ECHO_REQUEST:
    case OFPT_ECHO_REPLY:
        return ofp_decode_echo(b, n, NULL, &d->payload, &d->payload_len, e);
    case OFPT_FEATURES_REPLY:
        return ofp_decode_features_reply(b, n, &d->features, e);
    case OFPT_FLOW_MOD:
        return ofp_decode_flow_mod(b, n, &d->flow, e);
    case OFPT_PORT_STATUS:
        return ofp_decode_port_status(b, n, &d->status, e);
    case OFPT_METER_MOD:
        return ofp_decode_meter_mod(b, n, &d->meters[0], e);
    case OFPT_ROLE_REQUEST:
        return ofp_decode_role_request(b, n, &d->role, e);
    case OFPT_ROLE_REPLY:
        return ofp_decode_role_reply(b, n, &d->role, e);
    case OFPT_EXPERIMENTER: {
        /* the exp_type decides; a cut that lost it meets the control
         * decoder, which refuses it like any other */
        uint32_t et = n >= 16 ? (uint32_t)(b[12] << 24 | b[13] << 16 |
                                           b[14] << 8 | b[15]) : 0;
        if (et == ONF_ET_BUNDLE_ADD_MESSAGE)
            return ofp_decode_bundle_add(b, n, &d->badd, e);
        return ofp_decode_bundle_ctrl(b, n, &d->bctrl, e);
    }
    case OFPT_MULTIPART_REQUEST:
        if (mp_type == OFPMP_FLOW)
            return ofp_decode_flow_stats_request(b, n, &d->fsr, e);
        if (mp_type == OFPMP_METER || mp_type == OFPMP_METER_CONFIG)
            return ofp_decode_meter_request(b, n, NULL, NULL, e);
        if (mp_type == OFPMP_METER_FEATURES)
            return ofp_decode_meter_features_request(b, n, e);
        return ofp_decode_port_desc_request(b, n, e);
    case OFPT_MULTIPART_REPLY:
        if (mp_type == OFPMP_FLOW)
            return ofp_decode_flow_stats_reply(b, n, d->entries, MAX_ENTRIES,
                                               &d->n_entries, &d->more, e);
        if (mp_type == OFPMP_METER_CONFIG)
            return ofp_decode_meter_config_reply(b, n, d->meters, MAX_ENTRIES,
                                                 &d->n_meters, &d->more, e);
        if (mp_type == OFPMP_METER)
            return ofp_decode_meter_stats_reply(b, n, d->mstats, MAX_ENTRIES,
                                                &d->n_meters, &d->more, e);
        if (mp_type == OFPMP_METER_FEATURES)
            return ofp_decode_meter_features_reply(b, n, &d->mfeatures, e);
        return ofp_decode_port_desc_reply(b, n, d->ports, MAX_ENTRIES,
                                          &d->n_ports, &d->more, e);
    default:
        return ofp_decode_empty(b, n, type, e);
    }
}

static uint16_t golden_mp_type(const struct golden *g)
{
    return g->len >= 10 ? (uint16_t)(g->bytes[8] << 8 | g->bytes[9]) : 0;
}

static void set_len16(uint8_t *b, size_t off, size_t v)
{
    b[off] = (uint8_t)(v >> 8);
    b[off + 1] = (uint8_t)v;
}

/* ------------------------------------------------------------------------ */
/* Golden tests                                                              */
/* ------------------------------------------------------------------------ */

static void test_golden_encodings(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(goldens); i++) {
        const struct golden *g = &goldens[i];
        uint8_t buf[512];
        size_t n = 0;
        struct ofp_err err;
        if (!g->encode)
            continue;
        memset(buf, 0xa5, sizeof buf); /* padding must be written as zero */
        int rc = g->encode(buf, sizeof buf, &n, &err);
        if (rc != OFP_OK)
            fail_msg("%s: encode failed: %s", g->name, err.msg);
        if (n != g->len)
            fail_msg("%s: encoded %zu bytes, expected %zu", g->name, n,
                     g->len);
        assert_memory_equal(buf, g->bytes, g->len);
        assert_int_equal(buf[n], 0xa5); /* nothing written past the end */
    }
}

/* Every capacity below the message size is refused, without writing past
 * the capacity (the exact-size heap block lets ASan catch any overrun). */
static void test_encoders_refuse_small_buffers(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(goldens); i++) {
        const struct golden *g = &goldens[i];
        if (!g->encode)
            continue;
        for (size_t cap = 0; cap < g->len; cap++) {
            uint8_t *buf = malloc(cap ? cap : 1);
            size_t n = 12345;
            struct ofp_err err;
            assert_non_null(buf);
            int rc = g->encode(cap ? buf : NULL, cap, &n, &err);
            assert_int_equal(rc, OFP_E_NOSPACE);
            assert_int_equal(err.code, OFP_E_NOSPACE);
            assert_int_equal(n, 12345);
            char want[64];
            snprintf(want, sizeof want, "needs %zu", g->len);
            assert_non_null(strstr(err.msg, want));
            free(buf);
        }
    }
}

static void test_golden_decode_header(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(goldens); i++) {
        const struct golden *g = &goldens[i];
        struct ofp_msg_header h = {0};
        struct ofp_err err;
        size_t msg_len = 0;
        assert_int_equal(ofp_decode_header(g->bytes, g->len, &h, &err),
                         OFP_OK);
        assert_int_equal(h.version, OFP13_VERSION);
        assert_int_equal(h.type, g->bytes[1]);
        assert_int_equal(h.length, g->len);
        assert_int_equal(ofp_frame_length(g->bytes, g->len, &msg_len, &err),
                         OFP_OK);
        assert_int_equal(msg_len, g->len);
    }
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                               */
/* ------------------------------------------------------------------------ */

static void roundtrip_flow(const struct ofp_flow *f)
{
    uint8_t buf[1024];
    size_t n = 0;
    struct ofp_err err;
    struct ofp_flow back;
    struct ofp_msg_header h = {0};
    if (ofp_encode_flow_mod(buf, sizeof buf, 77, f, &n, &err) != OFP_OK)
        fail_msg("encode: %s", err.msg);
    assert_int_equal(ofp_decode_header(buf, n, &h, &err), OFP_OK);
    assert_int_equal(h.xid, 77);
    assert_int_equal(h.type, OFPT_FLOW_MOD);
    if (ofp_decode_flow_mod(buf, n, &back, &err) != OFP_OK)
        fail_msg("decode: %s", err.msg);
    assert_true(ofp_flow_equal(f, &back));
}

static void test_roundtrip_flow_mod(void **state)
{
    (void)state;
    struct ofp_flow f;
    void (*makers[])(struct ofp_flow *) = {flow_add_host,
                                           flow_delete_strict_host,
                                           flow_vlan_masked_host,
                                           flow_meter_host};
    for (size_t i = 0; i < ARRAY_LEN(makers); i++) {
        makers[i](&f);
        roundtrip_flow(&f);
    }
    /* Every command, every field set to a non-default value. */
    for (uint8_t cmd = OFPFC_ADD; cmd <= OFPFC_DELETE_STRICT; cmd++) {
        flow_add_host(&f);
        f.command = cmd;
        f.table_id = 3;
        f.cookie = 0x0102030405060708u;
        f.cookie_mask = 0xffff0000ffff0000u;
        f.idle_timeout = 1;
        f.hard_timeout = 0xffff;
        f.priority = 0xffff;
        f.buffer_id = 0x11223344;
        f.out_port = 9;
        f.out_group = 10;
        f.flags = OFPFF_CHECK_OVERLAP | OFPFF_RESET_COUNTS;
        roundtrip_flow(&f);
    }
    /* Untagged match, no actions at all (drop), empty APPLY_ACTIONS. */
    ofp_flow_init(&f);
    ofp_match_untagged(&f.match);
    roundtrip_flow(&f);
    f.has_apply_actions = true;
    roundtrip_flow(&f);
    /* Full action list, controller output with max_len, QinQ push. */
    ofp_flow_init(&f);
    ofp_match_in_port(&f.match, OFPP_MAX);
    assert_int_equal(ofp_flow_add_output(&f, OFPP_CONTROLLER, 128), OFP_OK);
    assert_int_equal(ofp_flow_add_push_vlan(&f, OFP_ETH_TYPE_QINQ), OFP_OK);
    while (f.n_actions < OFP_MAX_ACTIONS)
        assert_int_equal(ofp_flow_add_set_vlan_vid(&f, 4095), OFP_OK);
    assert_int_equal(ofp_flow_add_pop_vlan(&f), OFP_E_TOO_MANY);
    roundtrip_flow(&f);
}

static void test_roundtrip_simple_messages(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = 0;
    struct ofp_err err;
    struct ofp_hello hello;
    struct ofp_msg_header h = {0};

    assert_int_equal(ofp_encode_hello(buf, sizeof buf, 9, 0x12, &n, &err), 0);
    assert_int_equal(ofp_decode_hello(buf, n, &hello, &err), OFP_OK);
    assert_true(hello.has_bitmap);
    assert_int_equal(hello.bitmap, 0x12);
    assert_true(hello.offers_13);
    assert_int_equal(ofp_encode_hello(buf, sizeof buf, 9, 0, &n, &err), 0);
    assert_int_equal(n, 8);
    assert_int_equal(ofp_decode_hello(buf, n, &hello, &err), OFP_OK);
    assert_false(hello.has_bitmap);
    assert_true(hello.offers_13);

    /* Echo with empty and large payloads; the xid comes back too. */
    static uint8_t big[4000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    uint8_t *large = malloc(8 + sizeof big);
    assert_non_null(large);
    assert_int_equal(ofp_encode_echo_request(large, 8 + sizeof big, 0xdeadbeef,
                                             big, sizeof big, &n, &err), 0);
    const uint8_t *payload;
    size_t plen = 0;
    uint8_t type;
    assert_int_equal(ofp_decode_echo(large, n, &type, &payload, &plen, &err),
                     OFP_OK);
    assert_int_equal(type, OFPT_ECHO_REQUEST);
    assert_int_equal(plen, sizeof big);
    assert_memory_equal(payload, big, sizeof big);
    assert_int_equal(ofp_decode_header(large, n, &h, &err), OFP_OK);
    assert_int_equal(h.xid, 0xdeadbeef);
    free(large);
    assert_int_equal(ofp_encode_echo_reply(buf, sizeof buf, 1, NULL, 0, &n,
                                           &err), 0);
    assert_int_equal(ofp_decode_echo(buf, n, &type, &payload, &plen, &err), 0);
    assert_int_equal(type, OFPT_ECHO_REPLY);
    assert_int_equal(plen, 0);

    struct ofp_error e;
    assert_int_equal(ofp_encode_error(buf, sizeof buf, 4, OFPET_BAD_MATCH, 7,
                                      NULL, 0, &n, &err), 0);
    assert_int_equal(ofp_decode_error(buf, n, &e, &err), OFP_OK);
    assert_int_equal(e.type, OFPET_BAD_MATCH);
    assert_int_equal(e.code, 7);
    assert_int_equal(e.data_len, 0);

    struct ofp_features f, fb;
    features_host(&f);
    f.auxiliary_id = 2;
    f.datapath_id = UINT64_MAX - 1;
    assert_int_equal(ofp_encode_features_reply(buf, sizeof buf, 5, &f, &n,
                                               &err), 0);
    assert_int_equal(ofp_decode_features_reply(buf, n, &fb, &err), OFP_OK);
    assert_true(fb.datapath_id == f.datapath_id);
    assert_int_equal(fb.n_buffers, f.n_buffers);
    assert_int_equal(fb.n_tables, f.n_tables);
    assert_int_equal(fb.auxiliary_id, 2);
    assert_int_equal(fb.capabilities, f.capabilities);

    assert_int_equal(ofp_encode_features_request(buf, sizeof buf, 1, &n, &err),
                     0);
    assert_int_equal(ofp_decode_empty(buf, n, OFPT_FEATURES_REQUEST, &err), 0);
    assert_int_equal(ofp_encode_barrier_request(buf, sizeof buf, 1, &n, &err),
                     0);
    assert_int_equal(ofp_decode_empty(buf, n, OFPT_BARRIER_REQUEST, &err), 0);
    assert_int_equal(ofp_encode_barrier_reply(buf, sizeof buf, 1, &n, &err),
                     0);
    assert_int_equal(ofp_decode_barrier_reply(buf, n, &err), 0);
    assert_int_equal(ofp_encode_port_desc_request(buf, sizeof buf, 1, &n,
                                                  &err), 0);
    assert_int_equal(ofp_decode_port_desc_request(buf, n, &err), 0);
}

static void test_roundtrip_multipart(void **state)
{
    (void)state;
    uint8_t buf[2048];
    size_t n = 0;
    struct ofp_err err;

    struct ofp_flow_stats_req r, rb;
    flow_stats_request_host(&r);
    r.flags = OFPMPF_REQ_MORE;
    r.table_id = 0;
    ofp_match_vlan_masked(&r.match, 0x1000 | 5, 0x1fff);
    assert_int_equal(ofp_encode_flow_stats_request(buf, sizeof buf, 1, &r, &n,
                                                   &err), 0);
    assert_int_equal(ofp_decode_flow_stats_request(buf, n, &rb, &err), OFP_OK);
    assert_int_equal(rb.flags, OFPMPF_REQ_MORE);
    assert_int_equal(rb.table_id, 0);
    assert_int_equal(rb.out_port, OFPP_ANY);
    assert_int_equal(rb.out_group, OFPG_ANY);
    assert_true(rb.cookie == 42 && rb.cookie_mask == UINT64_MAX);
    assert_true(ofp_match_equal(&r.match, &rb.match));
    ofp_flow_stats_req_init(&r); /* every flow: empty match */
    assert_int_equal(ofp_encode_flow_stats_request(buf, sizeof buf, 1, &r, &n,
                                                   &err), 0);
    assert_int_equal(n, 56);
    assert_int_equal(ofp_decode_flow_stats_request(buf, n, &rb, &err), OFP_OK);
    assert_false(rb.match.has_in_port || rb.match.has_vlan_vid);

    /* Flow stats reply: zero entries, then every golden flow. */
    struct ofp_flow_entry in[5], out[5];
    size_t cnt = 0;
    bool more = true;
    assert_int_equal(ofp_encode_flow_stats_reply(buf, sizeof buf, 2, 0, in, 0,
                                                 &n, &err), 0);
    assert_int_equal(ofp_decode_flow_stats_reply(buf, n, out, 5, &cnt, &more,
                                                 &err), OFP_OK);
    assert_int_equal(cnt, 0);
    assert_false(more);
    memset(in, 0, sizeof in);
    flow_add_host(&in[0].flow);
    flow_vlan_masked_host(&in[1].flow);
    flow_meter_host(&in[2].flow);
    ofp_flow_init(&in[3].flow);
    flow_add_host(&in[4].flow);
    in[4].flow.table_id = 7;
    in[4].packet_count = UINT64_MAX;
    in[4].byte_count = 1ull << 40;
    in[4].duration_nsec = 999999999;
    assert_int_equal(ofp_encode_flow_stats_reply(buf, sizeof buf, 2, 1, in, 5,
                                                 &n, &err), 0);
    assert_int_equal(ofp_decode_flow_stats_reply(buf, n, out, 5, &cnt, &more,
                                                 &err), OFP_OK);
    assert_int_equal(cnt, 5);
    assert_true(more);
    for (size_t i = 0; i < 5; i++) {
        assert_true(ofp_flow_equal(&in[i].flow, &out[i].flow));
        assert_int_equal(in[i].duration_sec, out[i].duration_sec);
        assert_int_equal(in[i].duration_nsec, out[i].duration_nsec);
        assert_true(in[i].packet_count == out[i].packet_count);
        assert_true(in[i].byte_count == out[i].byte_count);
    }
    /* Too little room: refused, but the count is reported. */
    assert_int_equal(ofp_decode_flow_stats_reply(buf, n, out, 3, &cnt, NULL,
                                                 &err), OFP_E_TOO_MANY);
    assert_int_equal(cnt, 5);
    assert_non_null(strstr(err.msg, "holds 5 entries"));

    /* Port desc reply with a 16-character name (no NUL on the wire). */
    struct ofp_port_info p[3], pb[3];
    ports_host(p);
    port1_host(&p[2], OFPPS_BLOCKED);
    strcpy(p[2].name, "0123456789abcdef");
    assert_int_equal(ofp_encode_port_desc_reply(buf, sizeof buf, 3,
                                                OFPMPF_REPLY_MORE, p, 3, &n,
                                                &err), 0);
    assert_int_equal(ofp_decode_port_desc_reply(buf, n, pb, 3, &cnt, &more,
                                                &err), OFP_OK);
    assert_int_equal(cnt, 3);
    assert_true(more);
    assert_memory_equal(p, pb, sizeof p);
    assert_int_equal(ofp_decode_port_desc_reply(buf, n, pb, 2, &cnt, &more,
                                                &err), OFP_E_TOO_MANY);

    struct ofp_port_status_info ps, psb;
    ps.reason = OFPPR_DELETE;
    ps.port = p[2];
    assert_int_equal(ofp_encode_port_status(buf, sizeof buf, 0, &ps, &n, &err),
                     0);
    assert_int_equal(ofp_decode_port_status(buf, n, &psb, &err), OFP_OK);
    assert_int_equal(psb.reason, OFPPR_DELETE);
    assert_memory_equal(&ps.port, &psb.port, sizeof ps.port);
}

/* ------------------------------------------------------------------------ */
/* Decoding replies from hand-written bytes                                  */
/* ------------------------------------------------------------------------ */

static void test_decode_features_and_barrier_reply(void **state)
{
    (void)state;
    struct ofp_features f;
    struct ofp_err err;
    assert_int_equal(ofp_decode_features_reply(g_features_reply,
                                               sizeof g_features_reply, &f,
                                               &err), OFP_OK);
    assert_true(f.datapath_id == 0xabc);
    assert_int_equal(f.n_buffers, 256);
    assert_int_equal(f.n_tables, 254);
    assert_int_equal(f.auxiliary_id, 0);
    assert_int_equal(f.capabilities, 0x4f);
    assert_int_equal(ofp_decode_barrier_reply(g_barrier_reply,
                                              sizeof g_barrier_reply, &err),
                     OFP_OK);
    /* A barrier request is not a reply. */
    assert_int_equal(ofp_decode_barrier_reply(g_barrier_request,
                                              sizeof g_barrier_request, &err),
                     OFP_E_BAD_TYPE);
    assert_non_null(strstr(err.msg, "expected BARRIER_REPLY"));
}

static void test_decode_flow_stats_reply(void **state)
{
    (void)state;
    struct ofp_flow_entry e[4];
    size_t n = 0;
    bool more = false;
    struct ofp_err err;
    char text[256];
    assert_int_equal(ofp_decode_flow_stats_reply(g_flow_stats_reply,
                                                 sizeof g_flow_stats_reply, e,
                                                 4, &n, &more, &err), OFP_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    const struct ofp_flow *f = &e[0].flow;
    assert_int_equal(f->table_id, 0);
    assert_int_equal(f->priority, 100);
    assert_true(f->cookie == 5);
    assert_int_equal(f->flags, OFPFF_SEND_FLOW_REM);
    assert_int_equal(e[0].duration_sec, 12);
    assert_int_equal(e[0].duration_nsec, 500);
    assert_true(e[0].packet_count == 7 && e[0].byte_count == 700);
    assert_true(f->match.has_in_port && f->match.in_port == 3);
    assert_true(f->match.has_vlan_vid && !f->match.vlan_vid_masked);
    assert_int_equal(f->match.vlan_vid, OFPVID_PRESENT | 10);
    assert_true(f->has_apply_actions && !f->has_meter);
    assert_int_equal(f->n_actions, 3);
    assert_int_equal(f->actions[0].type, OFPAT_PUSH_VLAN);
    assert_int_equal(f->actions[0].ethertype, 0x8100);
    assert_int_equal(f->actions[1].type, OFPAT_SET_FIELD);
    assert_int_equal(f->actions[1].vlan_vid, 20);
    assert_int_equal(f->actions[2].type, OFPAT_OUTPUT);
    assert_int_equal(f->actions[2].port, 4);
    assert_int_equal(f->n_unknown, 0);
    ofp_format_flow(f, text, sizeof text);
    assert_string_equal(text, "table=0 priority=100 cookie=0x5 "
                              "in_port=3,dl_vlan=10 actions=push_vlan:0x8100,"
                              "set_field:20->vlan_vid,output:4");
    f = &e[1].flow;
    assert_int_equal(f->priority, 0);
    assert_false(f->match.has_in_port || f->match.has_vlan_vid);
    assert_false(f->has_apply_actions);
    assert_int_equal(f->n_actions, 0);
    ofp_format_flow(f, text, sizeof text);
    assert_string_equal(text, "table=0 priority=0 cookie=0x0 actions=drop");
}

static void test_decode_foreign_flows(void **state)
{
    (void)state;
    struct ofp_flow_entry e[2];
    size_t n = 0;
    bool more = true;
    struct ofp_err err;
    char text[256];
    uint8_t buf[512];
    size_t len = 0;
    assert_int_equal(ofp_decode_flow_stats_reply(
                         g_flow_stats_reply_foreign,
                         sizeof g_flow_stats_reply_foreign, e, 2, &n, &more,
                         &err), OFP_OK);
    assert_int_equal(n, 2);
    assert_false(more);
    assert_int_equal(e[0].flow.table_id, 1);
    assert_int_equal(e[0].flow.priority, 0x8000);
    assert_int_equal(e[0].flow.n_unknown, 2); /* eth_type + goto_table */
    assert_int_equal(e[1].flow.n_actions, 1); /* output 9 kept */
    assert_int_equal(e[1].flow.n_unknown, 2); /* group + set eth_dst */
    ofp_format_flow(&e[1].flow, text, sizeof text);
    assert_string_equal(text, "table=0 priority=5 cookie=0x77 in_port=7 "
                              "actions=output:9 unsupported=2");
    /* Such a flow is never re-encoded as if it were complete. */
    assert_int_equal(ofp_encode_flow_mod(buf, sizeof buf, 1, &e[1].flow, &len,
                                         &err), OFP_E_UNSUPPORTED);
    assert_int_equal(ofp_encode_flow_stats_reply(buf, sizeof buf, 1, 0, e, 2,
                                                 &len, &err),
                     OFP_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "entry 0"));
}

static void test_decode_port_desc_and_status(void **state)
{
    (void)state;
    struct ofp_port_info p[2];
    size_t n = 0;
    bool more = true;
    struct ofp_err err;
    assert_int_equal(ofp_decode_port_desc_reply(g_port_desc_reply,
                                                sizeof g_port_desc_reply, p, 2,
                                                &n, &more, &err), OFP_OK);
    assert_int_equal(n, 2);
    assert_false(more);
    assert_int_equal(p[0].port_no, 1);
    assert_memory_equal(p[0].hw_addr, "\x02\x00\x00\x00\x00\x01", 6);
    assert_string_equal(p[0].name, "br0-p1");
    assert_int_equal(p[0].config, 0);
    assert_int_equal(p[0].state, OFPPS_LIVE);
    assert_int_equal(p[0].curr_speed, 10000000);
    assert_int_equal(p[0].max_speed, 10000000);
    assert_int_equal(p[1].port_no, OFPP_LOCAL);
    assert_string_equal(p[1].name, "br0");
    assert_int_equal(p[1].config, OFPPC_PORT_DOWN);
    assert_int_equal(p[1].state, OFPPS_LINK_DOWN);

    struct ofp_port_status_info ps;
    assert_int_equal(ofp_decode_port_status(g_port_status,
                                            sizeof g_port_status, &ps, &err),
                     OFP_OK);
    assert_int_equal(ps.reason, OFPPR_MODIFY);
    assert_int_equal(ps.port.port_no, 1);
    assert_string_equal(ps.port.name, "br0-p1");
    assert_int_equal(ps.port.state, OFPPS_LINK_DOWN);
}

static void test_decode_error_msg(void **state)
{
    (void)state;
    struct ofp_error e;
    struct ofp_err err;
    char text[128];
    assert_int_equal(ofp_decode_error(g_error, sizeof g_error, &e, &err),
                     OFP_OK);
    assert_int_equal(e.type, OFPET_FLOW_MOD_FAILED);
    assert_int_equal(e.code, 1);
    assert_int_equal(e.data_len, 8);
    assert_memory_equal(e.data, g_barrier_request, 8);
    ofp_format_error(&e, text, sizeof text);
    assert_string_equal(text, "flow_mod_failed/table_full (type 5, code 1)");
    /* The data is the failed request: its xid maps the error back. */
    struct ofp_msg_header h = {0};
    assert_int_equal(ofp_decode_header(e.data, e.data_len, &h, &err), OFP_OK);
    assert_int_equal(h.xid, 0x20);
}

static void test_decode_hello_variants(void **state)
{
    (void)state;
    struct ofp_hello h;
    struct ofp_err err;
    const uint8_t v10_bare[] = {0x01, 0x00, 0x00, 0x08, 0, 0, 0, 1};
    const uint8_t v13_bare[] = {0x04, 0x00, 0x00, 0x08, 0, 0, 0, 1};
    const uint8_t v15_bare[] = {0x06, 0x00, 0x00, 0x08, 0, 0, 0, 1};
    /* 1.5 header, unknown element type 9 (6 bytes + 2 padding), then a
     * bitmap offering 1.0 and 1.3. */
    const uint8_t v15_bitmap[] = {0x06, 0x00, 0x00, 0x18, 0, 0, 0, 1,
                                  0x00, 0x09, 0x00, 0x06, 0xaa, 0xbb, 0, 0,
                                  0x00, 0x01, 0x00, 0x08, 0, 0, 0, 0x12};
    const uint8_t v15_no13[] = {0x06, 0x00, 0x00, 0x10, 0, 0, 0, 1,
                                0x00, 0x01, 0x00, 0x08, 0, 0, 0, 0x42};
    assert_int_equal(ofp_decode_hello(v10_bare, 8, &h, &err), OFP_OK);
    assert_false(h.offers_13);
    assert_int_equal(h.version, 1);
    assert_int_equal(ofp_decode_hello(v13_bare, 8, &h, &err), OFP_OK);
    assert_true(h.offers_13);
    assert_false(h.has_bitmap);
    assert_int_equal(ofp_decode_hello(v15_bare, 8, &h, &err), OFP_OK);
    assert_true(h.offers_13);
    assert_int_equal(ofp_decode_hello(v15_bitmap, sizeof v15_bitmap, &h, &err),
                     OFP_OK);
    assert_true(h.has_bitmap && h.offers_13);
    assert_int_equal(h.bitmap, 0x12);
    assert_int_equal(ofp_decode_hello(v15_no13, sizeof v15_no13, &h, &err),
                     OFP_OK);
    assert_false(h.offers_13);
    assert_int_equal(ofp_decode_hello(g_hello, sizeof g_hello, &h, &err), 0);
    assert_true(h.has_bitmap && h.offers_13);
    assert_int_equal(h.bitmap, 0x10);
}

/* ------------------------------------------------------------------------ */
/* Refusals: truncations, corrupted lengths, bad values                      */
/* ------------------------------------------------------------------------ */

static bool valid_cut(const struct golden *g, size_t k)
{
    if (g->valid_from && k >= g->valid_from)
        return true;
    for (size_t i = 0; i < ARRAY_LEN(g->valid_cuts) && g->valid_cuts[i]; i++)
        if (g->valid_cuts[i] == k)
            return true;
    return false;
}

static void test_truncations_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(goldens); i++) {
        const struct golden *g = &goldens[i];
        uint16_t mp = golden_mp_type(g);
        struct decoded *d = malloc(sizeof *d);
        struct ofp_err err;
        assert_non_null(d);
        assert_int_equal(decode_as(g->bytes[1], mp, g->bytes, g->len, d,
                                   &err), OFP_OK);
        for (size_t k = 0; k < g->len; k++) {
            /* Exact-size heap copy: any read past k trips ASan. */
            uint8_t *cut = malloc(k ? k : 1);
            assert_non_null(cut);
            memcpy(cut, g->bytes, k);
            int rc = decode_as(g->bytes[1], mp, k ? cut : NULL, k, d, &err);
            if (rc >= 0)
                fail_msg("%s cut to %zu bytes was accepted", g->name, k);
            assert_int_equal(err.code, rc);
            assert_true(strlen(err.msg) > 10);
            /* Same prefix but with a header that agrees: now the inner
             * lengths must catch it. */
            if (k >= 8) {
                set_len16(cut, 2, k);
                rc = decode_as(g->bytes[1], mp, cut, k, d, &err);
                if (valid_cut(g, k) ? rc != OFP_OK : rc >= 0)
                    fail_msg("%s cut to %zu bytes with a fixed header: "
                             "rc %d (%s)", g->name, k, rc,
                             rc ? err.msg : "accepted");
            }
            free(cut);
        }
        free(d);
    }
}

static void test_trailing_bytes_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(goldens); i++) {
        const struct golden *g = &goldens[i];
        uint8_t buf[600];
        struct decoded *d = malloc(sizeof *d);
        struct ofp_err err;
        assert_non_null(d);
        memcpy(buf, g->bytes, g->len);
        memset(buf + g->len, 0, 8);
        /* Header still says the old length: refused by the header check. */
        assert_int_equal(decode_as(g->bytes[1], golden_mp_type(g), buf,
                                   g->len + 8, d, &err), OFP_E_BAD_LENGTH);
        free(d);
    }
}

struct corruption {
    const char *what;
    const uint8_t *msg;
    size_t len;
    size_t off;      /* where to write */
    unsigned width;  /* 1 or 2 bytes */
    unsigned value;
    int expect;      /* status */
    const char *msg_has; /* substring of the error message, or NULL */
};

#define MSG(g) g, sizeof g

static const struct corruption corruptions[] = {
    /* Flow mod: match length, OXM TLV lengths. */
    {"match len 0", MSG(g_flow_add), 50, 2, 0, OFP_E_BAD_LENGTH, "match length 0"},
    {"match len 3", MSG(g_flow_add), 50, 2, 3, OFP_E_BAD_LENGTH, NULL},
    {"match len 17 cuts vlan TLV", MSG(g_flow_add), 50, 2, 17, OFP_E_BAD_LENGTH, "remain in the match"},
    {"match len 19 leaves a stub", MSG(g_flow_add), 50, 2, 19, OFP_E_BAD_LENGTH, "cut by the match end"},
    {"match len 0xffff", MSG(g_flow_add), 50, 2, 0xffff, OFP_E_BAD_LENGTH, "exceeds"},
    {"match len past message", MSG(g_flow_add), 50, 2, 73, OFP_E_BAD_LENGTH, NULL},
    {"match type standard", MSG(g_flow_add), 48, 2, 0, OFP_E_BAD_VALUE, "not OXM"},
    {"in_port TLV len 3", MSG(g_flow_add), 55, 1, 3, OFP_E_BAD_LENGTH, "expected 4"},
    {"in_port TLV len 0xff", MSG(g_flow_add), 55, 1, 0xff, OFP_E_BAD_LENGTH, "remain in the match"},
    {"in_port masked", MSG(g_flow_add), 54, 1, 0x01, OFP_E_BAD_VALUE, "cannot be masked"},
    {"vlan TLV len 4 unmasked", MSG(g_flow_add), 63, 1, 4, OFP_E_BAD_LENGTH, NULL},
    {"vlan value above 13 bits", MSG(g_flow_add), 64, 1, 0x20, OFP_E_BAD_VALUE, "13-bit"},
    {"vlan vid without PRESENT", MSG(g_flow_add), 64, 1, 0x00, OFP_E_BAD_VALUE, "OFPVID_PRESENT"},
    {"duplicate in_port", MSG(g_flow_add), 62, 1, 0x00, OFP_E_BAD_VALUE, "duplicate"},
    /* Flow mod: instruction lengths. */
    {"instr len 0", MSG(g_flow_add), 74, 2, 0, OFP_E_BAD_LENGTH, "positive multiple of 8"},
    {"instr len 4", MSG(g_flow_add), 74, 2, 4, OFP_E_BAD_LENGTH, NULL},
    {"instr len 44", MSG(g_flow_add), 74, 2, 44, OFP_E_BAD_LENGTH, NULL},
    {"instr len 56 too long", MSG(g_flow_add), 74, 2, 56, OFP_E_BAD_LENGTH, "exceeds the 48 bytes left"},
    {"instr len 0xfff8", MSG(g_flow_add), 74, 2, 0xfff8, OFP_E_BAD_LENGTH, NULL},
    {"instr len 40 leaves stub", MSG(g_flow_add), 74, 2, 40, OFP_E_BAD_LENGTH, NULL},
    {"meter instr len 16", MSG(g_flow_meter), 66, 2, 16, OFP_E_BAD_LENGTH, "expected 8"},
    {"apply turned meter len 24", MSG(g_flow_meter), 73, 1, 6, OFP_E_BAD_LENGTH, NULL},
    /* Flow mod: action lengths. */
    {"action len 0", MSG(g_flow_add), 82, 2, 0, OFP_E_BAD_LENGTH, "positive multiple of 8"},
    {"action len 4", MSG(g_flow_add), 82, 2, 4, OFP_E_BAD_LENGTH, NULL},
    {"push_vlan len 16", MSG(g_flow_add), 82, 2, 16, OFP_E_BAD_LENGTH, "expected 8"},
    {"action len 0xfff8", MSG(g_flow_add), 82, 2, 0xfff8, OFP_E_BAD_LENGTH, "exceeds"},
    {"output len 8", MSG(g_flow_add), 106, 2, 8, OFP_E_BAD_LENGTH, NULL},
    {"output len 24", MSG(g_flow_add), 106, 2, 24, OFP_E_BAD_LENGTH, "exceeds"},
    {"set_field len 8", MSG(g_flow_add), 90, 2, 8, OFP_E_BAD_LENGTH, NULL},
    {"set_field OXM len 0xff", MSG(g_flow_add), 95, 1, 0xff, OFP_E_BAD_LENGTH, "does not fit"},
    {"set_field vlan masked", MSG(g_flow_add), 94, 1, 0x0d, OFP_E_BAD_LENGTH, NULL},
    {"set_field vlan no PRESENT", MSG(g_flow_add), 96, 1, 0x00, OFP_E_BAD_VALUE, "OFPVID_PRESENT"},
    {"push ethertype 0x0800", MSG(g_flow_add), 84, 2, 0x0800, OFP_E_BAD_VALUE, "ethertype"},
    {"bad command", MSG(g_flow_add), 25, 1, 5, OFP_E_BAD_VALUE, "command"},
    /* Header. */
    {"header len 7", MSG(g_flow_add), 2, 2, 7, OFP_E_BAD_LENGTH, "shorter than the 8-byte"},
    {"header len +8", MSG(g_flow_add), 2, 2, 128, OFP_E_TRUNCATED, NULL},
    {"version 1.0", MSG(g_flow_add), 0, 1, 1, OFP_E_BAD_VERSION, "not OpenFlow 1.3"},
    {"type not flow mod", MSG(g_flow_add), 1, 1, 13, OFP_E_BAD_TYPE, "expected FLOW_MOD"},
    /* Flow stats reply: entry lengths. */
    {"entry len 48", MSG(g_flow_stats_reply), 16, 2, 48, OFP_E_BAD_LENGTH,
     "flow_stats entry length 48 at offset 16 is shorter than the 56-byte fixed part"},
    {"entry len 0", MSG(g_flow_stats_reply), 16, 2, 0, OFP_E_BAD_LENGTH, NULL},
    {"entry len 121", MSG(g_flow_stats_reply), 16, 2, 121, OFP_E_BAD_LENGTH, NULL},
    {"entry len 128", MSG(g_flow_stats_reply), 16, 2, 128, OFP_E_BAD_LENGTH, NULL},
    {"entry len 0xffff", MSG(g_flow_stats_reply), 16, 2, 0xffff, OFP_E_BAD_LENGTH, "exceeds"},
    {"entry 2 len 64", MSG(g_flow_stats_reply), 136, 2, 64, OFP_E_BAD_LENGTH, "exceeds the 56 bytes left"},
    {"entry 2 len 55", MSG(g_flow_stats_reply), 136, 2, 55, OFP_E_BAD_LENGTH, "at offset 136"},
    {"entry 1 match len 0x40", MSG(g_flow_stats_reply), 66, 2, 0x40, OFP_E_BAD_LENGTH, NULL},
    {"entry 1 instr len 0x38", MSG(g_flow_stats_reply), 90, 2, 0x38, OFP_E_BAD_LENGTH, NULL},
    {"entry 1 output len 0x18", MSG(g_flow_stats_reply), 122, 2, 0x18, OFP_E_BAD_LENGTH, NULL},
    {"entry 2 match len 12", MSG(g_flow_stats_reply), 186, 2, 12, OFP_E_BAD_LENGTH, NULL},
    {"multipart type desc", MSG(g_flow_stats_reply), 8, 2, 0, OFP_E_BAD_TYPE, "multipart type"},
    /* Flow stats request. */
    {"request match len 0x20", MSG(g_flow_stats_request), 50, 2, 0x20, OFP_E_BAD_LENGTH, NULL},
    {"request match len 4", MSG(g_flow_stats_request), 50, 2, 4, OFP_E_BAD_LENGTH, "trailing"},
    /* Other fixed-size messages. */
    {"port status reason 3", MSG(g_port_status), 8, 1, 3, OFP_E_BAD_VALUE, "reason"},
    {"hello elem len 2", MSG(g_hello), 10, 2, 2, OFP_E_BAD_LENGTH, NULL},
    {"hello elem len 12", MSG(g_hello), 10, 2, 12, OFP_E_BAD_LENGTH, "exceeds"},
    {"hello bitmap len 6", MSG(g_hello), 10, 2, 6, OFP_E_BAD_LENGTH, "multiple of 4"},
};

static void test_corrupted_lengths_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(corruptions); i++) {
        const struct corruption *c = &corruptions[i];
        uint8_t *buf = malloc(c->len);
        struct decoded *d = malloc(sizeof *d);
        struct ofp_err err;
        assert_non_null(buf);
        assert_non_null(d);
        memcpy(buf, c->msg, c->len);
        if (c->width == 2)
            set_len16(buf, c->off, c->value);
        else
            buf[c->off] = (uint8_t)c->value;
        uint16_t mp = (uint16_t)(c->msg[8] << 8 | c->msg[9]);
        int rc = decode_as(c->msg[1], mp, buf, c->len, d, &err);
        if (rc != c->expect)
            fail_msg("%s: got %s (%s), expected %s", c->what,
                     ofp_status_name(rc), rc ? err.msg : "",
                     ofp_status_name(c->expect));
        if (c->msg_has && !strstr(err.msg, c->msg_has))
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->what, err.msg,
                     c->msg_has);
        free(buf);
        free(d);
    }
}

static void test_other_refusals(void **state)
{
    (void)state;
    uint8_t buf[1600];
    struct ofp_err err;
    size_t n = 0, cnt = 0;
    struct ofp_flow fl0;

    /* Port desc body not a multiple of 64. */
    memcpy(buf, g_port_desc_reply, sizeof g_port_desc_reply);
    set_len16(buf, 2, 100);
    struct ofp_port_info p[2];
    assert_int_equal(ofp_decode_port_desc_reply(buf, 100, p, 2, &cnt, NULL,
                                                &err), OFP_E_BAD_LENGTH);
    assert_string_equal(err.msg, "port_desc reply body of 84 bytes is not a "
                                 "multiple of the 64-byte ofp_port");
    /* Fixed-size messages with extra bytes. */
    memcpy(buf, g_features_reply, 32);
    memset(buf + 32, 0, 8);
    set_len16(buf, 2, 40);
    struct ofp_features f;
    assert_int_equal(ofp_decode_features_reply(buf, 40, &f, &err),
                     OFP_E_BAD_LENGTH);
    memcpy(buf, g_barrier_reply, 8);
    memset(buf + 8, 0, 8);
    set_len16(buf, 2, 16);
    assert_int_equal(ofp_decode_barrier_reply(buf, 16, &err),
                     OFP_E_BAD_LENGTH);
    /* A second METER instruction. */
    memcpy(buf, g_flow_meter, sizeof g_flow_meter);
    memcpy(buf + 72, "\x00\x06\x00\x08\x00\x00\x00\x07", 8);
    assert_int_equal(ofp_decode_flow_mod(buf, sizeof g_flow_meter, &fl0,
                                         &err), OFP_E_BAD_VALUE);
    assert_non_null(strstr(err.msg, "duplicate METER instruction at offset "
                                    "72"));
    /* A second APPLY_ACTIONS instruction. */
    memcpy(buf, g_flow_meter, sizeof g_flow_meter);
    memcpy(buf + 64, "\x00\x04\x00\x08\x00\x00\x00\x00", 8);
    assert_int_equal(ofp_decode_flow_mod(buf, sizeof g_flow_meter, &fl0,
                                         &err), OFP_E_BAD_VALUE);
    assert_non_null(strstr(err.msg, "duplicate APPLY_ACTIONS"));
    /* Multipart header asked for a non-multipart type. */
    assert_int_equal(ofp_decode_multipart_header(g_hello, sizeof g_hello,
                                                 OFPT_HELLO, NULL, NULL, &err),
                     OFP_E_BAD_TYPE);
    /* Echo decoder refuses other types. */
    assert_int_equal(ofp_decode_echo(g_hello, sizeof g_hello, NULL, NULL,
                                     NULL, &err), OFP_E_BAD_TYPE);
    /* NULL err is allowed everywhere. */
    assert_int_equal(ofp_decode_echo(g_hello, 3, NULL, NULL, NULL, NULL),
                     OFP_E_TRUNCATED);
    /* Encoders refuse what the protocol forbids. */
    struct ofp_flow fl;
    flow_add_host(&fl);
    fl.actions[1].vlan_vid = 4096;
    assert_int_equal(ofp_encode_flow_mod(buf, sizeof buf, 1, &fl, &n, &err),
                     OFP_E_BAD_VALUE);
    assert_non_null(strstr(err.msg, "above 4095"));
    flow_add_host(&fl);
    fl.actions[0].ethertype = 0x0800;
    assert_int_equal(ofp_encode_flow_mod(buf, sizeof buf, 1, &fl, &n, &err),
                     OFP_E_BAD_VALUE);
    flow_add_host(&fl);
    fl.actions[2].type = OFPAT_GROUP;
    assert_int_equal(ofp_encode_flow_mod(buf, sizeof buf, 1, &fl, &n, &err),
                     OFP_E_UNSUPPORTED);
    flow_add_host(&fl);
    fl.command = 5;
    assert_int_equal(ofp_encode_flow_mod(buf, sizeof buf, 1, &fl, &n, &err),
                     OFP_E_BAD_VALUE);
    flow_add_host(&fl);
    fl.match.vlan_vid = 10; /* VID without PRESENT */
    assert_int_equal(ofp_encode_flow_mod(buf, sizeof buf, 1, &fl, &n, &err),
                     OFP_E_BAD_VALUE);
    ofp_match_vlan_masked(&fl.match, 0x1005, 0x1000); /* value outside mask */
    assert_int_equal(ofp_encode_flow_mod(buf, sizeof buf, 1, &fl, &n, &err),
                     OFP_E_BAD_VALUE);
    assert_non_null(strstr(err.msg, "outside its mask"));
    flow_add_host(&fl);
    fl.n_actions = OFP_MAX_ACTIONS + 1;
    assert_int_equal(ofp_encode_flow_mod(buf, sizeof buf, 1, &fl, &n, &err),
                     OFP_E_TOO_MANY);
    struct ofp_flow_stats_req r;
    ofp_flow_stats_req_init(&r);
    ofp_match_vlan_masked(&r.match, 0x2000, 0x2000);
    assert_int_equal(ofp_encode_flow_stats_request(buf, sizeof buf, 1, &r, &n,
                                                   &err), OFP_E_BAD_VALUE);
    /* Oversized messages. */
    static uint8_t big[70000];
    assert_int_equal(ofp_encode_echo_request(NULL, 0, 1, big, 65528, &n,
                                             &err), OFP_E_TOO_LONG);
    assert_int_equal(ofp_encode_error(NULL, 0, 1, 0, 0, big, 65524, &n, &err),
                     OFP_E_TOO_LONG);
    assert_int_equal(ofp_encode_echo_request(NULL, 0, 1, NULL, 4, &n, &err),
                     OFP_E_BAD_VALUE);
}

/* ------------------------------------------------------------------------ */
/* Framing                                                                   */
/* ------------------------------------------------------------------------ */

static void test_frame_length(void **state)
{
    (void)state;
    uint8_t stream[256];
    size_t total = 0, n;
    struct ofp_err err;
    memcpy(stream, g_hello, sizeof g_hello);
    total += sizeof g_hello;
    memcpy(stream + total, g_flow_add, sizeof g_flow_add);
    total += sizeof g_flow_add;
    memcpy(stream + total, g_barrier_request, sizeof g_barrier_request);
    total += sizeof g_barrier_request;

    /* Byte by byte: need-more until a whole message is present. */
    for (size_t k = 0; k < sizeof g_hello; k++) {
        assert_int_equal(ofp_frame_length(stream, k, &n, &err), OFP_NEED_MORE);
        assert_int_equal(n, k >= 8 ? sizeof g_hello : 0);
    }
    /* Cut the stream into its three messages. */
    size_t off = 0, count = 0;
    while (off < total) {
        assert_int_equal(ofp_frame_length(stream + off, total - off, &n, &err),
                         OFP_OK);
        assert_int_equal(ofp_decode_header(stream + off, n, NULL, &err), 0);
        off += n;
        count++;
    }
    assert_int_equal(count, 3);

    uint8_t bad[8] = {0x04, 0x0e, 0x00, 0x07, 0, 0, 0, 0};
    assert_int_equal(ofp_frame_length(bad, 8, &n, &err), OFP_E_BAD_LENGTH);
    assert_int_equal(err.offset, 2);
    bad[3] = 0; /* length 0 */
    assert_int_equal(ofp_frame_length(bad, 8, &n, &err), OFP_E_BAD_LENGTH);
    bad[0] = 0x01; /* a 1.0 flow mod: refused at once, even from 2 bytes */
    assert_int_equal(ofp_frame_length(bad, 2, &n, &err), OFP_E_BAD_VERSION);
    assert_non_null(strstr(err.msg, "0x01"));
    /* A HELLO of another version is accepted: negotiation needs it. */
    uint8_t hello10[8] = {0x01, 0x00, 0x00, 0x08, 0, 0, 0, 0};
    assert_int_equal(ofp_frame_length(hello10, 8, &n, &err), OFP_OK);
    assert_int_equal(n, 8);
    /* Maximum length: need more, with the length reported. */
    uint8_t max[8] = {0x04, 0x13, 0xff, 0xff, 0, 0, 0, 0};
    assert_int_equal(ofp_frame_length(max, 8, &n, &err), OFP_NEED_MORE);
    assert_int_equal(n, 65535);
    assert_int_equal(ofp_frame_length(NULL, 0, &n, NULL), OFP_NEED_MORE);
}

/* ------------------------------------------------------------------------ */
/* Names and rendering                                                       */
/* ------------------------------------------------------------------------ */

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ofp_type_name(OFPT_HELLO), "HELLO");
    assert_string_equal(ofp_type_name(OFPT_FLOW_MOD), "FLOW_MOD");
    assert_string_equal(ofp_type_name(OFPT_METER_MOD), "METER_MOD");
    assert_string_equal(ofp_type_name(30), "UNKNOWN");
    assert_string_equal(ofp_type_name(255), "UNKNOWN");
    assert_string_equal(ofp_error_type_name(OFPET_BAD_REQUEST), "bad_request");
    assert_string_equal(ofp_error_type_name(OFPET_BAD_ACTION), "bad_action");
    assert_string_equal(ofp_error_type_name(OFPET_BAD_INSTRUCTION),
                        "bad_instruction");
    assert_string_equal(ofp_error_type_name(OFPET_BAD_MATCH), "bad_match");
    assert_string_equal(ofp_error_type_name(OFPET_FLOW_MOD_FAILED),
                        "flow_mod_failed");
    assert_string_equal(ofp_error_type_name(OFPET_METER_MOD_FAILED),
                        "meter_mod_failed");
    assert_string_equal(ofp_error_type_name(OFPET_EXPERIMENTER),
                        "experimenter");
    assert_string_equal(ofp_error_type_name(14), "unknown");
    assert_string_equal(ofp_error_code_name(OFPET_BAD_REQUEST, 6), "bad_len");
    assert_string_equal(ofp_error_code_name(OFPET_BAD_ACTION, 4),
                        "bad_out_port");
    assert_string_equal(ofp_error_code_name(OFPET_BAD_ACTION, 15),
                        "bad_set_argument");
    assert_string_equal(ofp_error_code_name(OFPET_BAD_INSTRUCTION, 1),
                        "unsup_inst");
    assert_string_equal(ofp_error_code_name(OFPET_BAD_MATCH, 10), "dup_field");
    assert_string_equal(ofp_error_code_name(OFPET_FLOW_MOD_FAILED, 1),
                        "table_full");
    assert_string_equal(ofp_error_code_name(OFPET_FLOW_MOD_FAILED, 7),
                        "bad_flags");
    assert_string_equal(ofp_error_code_name(OFPET_HELLO_FAILED, 0),
                        "incompatible");
    assert_string_equal(ofp_error_code_name(OFPET_TABLE_FEATURES_FAILED, 5),
                        "eperm");
    assert_string_equal(ofp_error_code_name(OFPET_FLOW_MOD_FAILED, 8),
                        "unknown");
    assert_string_equal(ofp_error_code_name(OFPET_EXPERIMENTER, 0), "unknown");
    assert_string_equal(ofp_status_name(OFP_E_TRUNCATED), "truncated");
    assert_string_equal(ofp_status_name(42), "unknown");
}

static void test_format_flow(void **state)
{
    (void)state;
    struct ofp_flow f;
    char text[256];
    ofp_flow_init(&f);
    f.cookie = 5;
    f.priority = 100;
    ofp_match_in_port(&f.match, 3);
    ofp_match_vlan(&f.match, 10);
    ofp_flow_add_set_vlan_vid(&f, 20);
    ofp_flow_add_output(&f, 4, 0);
    int n = ofp_format_flow(&f, text, sizeof text);
    assert_string_equal(text, "table=0 priority=100 cookie=0x5 "
                              "in_port=3,dl_vlan=10 "
                              "actions=set_field:20->vlan_vid,output:4");
    assert_int_equal(n, strlen(text));
    /* Truncation: snprintf-like, always terminated. */
    char small[10];
    assert_int_equal(ofp_format_flow(&f, small, sizeof small), n);
    assert_string_equal(small, "table=0 p");
    assert_int_equal(ofp_format_flow(&f, NULL, 0), n);

    flow_meter_host(&f);
    ofp_match_untagged(&f.match);
    ofp_flow_add_pop_vlan(&f);
    ofp_flow_add_output(&f, OFPP_CONTROLLER, 128);
    ofp_flow_add_output(&f, OFPP_IN_PORT, 0);
    ofp_format_flow(&f, text, sizeof text);
    assert_string_equal(text, "table=0 priority=10 cookie=0x9 in_port=1,"
                              "vlan_vid=none actions=meter:5,output:2,"
                              "pop_vlan,output:controller:128,"
                              "output:in_port");
    flow_vlan_masked_host(&f);
    ofp_format_flow(&f, text, sizeof text);
    assert_string_equal(text, "table=0 priority=50 cookie=0x7 "
                              "vlan_vid=0x1000/0x1000 "
                              "actions=pop_vlan,output:2");
}

static void test_flow_equal(void **state)
{
    (void)state;
    struct ofp_flow a, b;
    flow_add_host(&a);
    flow_add_host(&b);
    assert_true(ofp_flow_equal(&a, &b));
    b.actions[1].vlan_vid = 21;
    assert_false(ofp_flow_equal(&a, &b));
    flow_add_host(&b);
    b.match.in_port = 4;
    assert_false(ofp_flow_equal(&a, &b));
    flow_add_host(&b);
    b.cookie = 6;
    assert_false(ofp_flow_equal(&a, &b));
    flow_add_host(&b);
    b.actions[0].port = 99; /* not meaningful for push_vlan: ignored */
    assert_true(ofp_flow_equal(&a, &b));
    b.has_meter = true;
    assert_false(ofp_flow_equal(&a, &b));
}

/* ------------------------------------------------------------------------ */
/* Random and mutated input                                                  */
/* ------------------------------------------------------------------------ */

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

struct accept_counts {
    unsigned total, flow_mod, flow_stats, ports, others;
};

/* If a decoder accepted the input, what it produced must survive being
 * encoded and decoded again. */
static void check_flow_consistent(const struct ofp_flow *f)
{
    char text[512];
    int n = ofp_format_flow(f, text, sizeof text);
    assert_true(n > 0 && (size_t)n < sizeof text);
    if (f->n_unknown == 0)
        roundtrip_flow(f);
}

static void check_entries_consistent(const struct ofp_flow_entry *e, size_t n,
                                     bool more)
{
    static uint8_t buf[OFP_MAX_MSG_LEN];
    struct ofp_flow_entry back[MAX_ENTRIES];
    size_t len = 0, cnt = 0;
    bool more2 = false;
    struct ofp_err err;
    bool representable = true;
    for (size_t i = 0; i < n; i++) {
        check_flow_consistent(&e[i].flow);
        representable = representable && e[i].flow.n_unknown == 0;
    }
    if (!representable)
        return;
    assert_int_equal(ofp_encode_flow_stats_reply(buf, sizeof buf, 1,
                                                 more ? OFPMPF_REPLY_MORE : 0,
                                                 e, n, &len, &err), OFP_OK);
    assert_int_equal(ofp_decode_flow_stats_reply(buf, len, back, MAX_ENTRIES,
                                                 &cnt, &more2, &err), OFP_OK);
    assert_int_equal(cnt, n);
    assert_int_equal(more, more2);
    for (size_t i = 0; i < n; i++) {
        assert_true(ofp_flow_equal(&e[i].flow, &back[i].flow));
        assert_true(e[i].packet_count == back[i].packet_count);
    }
}

/* Run every decoder on the buffer; check whatever is accepted. */
static void decode_everything(const uint8_t *b, size_t n,
                              struct accept_counts *acc)
{
    static struct decoded d;
    struct ofp_err err;
    struct ofp_msg_header h = {0};
    size_t fl = 0;
    uint8_t out[512];
    size_t out_len = 0;

    (void)ofp_frame_length(b, n, &fl, &err);
    if (ofp_decode_header(b, n, &h, &err) == OFP_OK)
        acc->total++;
    if (ofp_decode_hello(b, n, &d.hello, &err) == OFP_OK) {
        acc->others++;
        assert_true(!d.hello.has_bitmap || d.hello.offers_13 ==
                    ((d.hello.bitmap >> 4) & 1));
    }
    if (ofp_decode_error(b, n, &d.error, &err) == OFP_OK) {
        acc->others++;
        assert_int_equal(ofp_encode_error(out, sizeof out, h.xid, d.error.type,
                                          d.error.code, d.error.data,
                                          d.error.data_len, &out_len, &err),
                         n <= sizeof out ? OFP_OK : OFP_E_NOSPACE);
        if (n <= sizeof out)
            assert_memory_equal(out, b, n);
    }
    if (ofp_decode_echo(b, n, NULL, &d.payload, &d.payload_len, &err) == 0)
        acc->others++;
    if (ofp_decode_features_reply(b, n, &d.features, &err) == OFP_OK) {
        acc->others++;
        struct ofp_features back;
        assert_int_equal(ofp_encode_features_reply(out, sizeof out, 1,
                                                   &d.features, &out_len,
                                                   &err), 0);
        assert_int_equal(ofp_decode_features_reply(out, out_len, &back, &err),
                         0);
        assert_true(back.datapath_id == d.features.datapath_id &&
                    back.capabilities == d.features.capabilities);
    }
    if (ofp_decode_flow_mod(b, n, &d.flow, &err) == OFP_OK) {
        acc->flow_mod++;
        check_flow_consistent(&d.flow);
    }
    for (uint8_t t = OFPT_FEATURES_REQUEST; t <= OFPT_BARRIER_REPLY; t++)
        (void)ofp_decode_empty(b, n, t, &err);
    if (ofp_decode_flow_stats_request(b, n, &d.fsr, &err) == OFP_OK) {
        acc->others++;
        struct ofp_flow_stats_req back;
        assert_int_equal(ofp_encode_flow_stats_request(out, sizeof out, 1,
                                                       &d.fsr, &out_len, &err),
                         0);
        assert_int_equal(ofp_decode_flow_stats_request(out, out_len, &back,
                                                       &err), 0);
        assert_true(ofp_match_equal(&d.fsr.match, &back.match));
        assert_true(d.fsr.cookie == back.cookie);
    }
    (void)ofp_decode_port_desc_request(b, n, &err);
    if (ofp_decode_flow_stats_reply(b, n, d.entries, MAX_ENTRIES, &d.n_entries,
                                    &d.more, &err) == OFP_OK) {
        acc->flow_stats++;
        check_entries_consistent(d.entries, d.n_entries, d.more);
    }
    (void)ofp_decode_flow_stats_reply(b, n, NULL, 0, &d.n_entries, NULL, &err);
    if (ofp_decode_port_desc_reply(b, n, d.ports, MAX_ENTRIES, &d.n_ports,
                                   &d.more, &err) == OFP_OK) {
        acc->ports++;
        for (size_t i = 0; i < d.n_ports; i++)
            assert_true(strlen(d.ports[i].name) <= OFP_MAX_PORT_NAME_LEN);
    }
    if (ofp_decode_port_status(b, n, &d.status, &err) == OFP_OK)
        acc->ports++;
}

static void test_random_and_mutated_input(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    struct accept_counts acc = {0};
    static const uint8_t types[] = {
        OFPT_HELLO, OFPT_ERROR, OFPT_ECHO_REQUEST, OFPT_FEATURES_REPLY,
        OFPT_FLOW_MOD, OFPT_PORT_STATUS, OFPT_MULTIPART_REQUEST,
        OFPT_MULTIPART_REPLY, OFPT_BARRIER_REPLY};
    for (unsigned iter = 0; iter < 100000; iter++) {
        uint8_t tmp[300];
        size_t n = 0;
        if (iter % 2 == 0) {
            /* Random bytes behind a plausible header, so decoding goes
             * past the header checks. */
            n = (size_t)(rng_next(&seed) % sizeof tmp);
            for (size_t i = 0; i < n; i++)
                tmp[i] = (uint8_t)rng_next(&seed);
            if (n >= 8) {
                tmp[0] = OFP13_VERSION;
                tmp[1] = types[rng_next(&seed) % ARRAY_LEN(types)];
                set_len16(tmp, 2, n);
            }
            if (n >= 10 && (tmp[1] == OFPT_MULTIPART_REQUEST ||
                            tmp[1] == OFPT_MULTIPART_REPLY))
                set_len16(tmp, 8, rng_next(&seed) & 1 ? OFPMP_FLOW
                                                      : OFPMP_PORT_DESC);
        } else {
            /* A valid message with a few bytes changed. */
            const struct golden *g =
                &goldens[rng_next(&seed) % ARRAY_LEN(goldens)];
            n = g->len;
            memcpy(tmp, g->bytes, n);
            unsigned flips = 1 + (unsigned)(rng_next(&seed) % 4);
            for (unsigned k = 0; k < flips; k++) {
                size_t at = 2 + (size_t)(rng_next(&seed) % (n - 2));
                tmp[at] = rng_next(&seed) & 1 ? (uint8_t)rng_next(&seed)
                                              : (uint8_t)(tmp[at] ^ 1);
            }
            if (rng_next(&seed) % 8 == 0) { /* sometimes also cut it */
                n -= (size_t)(rng_next(&seed) % (n - 7));
                set_len16(tmp, 2, n);
            }
        }
        /* Heap copy of exactly n bytes so ASan sees any overread. */
        uint8_t *b = malloc(n ? n : 1);
        assert_non_null(b);
        memcpy(b, tmp, n);
        decode_everything(b, n, &acc);
        free(b);
    }
    /* The run must have exercised the accepting paths too. */
    assert_true(acc.total > 1000);
    assert_true(acc.flow_mod > 100);
    assert_true(acc.flow_stats > 100);
    assert_true(acc.ports > 100);
    assert_true(acc.others > 100);
}

/* ------------------------------------------------------------------------ */
/* --write-golden                                                            */
/* ------------------------------------------------------------------------ */

/* Write each encoded golden message (and each decode-only fixture, as
 * written by hand) to DIR/NAME.bin for tests/unit/ofp13_oracle.sh. */
static int write_golden(const char *dir)
{
    for (size_t i = 0; i < ARRAY_LEN(goldens); i++) {
        const struct golden *g = &goldens[i];
        uint8_t buf[1024];
        size_t n = g->len;
        struct ofp_err err;
        char path[4096];
        const uint8_t *bytes = g->bytes;
        if (g->encode) {
            if (g->encode(buf, sizeof buf, &n, &err) != OFP_OK) {
                fprintf(stderr, "%s: encode failed: %s\n", g->name, err.msg);
                return 1;
            }
            bytes = buf;
        }
        snprintf(path, sizeof path, "%s/%s.bin", dir, g->name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
    }
    printf("wrote %zu messages to %s\n", ARRAY_LEN(goldens), dir);
    return 0;
}

/* Issue 13: meters and bundles beyond the goldens. */
static void test_meters_and_bundles(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n;
    struct ofp_err err;
    struct ofp_meter m, back;
    /* round trip with two bands, one dscp_remark */
    ofp_meter_init(&m, OFPMC_ADD, OFPMF_PKTPS | OFPMF_STATS, 9);
    assert_int_equal(ofp_meter_add_drop(&m, 1000, 0), OFP_OK);
    m.bands[m.n_bands].type = OFPMBT_DSCP_REMARK;
    m.bands[m.n_bands].rate = 500;
    m.bands[m.n_bands].prec_level = 2;
    m.n_bands++;
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &m, &n, &err), OFP_OK);
    assert_int_equal(n, 16 + 2 * 16);
    assert_int_equal(ofp_decode_meter_mod(buf, n, &back, &err), OFP_OK);
    assert_true(ofp_meter_equal(&m, &back));
    back.bands[1].prec_level = 3;
    assert_false(ofp_meter_equal(&m, &back));
    char text[200];
    ofp_format_meter(&m, text, sizeof text);
    assert_string_equal(text, "meter=9 pktps stats bands=type=drop rate=1000 burst_size=0,"
                              "type=dscp_remark rate=500 burst_size=0");
    /* refusals */
    struct ofp_meter bad = m;
    bad.command = 3;
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &bad, &n, &err), OFP_E_BAD_VALUE);
    bad = m;
    bad.meter_id = 0;
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &bad, &n, &err), OFP_E_BAD_VALUE);
    bad.meter_id = OFPM_ALL; /* only for a delete */
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &bad, &n, &err), OFP_E_BAD_VALUE);
    bad.command = OFPMC_DELETE;
    bad.n_bands = 0;
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &bad, &n, &err), OFP_OK);
    bad = m;
    bad.flags = OFPMF_KBPS | OFPMF_PKTPS;
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &bad, &n, &err), OFP_E_BAD_VALUE);
    bad = m;
    bad.bands[0].rate = 0;
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &bad, &n, &err), OFP_E_BAD_VALUE);
    bad = m;
    bad.n_bands = 0;
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &bad, &n, &err), OFP_E_BAD_VALUE);
    bad = m;
    bad.bands[0].type = OFPMBT_EXPERIMENTER;
    assert_int_equal(ofp_encode_meter_mod(buf, sizeof buf, 3, &bad, &n, &err),
                     OFP_E_UNSUPPORTED);
    /* an experimenter band (24 bytes) in a config reply: decoded, counted
     * unknown, not re-encodable; a drop band of 24 bytes is refused */
    uint8_t rep[16 + 8 + 24];
    memcpy(rep, g_meter_config_reply, 24);
    rep[2] = 0, rep[3] = sizeof rep;
    rep[16] = 0, rep[17] = 8 + 24; /* entry length */
    memset(rep + 24, 0, 24);
    rep[24] = 0xff, rep[25] = 0xff, rep[26] = 0, rep[27] = 24;
    struct ofp_meter got[2];
    size_t cnt = 0;
    assert_int_equal(ofp_decode_meter_config_reply(rep, sizeof rep, got, 2, &cnt, NULL, &err),
                     OFP_OK);
    assert_int_equal(cnt, 1);
    assert_int_equal(got[0].n_unknown, 1);
    assert_int_equal(got[0].n_bands, 0);
    assert_int_equal(ofp_encode_meter_config_reply(buf, sizeof buf, 1, 0, got, 1, &n, &err),
                     OFP_E_UNSUPPORTED);
    rep[24] = 0, rep[25] = OFPMBT_DROP;
    assert_int_equal(ofp_decode_meter_config_reply(rep, sizeof rep, got, 2, &cnt, NULL, &err),
                     OFP_E_BAD_LENGTH);
    /* too many meters for the caller's room */
    assert_int_equal(ofp_decode_meter_config_reply(g_meter_config_reply,
                                                   sizeof g_meter_config_reply, NULL, 0, &cnt,
                                                   NULL, &err),
                     OFP_E_TOO_MANY);
    assert_int_equal(cnt, 1);
    /* bundles: the inner xid must match; decoding finds the inner message */
    uint8_t inner[128], outer[256];
    size_t ilen, olen;
    assert_int_equal(ofp_encode_barrier_request(inner, sizeof inner, 7, &ilen, &err), OFP_OK);
    assert_int_equal(ofp_encode_bundle_add(outer, sizeof outer, 8, 1, 0, inner, ilen, &olen,
                                           &err),
                     OFP_E_BAD_VALUE);
    assert_int_equal(ofp_encode_bundle_add(outer, sizeof outer, 7, 1, OFPBF_ATOMIC, inner, ilen,
                                           &olen, &err),
                     OFP_OK);
    struct ofp_bundle_add ba;
    assert_int_equal(ofp_decode_bundle_add(outer, olen, &ba, &err), OFP_OK);
    assert_int_equal(ba.msg_len, ilen);
    assert_memory_equal(ba.msg, inner, ilen);
    assert_int_equal(ba.flags, OFPBF_ATOMIC);
    outer[24 + 3] = (uint8_t)(ilen + 8); /* inner length past the end */
    assert_int_equal(ofp_decode_bundle_add(outer, olen, &ba, &err), OFP_E_BAD_LENGTH);
    struct ofp_bundle_ctrl bc = {1, 8, 0};
    assert_int_equal(ofp_encode_bundle_ctrl(buf, sizeof buf, 1, &bc, &n, &err), OFP_E_BAD_VALUE);
    bc.type = OFPBCT_COMMIT_REQUEST;
    bc.flags = 4;
    assert_int_equal(ofp_encode_bundle_ctrl(buf, sizeof buf, 1, &bc, &n, &err), OFP_E_BAD_VALUE);
    /* another experimenter is not a bundle */
    uint8_t other[24];
    memcpy(other, g_bundle_open, sizeof other);
    other[8] = 0x00;
    assert_int_equal(ofp_decode_bundle_ctrl(other, sizeof other, &bc, &err), OFP_E_BAD_TYPE);
    uint32_t exp, et;
    assert_int_equal(ofp_decode_experimenter(other, sizeof other, &exp, &et, &err), OFP_OK);
    assert_int_equal(et, ONF_ET_BUNDLE_CONTROL);
}

/* Issue 17: controller roles beyond the goldens. */
static void test_roles(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n;
    struct ofp_err err;
    struct ofp_role r = {OFPCR_ROLE_MASTER, UINT64_MAX}, back;
    assert_int_equal(ofp_encode_role_request(buf, sizeof buf, 9, &r, &n, &err), OFP_OK);
    assert_int_equal(ofp_decode_role_request(buf, n, &back, &err), OFP_OK);
    assert_int_equal(back.role, OFPCR_ROLE_MASTER);
    assert_true(back.generation_id == UINT64_MAX);
    /* a request is not a reply, and the other way round */
    assert_int_equal(ofp_decode_role_reply(buf, n, &back, &err), OFP_E_BAD_TYPE);
    r.role = 4;
    assert_int_equal(ofp_encode_role_request(buf, sizeof buf, 9, &r, &n, &err), OFP_E_BAD_VALUE);
    memcpy(buf, g_role_reply, sizeof g_role_reply);
    buf[11] = 4; /* role 4 */
    assert_int_equal(ofp_decode_role_reply(buf, sizeof g_role_reply, &back, &err),
                     OFP_E_BAD_VALUE);
    assert_string_equal(ofp_role_name(OFPCR_ROLE_MASTER), "master");
    assert_string_equal(ofp_role_name(OFPCR_ROLE_SLAVE), "slave");
    assert_string_equal(ofp_role_name(9), "unknown");
    assert_string_equal(ofp_error_code_name(OFPET_ROLE_REQUEST_FAILED, OFPRRFC_STALE), "stale");
    assert_string_equal(ofp_error_code_name(OFPET_BAD_REQUEST, OFPBRC_IS_SLAVE), "is_slave");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0)
        return write_golden(argv[2]);
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--write-golden DIR]\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest golden[] = {
        cmocka_unit_test(test_golden_encodings),
        cmocka_unit_test(test_encoders_refuse_small_buffers),
        cmocka_unit_test(test_golden_decode_header),
    };
    const struct CMUnitTest roundtrip[] = {
        cmocka_unit_test(test_roundtrip_flow_mod),
        cmocka_unit_test(test_roundtrip_simple_messages),
        cmocka_unit_test(test_roundtrip_multipart),
    };
    const struct CMUnitTest replies[] = {
        cmocka_unit_test(test_decode_features_and_barrier_reply),
        cmocka_unit_test(test_decode_flow_stats_reply),
        cmocka_unit_test(test_decode_foreign_flows),
        cmocka_unit_test(test_decode_port_desc_and_status),
        cmocka_unit_test(test_decode_error_msg),
        cmocka_unit_test(test_decode_hello_variants),
    };
    const struct CMUnitTest refusals[] = {
        cmocka_unit_test(test_truncations_refused),
        cmocka_unit_test(test_trailing_bytes_refused),
        cmocka_unit_test(test_corrupted_lengths_refused),
        cmocka_unit_test(test_other_refusals),
        cmocka_unit_test(test_frame_length),
        cmocka_unit_test(test_random_and_mutated_input),
    };
    const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_format_flow),
        cmocka_unit_test(test_flow_equal),
        cmocka_unit_test(test_meters_and_bundles),
        cmocka_unit_test(test_roles),
    };
    int failed = 0;
    failed += cmocka_run_group_tests_name("ofp13_golden", golden, NULL, NULL);
    failed += cmocka_run_group_tests_name("ofp13_roundtrip", roundtrip, NULL,
                                          NULL);
    failed += cmocka_run_group_tests_name("ofp13_replies", replies, NULL,
                                          NULL);
    failed += cmocka_run_group_tests_name("ofp13_refusals", refusals, NULL,
                                          NULL);
    failed += cmocka_run_group_tests_name("ofp13_misc", misc, NULL, NULL);
    return failed ? 1 : 0;
}
