/*
 * ofp13_wire.h - the OpenFlow 1.3 wire structures, one per message or
 * element, laid out as in the OpenFlow 1.3.5 specification (and the ONF
 * extension 230 for bundles). Every multi-byte field holds its value in
 * network byte order (big-endian); the ofp_beNN typedefs mark such fields.
 * Each structure's size is checked with _Static_assert below, so a
 * compiler that pads differently fails to build instead of sending
 * garbage. The codec copies them to and from byte buffers with memcpy, so
 * buffers need no particular alignment. Included by ofp13.h, which
 * defines the constants used here.
 */
#ifndef PEERFLOW_OFP13_WIRE_H
#define PEERFLOW_OFP13_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Wire structures (big-endian fields; sizes asserted below)                 */
/* ------------------------------------------------------------------------ */

typedef uint16_t ofp_be16; /* holds a big-endian value */
typedef uint32_t ofp_be32;
typedef uint64_t ofp_be64;

struct ofp_header {
    uint8_t version;
    uint8_t type;
    ofp_be16 length; /* whole message, header included */
    ofp_be32 xid;
};

struct ofp_hello_elem_header {
    ofp_be16 type;
    ofp_be16 length; /* element without its padding to 8 bytes */
};

/* A version bitmap element is this header followed by ofp_be32 bitmaps. */
struct ofp_hello_elem_versionbitmap {
    ofp_be16 type; /* OFPHET_VERSIONBITMAP */
    ofp_be16 length;
};

struct ofp_error_msg {
    struct ofp_header header;
    ofp_be16 type;
    ofp_be16 code;
    /* followed by data: at least 64 bytes of the failed request */
};

struct ofp_switch_features {
    struct ofp_header header;
    ofp_be64 datapath_id;
    ofp_be32 n_buffers;
    uint8_t n_tables;
    uint8_t auxiliary_id;
    uint8_t pad[2];
    ofp_be32 capabilities;
    ofp_be32 reserved;
};

/* The fixed part of a match. On the wire `length` counts the 4 header
 * bytes plus the OXM TLVs (no padding); the TLVs start at oxm_fields and
 * the whole match is padded with zeros to a multiple of 8. With no TLVs the
 * 4 oxm_fields bytes are that padding. */
struct ofp_match {
    ofp_be16 type;   /* OFPMT_OXM */
    ofp_be16 length;
    uint8_t oxm_fields[4];
};

struct ofp_flow_mod {
    struct ofp_header header;
    ofp_be64 cookie;
    ofp_be64 cookie_mask;
    uint8_t table_id;
    uint8_t command;
    ofp_be16 idle_timeout;
    ofp_be16 hard_timeout;
    ofp_be16 priority;
    ofp_be32 buffer_id;
    ofp_be32 out_port;
    ofp_be32 out_group;
    ofp_be16 flags;
    uint8_t pad[2];
    struct ofp_match match; /* variable; instructions follow it */
};

struct ofp_instruction {
    ofp_be16 type;
    ofp_be16 len;
};

struct ofp_instruction_actions {
    ofp_be16 type; /* OFPIT_APPLY_ACTIONS, OFPIT_WRITE_ACTIONS */
    ofp_be16 len;  /* includes the actions that follow */
    uint8_t pad[4];
};

struct ofp_instruction_meter {
    ofp_be16 type; /* OFPIT_METER */
    ofp_be16 len;  /* 8 */
    ofp_be32 meter_id;
};

struct ofp_action_header {
    ofp_be16 type;
    ofp_be16 len;
};

struct ofp_action_output {
    ofp_be16 type; /* OFPAT_OUTPUT */
    ofp_be16 len;  /* 16 */
    ofp_be32 port;
    ofp_be16 max_len;
    uint8_t pad[6];
};

struct ofp_action_push {
    ofp_be16 type; /* OFPAT_PUSH_VLAN, _MPLS, _PBB */
    ofp_be16 len;  /* 8 */
    ofp_be16 ethertype;
    uint8_t pad[2];
};

struct ofp_action_generic {
    ofp_be16 type; /* OFPAT_POP_VLAN and other argument-less actions */
    ofp_be16 len;  /* 8 */
    uint8_t pad[4];
};

/* Set-field: header then one OXM TLV (no mask), padded to 8. The 4 `field`
 * bytes are the OXM header. */
struct ofp_action_set_field {
    ofp_be16 type; /* OFPAT_SET_FIELD */
    ofp_be16 len;
    uint8_t field[4];
};

struct ofp_multipart_request {
    struct ofp_header header;
    ofp_be16 type;
    ofp_be16 flags;
    uint8_t pad[4];
};

