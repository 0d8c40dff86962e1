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

/* ---- meters (OpenFlow 1.3.5 section 7.3.4.4 and 7.3.5.12-14) ---- */

struct ofp_meter_mod {
    struct ofp_header header;
    ofp_be16 command; /* OFPMC_* */
    ofp_be16 flags;   /* OFPMF_* */
    ofp_be32 meter_id;
    /* followed by bands (struct ofp_meter_band_drop, ...) */
};

/* Every band starts with this header; drop and dscp_remark bands are 16
 * bytes, experimenter bands at least 16. */
struct ofp_meter_band_header {
    ofp_be16 type; /* OFPMBT_* */
    ofp_be16 len;
    ofp_be32 rate;       /* kb/s or packets/s, as the meter's flags say */
    ofp_be32 burst_size; /* kilobits or packets */
};

struct ofp_meter_band_drop {
    ofp_be16 type; /* OFPMBT_DROP */
    ofp_be16 len;  /* 16 */
    ofp_be32 rate;
    ofp_be32 burst_size;
    uint8_t pad[4];
};

struct ofp_meter_band_dscp_remark {
    ofp_be16 type; /* OFPMBT_DSCP_REMARK */
    ofp_be16 len;  /* 16 */
    ofp_be32 rate;
    ofp_be32 burst_size;
    uint8_t prec_level;
    uint8_t pad[3];
};

/* Body of OFPMP_METER and OFPMP_METER_CONFIG requests. */
struct ofp_meter_multipart_request {
    ofp_be32 meter_id; /* OFPM_ALL for every meter */
    uint8_t pad[4];
};

/* One entry of an OFPMP_METER_CONFIG reply; bands follow. */
struct ofp_meter_config {
    ofp_be16 length; /* of this entry, bands included */
    ofp_be16 flags;
    ofp_be32 meter_id;
};

/* One entry of an OFPMP_METER reply; band stats follow. */
struct ofp_meter_stats {
    ofp_be32 meter_id;
    ofp_be16 len; /* of this entry, band stats included */
    uint8_t pad[6];
    ofp_be32 flow_count;
    ofp_be64 packet_in_count;
    ofp_be64 byte_in_count;
    ofp_be32 duration_sec;
    ofp_be32 duration_nsec;
};

struct ofp_meter_band_stats {
    ofp_be64 packet_band_count;
    ofp_be64 byte_band_count;
};

/* Body of an OFPMP_METER_FEATURES reply. */
struct ofp_meter_features_body {
    ofp_be32 max_meter;
    ofp_be32 band_types;   /* bitmap of 1 << OFPMBT_* */
    ofp_be32 capabilities; /* bitmap of OFPMF_* */
    uint8_t max_bands;
    uint8_t max_color;
    uint8_t pad[2];
};

/* ---- bundles: ONF extension 230 for OpenFlow 1.3 (the OpenFlow 1.4
 * bundle messages carried as experimenter messages) ---- */

struct ofp_experimenter_header {
    struct ofp_header header; /* OFPT_EXPERIMENTER */
    ofp_be32 experimenter;    /* ONF_EXPERIMENTER_ID */
    ofp_be32 exp_type;        /* ONF_ET_BUNDLE_CONTROL, _ADD_MESSAGE */
};

struct onf_bundle_ctrl {
    struct ofp_experimenter_header eh;
    ofp_be32 bundle_id;
    ofp_be16 type;  /* OFPBCT_* */
    ofp_be16 flags; /* OFPBF_* */
    /* properties (none sent) */
};

struct onf_bundle_add {
    struct ofp_experimenter_header eh;
    ofp_be32 bundle_id;
    uint8_t pad[2];
    ofp_be16 flags;
    /* followed by the whole inner message (header included), then
     * properties (none sent) */
};

_Static_assert(sizeof(struct ofp_meter_mod) == 16, "ofp_meter_mod is 16 bytes");
_Static_assert(sizeof(struct ofp_meter_band_header) == 12,
               "ofp_meter_band_header is 12 bytes");
_Static_assert(sizeof(struct ofp_meter_band_drop) == 16,
               "ofp_meter_band_drop is 16 bytes");
_Static_assert(sizeof(struct ofp_meter_band_dscp_remark) == 16,
               "ofp_meter_band_dscp_remark is 16 bytes");
_Static_assert(sizeof(struct ofp_meter_multipart_request) == 8,
               "ofp_meter_multipart_request is 8 bytes");
_Static_assert(sizeof(struct ofp_meter_config) == 8, "ofp_meter_config is 8");
_Static_assert(sizeof(struct ofp_meter_stats) == 40, "ofp_meter_stats is 40");
_Static_assert(sizeof(struct ofp_meter_band_stats) == 16,
               "ofp_meter_band_stats is 16 bytes");
_Static_assert(sizeof(struct ofp_meter_features_body) == 16,
               "ofp_meter_features is 16 bytes");
_Static_assert(sizeof(struct ofp_experimenter_header) == 16,
               "ofp_experimenter_header is 16 bytes");
_Static_assert(sizeof(struct onf_bundle_ctrl) == 24, "onf_bundle_ctrl is 24");
_Static_assert(sizeof(struct onf_bundle_add) == 24,
               "onf_bundle_add fixed part is 24 bytes");

/* OFPT_ROLE_REQUEST and OFPT_ROLE_REPLY (A.3.9), ofp13_role.c. */
struct ofp_role_request {
    struct ofp_header header;
    ofp_be32 role; /* OFPCR_ROLE_* */
    uint8_t pad[4];
    ofp_be64 generation_id;
};
_Static_assert(sizeof(struct ofp_role_request) == 24, "ofp_role_request is 24 bytes");

#endif /* PEERFLOW_OFP13_WIRE_H */