struct ofp_multipart_reply {
    struct ofp_header header;
    ofp_be16 type;
    ofp_be16 flags; /* OFPMPF_REPLY_MORE */
    uint8_t pad[4];
};

struct ofp_flow_stats_request {
    uint8_t table_id;
    uint8_t pad[3];
    ofp_be32 out_port;
    ofp_be32 out_group;
    uint8_t pad2[4];
    ofp_be64 cookie;
    ofp_be64 cookie_mask;
    struct ofp_match match; /* variable */
};

struct ofp_flow_stats {
    ofp_be16 length; /* of this entry, match and instructions included */
    uint8_t table_id;
    uint8_t pad;
    ofp_be32 duration_sec;
    ofp_be32 duration_nsec;
    ofp_be16 priority;
    ofp_be16 idle_timeout;
    ofp_be16 hard_timeout;
    ofp_be16 flags;
    uint8_t pad2[4];
    ofp_be64 cookie;
    ofp_be64 packet_count;
    ofp_be64 byte_count;
    struct ofp_match match; /* variable; instructions follow it */
};

struct ofp_port {
    ofp_be32 port_no;
    uint8_t pad[4];
    uint8_t hw_addr[OFP_ETH_ALEN];
    uint8_t pad2[2];
    char name[OFP_MAX_PORT_NAME_LEN]; /* NUL-padded, maybe not terminated */
    ofp_be32 config;
    ofp_be32 state;
    ofp_be32 curr;
    ofp_be32 advertised;
    ofp_be32 supported;
    ofp_be32 peer;
    ofp_be32 curr_speed; /* kbps */
    ofp_be32 max_speed;  /* kbps */
};

struct ofp_port_status {
    struct ofp_header header;
    uint8_t reason;
    uint8_t pad[7];
    struct ofp_port desc;
};

_Static_assert(sizeof(struct ofp_header) == 8, "ofp_header is 8 bytes");
_Static_assert(sizeof(struct ofp_hello_elem_header) == 4,
               "ofp_hello_elem_header is 4 bytes");
_Static_assert(sizeof(struct ofp_hello_elem_versionbitmap) == 4,
               "ofp_hello_elem_versionbitmap fixed part is 4 bytes");
_Static_assert(sizeof(struct ofp_error_msg) == 12, "ofp_error_msg is 12 bytes");
_Static_assert(sizeof(struct ofp_switch_features) == 32,
               "ofp_switch_features is 32 bytes");
_Static_assert(sizeof(struct ofp_match) == 8, "ofp_match is 8 bytes");
_Static_assert(sizeof(struct ofp_flow_mod) == 56, "ofp_flow_mod is 56 bytes");
_Static_assert(offsetof(struct ofp_flow_mod, match) == 48,
               "ofp_flow_mod match starts at byte 48");
_Static_assert(sizeof(struct ofp_instruction) == 4, "ofp_instruction is 4");
_Static_assert(sizeof(struct ofp_instruction_actions) == 8,
               "ofp_instruction_actions is 8 bytes");
_Static_assert(sizeof(struct ofp_instruction_meter) == 8,
               "ofp_instruction_meter is 8 bytes");
_Static_assert(sizeof(struct ofp_action_header) == 4, "ofp_action_header is 4");
_Static_assert(sizeof(struct ofp_action_output) == 16,
               "ofp_action_output is 16 bytes");
_Static_assert(sizeof(struct ofp_action_push) == 8, "ofp_action_push is 8");
_Static_assert(sizeof(struct ofp_action_generic) == 8,
               "ofp_action_generic is 8 bytes");
_Static_assert(sizeof(struct ofp_action_set_field) == 8,
               "ofp_action_set_field fixed part is 8 bytes");
_Static_assert(sizeof(struct ofp_multipart_request) == 16,
               "ofp_multipart_request is 16 bytes");
_Static_assert(sizeof(struct ofp_multipart_reply) == 16,
               "ofp_multipart_reply is 16 bytes");
_Static_assert(sizeof(struct ofp_flow_stats_request) == 40,
               "ofp_flow_stats_request is 40 bytes");
_Static_assert(offsetof(struct ofp_flow_stats_request, match) == 32,
               "ofp_flow_stats_request match starts at byte 32");
_Static_assert(sizeof(struct ofp_flow_stats) == 56, "ofp_flow_stats is 56");
_Static_assert(offsetof(struct ofp_flow_stats, match) == 48,
               "ofp_flow_stats match starts at byte 48");
_Static_assert(sizeof(struct ofp_port) == 64, "ofp_port is 64 bytes");
_Static_assert(sizeof(struct ofp_port_status) == 80,
               "ofp_port_status is 80 bytes");

#endif /* PEERFLOW_OFP13_WIRE_H */
