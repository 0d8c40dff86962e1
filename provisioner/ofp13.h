/*
 * ofp13.h - OpenFlow 1.3 (wire version 0x04) message codec.
 *
 * This header is the contract of the codec. It has two halves:
 *
 *  1. Wire structures, one per OpenFlow message or element, laid out as in
 *     the OpenFlow 1.3.5 specification. Every multi-byte field holds its
 *     value in network byte order (big-endian); the ofp_beNN typedefs mark
 *     such fields. Each structure's size is checked with _Static_assert so
 *     a compiler that pads differently fails to build instead of sending
 *     garbage. The codec copies them to and from byte buffers with memcpy,
 *     so buffers need no particular alignment.
 *
 *  2. Host-order representations (struct ofp_flow, ofp_port_info, ...) and
 *     the encode/decode functions that convert between the two.
 *
 * The codec uses libc only: no sockets, no allocation, no global state.
 * Decoders never trust a length taken from the wire: every length field is
 * checked against the bytes actually present before anything is read.
 *
 * Conventions for every function below:
 *  - The return value is OFP_OK (0) on success or a negative enum ofp_status.
 *  - `err` may be NULL; when given it is filled on failure with the same
 *    status, the byte offset (from the start of the message) where the
 *    problem was found, and a sentence saying what was wrong.
 *  - Encoders write exactly one message into buf[0..cap), with every
 *    padding byte zeroed and every length field filled, and store the
 *    message length in *out_len. If cap is too small they write nothing
 *    useful, return OFP_E_NOSPACE and say how many bytes were needed.
 *  - Decoders take exactly one whole message: len must equal the length in
 *    its header (use ofp_frame_length() to cut a byte stream into messages).
 *    Pointers placed in outputs (payloads, error data) borrow from buf and
 *    are valid only while buf is.
 */
#ifndef PEERFLOW_OFP13_H
#define PEERFLOW_OFP13_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Protocol constants                                                        */
/* ------------------------------------------------------------------------ */

#define OFP13_VERSION 0x04
#define OFP_HEADER_LEN 8
#define OFP_MAX_MSG_LEN 65535 /* the header's length field is 16 bits */

enum ofp_type {
    OFPT_HELLO = 0,
    OFPT_ERROR = 1,
    OFPT_ECHO_REQUEST = 2,
    OFPT_ECHO_REPLY = 3,
    OFPT_EXPERIMENTER = 4,
    OFPT_FEATURES_REQUEST = 5,
    OFPT_FEATURES_REPLY = 6,
    OFPT_GET_CONFIG_REQUEST = 7,
    OFPT_GET_CONFIG_REPLY = 8,
    OFPT_SET_CONFIG = 9,
    OFPT_PACKET_IN = 10,
    OFPT_FLOW_REMOVED = 11,
    OFPT_PORT_STATUS = 12,
    OFPT_PACKET_OUT = 13,
    OFPT_FLOW_MOD = 14,
    OFPT_GROUP_MOD = 15,
    OFPT_PORT_MOD = 16,
    OFPT_TABLE_MOD = 17,
    OFPT_MULTIPART_REQUEST = 18,
    OFPT_MULTIPART_REPLY = 19,
    OFPT_BARRIER_REQUEST = 20,
    OFPT_BARRIER_REPLY = 21,
    OFPT_QUEUE_GET_CONFIG_REQUEST = 22,
    OFPT_QUEUE_GET_CONFIG_REPLY = 23,
    OFPT_ROLE_REQUEST = 24,
    OFPT_ROLE_REPLY = 25,
    OFPT_GET_ASYNC_REQUEST = 26,
    OFPT_GET_ASYNC_REPLY = 27,
    OFPT_SET_ASYNC = 28,
    OFPT_METER_MOD = 29
};


/* Meters. */
enum ofp_meter_mod_command { OFPMC_ADD = 0, OFPMC_MODIFY = 1, OFPMC_DELETE = 2 };
#define OFPMF_KBPS 0x0001
#define OFPMF_PKTPS 0x0002
#define OFPMF_BURST 0x0004
#define OFPMF_STATS 0x0008
#define OFPMBT_DROP 1
#define OFPMBT_DSCP_REMARK 2
#define OFPMBT_EXPERIMENTER 0xffff
#define OFPM_MAX 0xffff0000u        /* last usable meter id */
#define OFPM_SLOWPATH 0xfffffffdu
#define OFPM_CONTROLLER 0xfffffffeu
#define OFPM_ALL 0xffffffffu        /* every meter (delete, multiparts) */

/* Bundles: ONF extension 230 (OpenFlow 1.4 bundles for 1.3). */
#define ONF_EXPERIMENTER_ID 0x4f4e4600u
#define ONF_ET_BUNDLE_CONTROL 2300
#define ONF_ET_BUNDLE_ADD_MESSAGE 2301
enum ofp_bundle_ctrl_type {
    OFPBCT_OPEN_REQUEST = 0,
    OFPBCT_OPEN_REPLY = 1,
    OFPBCT_CLOSE_REQUEST = 2,
    OFPBCT_CLOSE_REPLY = 3,
    OFPBCT_COMMIT_REQUEST = 4,
    OFPBCT_COMMIT_REPLY = 5,
    OFPBCT_DISCARD_REQUEST = 6,
    OFPBCT_DISCARD_REPLY = 7
};
#define OFPBF_ATOMIC 0x0001
#define OFPBF_ORDERED 0x0002
/* Bundle errors (OFPBFC_*), carried in OF1.3 as experimenter errors
 * (type OFPET_EXPERIMENTER, exp_code below, experimenter ONF). */
#define ONFERR_ET_BUNDLE_BASE 2300 /* OFPBFC_UNKNOWN */
#define OFPBFC_MSG_UNSUP 2310      /* ONFERR_ET_BUNDLE_BASE + 10 */
#define OFPBFC_MSG_BAD_XID 2309    /* ONFERR_ET_BUNDLE_BASE + 9 */
#define OFPBFC_MSG_FAILED 2313     /* ONFERR_ET_BUNDLE_BASE + 13 */

/* Reserved port numbers (ofp_port_no). */
#define OFPP_MAX 0xffffff00u
#define OFPP_IN_PORT 0xfffffff8u
#define OFPP_TABLE 0xfffffff9u
#define OFPP_NORMAL 0xfffffffau
#define OFPP_FLOOD 0xfffffffbu
#define OFPP_ALL 0xfffffffcu
#define OFPP_CONTROLLER 0xfffffffdu
#define OFPP_LOCAL 0xfffffffeu
#define OFPP_ANY 0xffffffffu

#define OFPG_ANY 0xffffffffu     /* wildcard group in flow mods and stats */
#define OFPTT_ALL 0xff           /* wildcard table in deletes and stats */
#define OFP_NO_BUFFER 0xffffffffu
#define OFPCML_NO_BUFFER 0xffff  /* output max_len: send whole packet */

/* Hello elements. */
#define OFPHET_VERSIONBITMAP 1

/* Flow mod commands. */
enum ofp_flow_mod_command {
    OFPFC_ADD = 0,
    OFPFC_MODIFY = 1,
    OFPFC_MODIFY_STRICT = 2,
    OFPFC_DELETE = 3,
    OFPFC_DELETE_STRICT = 4
};

/* Flow mod flags. */
#define OFPFF_SEND_FLOW_REM 0x0001
#define OFPFF_CHECK_OVERLAP 0x0002
#define OFPFF_RESET_COUNTS 0x0004
#define OFPFF_NO_PKT_COUNTS 0x0008
#define OFPFF_NO_BYT_COUNTS 0x0010

/* Match and OXM. */
#define OFPMT_OXM 1
#define OFPXMC_OPENFLOW_BASIC 0x8000
#define OFPXMC_EXPERIMENTER 0xffff
#define OFPXMT_OFB_IN_PORT 0
#define OFPXMT_OFB_VLAN_VID 6
/* An OXM header is class(16) | field(7) | hasmask(1) | length(8). */
#define OFP_OXM_HEADER(field, hasmask, len)                                   \
    (((uint32_t)OFPXMC_OPENFLOW_BASIC << 16) | ((uint32_t)(field) << 9) |     \
     ((uint32_t)(hasmask) << 8) | (uint32_t)(len))
#define OXM_OF_IN_PORT OFP_OXM_HEADER(OFPXMT_OFB_IN_PORT, 0, 4)
#define OXM_OF_VLAN_VID OFP_OXM_HEADER(OFPXMT_OFB_VLAN_VID, 0, 2)
#define OXM_OF_VLAN_VID_W OFP_OXM_HEADER(OFPXMT_OFB_VLAN_VID, 1, 4)

/* VLAN ids in OXM: bit 12 says "a tag is present"; the low 12 bits are the
 * VID. OFPVID_NONE as an exact match means "untagged packets only". */
#define OFPVID_PRESENT 0x1000
#define OFPVID_NONE 0x0000
#define OFP_VID_MASK 0x0fff
#define OFP_VLAN_VID_BITS 0x1fff /* all bits an OXM vlan_vid may use */

/* Instructions. */
enum ofp_instruction_type {
    OFPIT_GOTO_TABLE = 1,
    OFPIT_WRITE_METADATA = 2,
    OFPIT_WRITE_ACTIONS = 3,
    OFPIT_APPLY_ACTIONS = 4,
    OFPIT_CLEAR_ACTIONS = 5,
    OFPIT_METER = 6,
    OFPIT_EXPERIMENTER = 0xffff
};

/* Actions (the subset the codec represents, plus a few for naming). */
enum ofp_action_type {
    OFPAT_OUTPUT = 0,
    OFPAT_COPY_TTL_OUT = 11,
    OFPAT_COPY_TTL_IN = 12,
    OFPAT_SET_MPLS_TTL = 15,
    OFPAT_DEC_MPLS_TTL = 16,
    OFPAT_PUSH_VLAN = 17,
    OFPAT_POP_VLAN = 18,
    OFPAT_PUSH_MPLS = 19,
    OFPAT_POP_MPLS = 20,
    OFPAT_SET_QUEUE = 21,
    OFPAT_GROUP = 22,
    OFPAT_SET_NW_TTL = 23,
    OFPAT_DEC_NW_TTL = 24,
    OFPAT_SET_FIELD = 25,
    OFPAT_PUSH_PBB = 26,
    OFPAT_POP_PBB = 27,
    OFPAT_EXPERIMENTER = 0xffff
};

#define OFP_ETH_TYPE_VLAN 0x8100 /* 802.1Q */
#define OFP_ETH_TYPE_QINQ 0x88a8 /* 802.1ad */

/* Multipart. */
enum ofp_multipart_type {
    OFPMP_DESC = 0,
    OFPMP_FLOW = 1,
    OFPMP_AGGREGATE = 2,
    OFPMP_TABLE = 3,
    OFPMP_PORT_STATS = 4,
    OFPMP_QUEUE = 5,
    OFPMP_GROUP = 6,
    OFPMP_GROUP_DESC = 7,
    OFPMP_GROUP_FEATURES = 8,
    OFPMP_METER = 9,
    OFPMP_METER_CONFIG = 10,
    OFPMP_METER_FEATURES = 11,
    OFPMP_TABLE_FEATURES = 12,
    OFPMP_PORT_DESC = 13,
    OFPMP_EXPERIMENTER = 0xffff
};
#define OFPMPF_REQ_MORE 0x0001
#define OFPMPF_REPLY_MORE 0x0001

/* Switch capabilities (features reply). */
#define OFPC_FLOW_STATS 0x0001
#define OFPC_TABLE_STATS 0x0002
#define OFPC_PORT_STATS 0x0004
#define OFPC_GROUP_STATS 0x0008
#define OFPC_IP_REASM 0x0020
#define OFPC_QUEUE_STATS 0x0040
#define OFPC_PORT_BLOCKED 0x0100

/* Ports. */
#define OFP_ETH_ALEN 6
#define OFP_MAX_PORT_NAME_LEN 16
#define OFPPC_PORT_DOWN 0x0001
#define OFPPC_NO_RECV 0x0004
#define OFPPC_NO_FWD 0x0020
#define OFPPC_NO_PACKET_IN 0x0040
#define OFPPS_LINK_DOWN 0x0001
#define OFPPS_BLOCKED 0x0002
#define OFPPS_LIVE 0x0004
enum ofp_port_reason { OFPPR_ADD = 0, OFPPR_DELETE = 1, OFPPR_MODIFY = 2 };

/* Error types (ofp_error_msg.type). Codes are named by ofp_error_code_name. */
enum ofp_error_type {
    OFPET_HELLO_FAILED = 0,
    OFPET_BAD_REQUEST = 1,
    OFPET_BAD_ACTION = 2,
    OFPET_BAD_INSTRUCTION = 3,
    OFPET_BAD_MATCH = 4,
    OFPET_FLOW_MOD_FAILED = 5,
    OFPET_GROUP_MOD_FAILED = 6,
    OFPET_PORT_MOD_FAILED = 7,
    OFPET_TABLE_MOD_FAILED = 8,
    OFPET_QUEUE_OP_FAILED = 9,
    OFPET_SWITCH_CONFIG_FAILED = 10,
    OFPET_ROLE_REQUEST_FAILED = 11,
    OFPET_METER_MOD_FAILED = 12,
    OFPET_TABLE_FEATURES_FAILED = 13,
    OFPET_EXPERIMENTER = 0xffff
};

/* The wire structures, with their size assertions. */
#include "provisioner/ofp13_wire.h"

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

enum ofp_status {
    OFP_OK = 0,
    OFP_NEED_MORE = 1,        /* ofp_frame_length only: not a whole message */
    OFP_E_NOSPACE = -1,       /* encoder: output buffer too small */
    OFP_E_TRUNCATED = -2,     /* input ends before a structure it announces */
    OFP_E_BAD_LENGTH = -3,    /* a length field is impossible or inconsistent */
    OFP_E_BAD_VERSION = -4,   /* not OpenFlow 1.3 */
    OFP_E_BAD_TYPE = -5,      /* message/multipart type not what was asked */
    OFP_E_BAD_VALUE = -6,     /* a field value the protocol forbids */
    OFP_E_TOO_MANY = -7,      /* more entries than the caller's array holds */
    OFP_E_TOO_LONG = -8,      /* encoder: message would exceed 65535 bytes */
    OFP_E_UNSUPPORTED = -9    /* encoder: something the codec cannot write */
};

struct ofp_err {
    enum ofp_status code;
    size_t offset;  /* byte offset in the message where it went wrong */
    char msg[200];  /* what was wrong, one sentence */
};

/* Stable lowercase name of a status, e.g. "truncated". */
const char *ofp_status_name(int status);

/* ------------------------------------------------------------------------ */
/* Host-order representations                                                */
/* ------------------------------------------------------------------------ */

struct ofp_msg_header {
    uint8_t version;
    uint8_t type;
    uint16_t length;
    uint32_t xid;
};

/* The match fields the codec understands. vlan_vid holds the OXM value,
 * OFPVID_PRESENT included: PRESENT|vid matches packets tagged with vid,
 * OFPVID_NONE matches untagged packets; with vlan_vid_masked the mask says
 * which of the 13 bits must match (PRESENT/PRESENT = any tagged packet).
 * Use the ofp_match_* helpers rather than setting the bits by hand. */
struct ofp_flow_match {
    bool has_in_port;
    uint32_t in_port;
    bool has_vlan_vid;
    bool vlan_vid_masked;
    uint16_t vlan_vid;
    uint16_t vlan_vid_mask;
};

/* One action of an APPLY_ACTIONS instruction. */
struct ofp_flow_action {
    uint16_t type;      /* OFPAT_OUTPUT, _PUSH_VLAN, _POP_VLAN, _SET_FIELD */
    uint32_t port;      /* OUTPUT */
    uint16_t max_len;   /* OUTPUT: bytes sent to a controller port */
    uint16_t ethertype; /* PUSH_VLAN: 0x8100 (or 0x88a8) */
    uint16_t vlan_vid;  /* SET_FIELD vlan_vid: 12-bit VID, PRESENT added on
                           the wire and removed when decoding */
};

#define OFP_MAX_ACTIONS 16

/* A flow as peerflow writes it (flow mod) and reads it back (flow stats).
 * Fields a flow stats entry does not carry (command, cookie_mask,
 * buffer_id, out_port, out_group) keep their ofp_flow_init values when
 * decoding one. n_unknown counts match fields, instructions and actions
 * that were present on the wire but the codec does not represent (other
 * OXM fields, WRITE_ACTIONS, GOTO_TABLE, ..., or actions beyond
 * OFP_MAX_ACTIONS): such a flow is decoded so a multipart reply still reads
 * in full, but it cannot be re-encoded and is not a flow peerflow wrote. */
struct ofp_flow {
    uint8_t command; /* enum ofp_flow_mod_command */
    uint8_t table_id;
    uint16_t idle_timeout;
    uint16_t hard_timeout;
    uint16_t priority;
    uint16_t flags; /* OFPFF_* */
    uint64_t cookie;
    uint64_t cookie_mask;
    uint32_t buffer_id;
    uint32_t out_port;
    uint32_t out_group;
    struct ofp_flow_match match;
    bool has_meter;
    uint32_t meter_id;
    /* APPLY_ACTIONS: written when has_apply_actions or n_actions > 0. */
    bool has_apply_actions;
    size_t n_actions;
    struct ofp_flow_action actions[OFP_MAX_ACTIONS];
    unsigned n_unknown;
};

/* A flow stats reply entry: the flow plus its counters. */
struct ofp_flow_entry {
    struct ofp_flow flow;
    uint32_t duration_sec;
    uint32_t duration_nsec;
    uint64_t packet_count;
    uint64_t byte_count;
};

/* Each flow stats entry is at least 56 bytes, so a message holds at most
 * this many; an array this long never gets OFP_E_TOO_MANY. */
#define OFP_MAX_FLOW_ENTRIES_PER_MSG                                          \
    ((OFP_MAX_MSG_LEN - sizeof(struct ofp_multipart_reply)) /                 \
     sizeof(struct ofp_flow_stats))

struct ofp_flow_stats_req {
    uint8_t table_id;   /* OFPTT_ALL for every table */
    uint16_t flags;     /* multipart request flags */
    uint32_t out_port;  /* OFPP_ANY: no restriction */
    uint32_t out_group; /* OFPG_ANY: no restriction */
    uint64_t cookie;
    uint64_t cookie_mask; /* 0: any cookie */
    struct ofp_flow_match match;
};

struct ofp_port_info {
    uint32_t port_no;
    uint8_t hw_addr[OFP_ETH_ALEN];
    char name[OFP_MAX_PORT_NAME_LEN + 1]; /* always NUL-terminated */
    uint32_t config;
    uint32_t state;
    uint32_t curr;
    uint32_t advertised;
    uint32_t supported;
    uint32_t peer;
    uint32_t curr_speed;
    uint32_t max_speed;
};

#define OFP_MAX_PORTS_PER_MSG                                                 \
    ((OFP_MAX_MSG_LEN - sizeof(struct ofp_multipart_reply)) /                 \
     sizeof(struct ofp_port))

struct ofp_hello {
    uint8_t version;      /* from the header */
    bool has_bitmap;      /* a version bitmap element was present */
    uint32_t bitmap;      /* first 32 bits: bit n = wire version n */
    bool offers_13;       /* the peer can speak OpenFlow 1.3 */
};

struct ofp_error {
    uint16_t type;        /* enum ofp_error_type */
    uint16_t code;
    const uint8_t *data;  /* borrowed from the decoded buffer */
    size_t data_len;
};

struct ofp_features {
    uint64_t datapath_id;
    uint32_t n_buffers;
    uint8_t n_tables;
    uint8_t auxiliary_id;
    uint32_t capabilities;
};

struct ofp_port_status_info {
    uint8_t reason; /* enum ofp_port_reason */
    struct ofp_port_info port;
};

/* ------------------------------------------------------------------------ */
/* Host-side helpers                                                         */
/* ------------------------------------------------------------------------ */

/* Zero the flow and set the "no restriction" values: command ADD,
 * buffer_id OFP_NO_BUFFER, out_port OFPP_ANY, out_group OFPG_ANY. */
void ofp_flow_init(struct ofp_flow *f);
/* Zero the request and select every flow: table OFPTT_ALL, out_port
 * OFPP_ANY, out_group OFPG_ANY, no cookie mask, empty match. */
void ofp_flow_stats_req_init(struct ofp_flow_stats_req *r);

void ofp_match_in_port(struct ofp_flow_match *m, uint32_t port);
/* Match packets tagged with VLAN `vid` (0..4095). */
void ofp_match_vlan(struct ofp_flow_match *m, uint16_t vid);
/* Match untagged packets only. */
void ofp_match_untagged(struct ofp_flow_match *m);
/* Match the OXM value/mask pair as given (13-bit values). */
void ofp_match_vlan_masked(struct ofp_flow_match *m, uint16_t value,
                           uint16_t mask);

/* Append an action; return OFP_E_TOO_MANY when the flow already holds
 * OFP_MAX_ACTIONS. All of them set has_apply_actions. */
int ofp_flow_add_output(struct ofp_flow *f, uint32_t port, uint16_t max_len);
int ofp_flow_add_push_vlan(struct ofp_flow *f, uint16_t ethertype);
int ofp_flow_add_pop_vlan(struct ofp_flow *f);
int ofp_flow_add_set_vlan_vid(struct ofp_flow *f, uint16_t vid);

/* Field-by-field equality of every member (no memcmp over padding). */
bool ofp_match_equal(const struct ofp_flow_match *a,
                     const struct ofp_flow_match *b);
bool ofp_flow_equal(const struct ofp_flow *a, const struct ofp_flow *b);

/* ------------------------------------------------------------------------ */
/* Framing and headers                                                       */
/* ------------------------------------------------------------------------ */

/* Decide whether buf[0..len) starts with a whole message.
 * Returns OFP_OK with *msg_len set when it does, OFP_NEED_MORE when more
 * bytes are needed (*msg_len is set once the header is complete, else 0),
 * or an error: header length < 8 (OFP_E_BAD_LENGTH) or a version other
 * than 1.3 (OFP_E_BAD_VERSION). HELLO is accepted at any version because
 * version negotiation happens through it. A 16-bit length cannot exceed
 * OFP_MAX_MSG_LEN, so that bound holds by construction. */
int ofp_frame_length(const uint8_t *buf, size_t len, size_t *msg_len,
                     struct ofp_err *err);

/* Decode the header of one whole message (same checks as ofp_frame_length
 * plus: its length field equals len). */
int ofp_decode_header(const uint8_t *buf, size_t len, struct ofp_msg_header *h,
                      struct ofp_err *err);

/* ------------------------------------------------------------------------ */
/* Encoders                                                                  */
/* ------------------------------------------------------------------------ */

/* HELLO with a version bitmap element when bitmap != 0 (bit n = version n;
 * (1u << OFP13_VERSION) offers 1.3 only), else a bare header. */
int ofp_encode_hello(uint8_t *buf, size_t cap, uint32_t xid, uint32_t bitmap,
                     size_t *out_len, struct ofp_err *err);
int ofp_encode_error(uint8_t *buf, size_t cap, uint32_t xid, uint16_t type,
                     uint16_t code, const uint8_t *data, size_t data_len,
                     size_t *out_len, struct ofp_err *err);
int ofp_encode_echo_request(uint8_t *buf, size_t cap, uint32_t xid,
                            const uint8_t *payload, size_t payload_len,
                            size_t *out_len, struct ofp_err *err);
int ofp_encode_echo_reply(uint8_t *buf, size_t cap, uint32_t xid,
                          const uint8_t *payload, size_t payload_len,
                          size_t *out_len, struct ofp_err *err);
int ofp_encode_features_request(uint8_t *buf, size_t cap, uint32_t xid,
                                size_t *out_len, struct ofp_err *err);
int ofp_encode_features_reply(uint8_t *buf, size_t cap, uint32_t xid,
                              const struct ofp_features *in, size_t *out_len,
                              struct ofp_err *err);
/* Refuses (OFP_E_UNSUPPORTED / OFP_E_BAD_VALUE) a flow with n_unknown != 0,
 * an unknown command or action type, a VID above 4095, an inconsistent
 * vlan match, or a push ethertype other than 0x8100/0x88a8. */
int ofp_encode_flow_mod(uint8_t *buf, size_t cap, uint32_t xid,
                        const struct ofp_flow *in, size_t *out_len,
                        struct ofp_err *err);
int ofp_encode_barrier_request(uint8_t *buf, size_t cap, uint32_t xid,
                               size_t *out_len, struct ofp_err *err);
int ofp_encode_barrier_reply(uint8_t *buf, size_t cap, uint32_t xid,
                             size_t *out_len, struct ofp_err *err);
int ofp_encode_flow_stats_request(uint8_t *buf, size_t cap, uint32_t xid,
                                  const struct ofp_flow_stats_req *in,
                                  size_t *out_len, struct ofp_err *err);
int ofp_encode_port_desc_request(uint8_t *buf, size_t cap, uint32_t xid,
                                 size_t *out_len, struct ofp_err *err);
/* Replies, for test doubles of a switch. Entries' flows follow the same
 * rules as ofp_encode_flow_mod (the flow-mod-only fields are ignored). */
int ofp_encode_flow_stats_reply(uint8_t *buf, size_t cap, uint32_t xid,
                                uint16_t flags,
                                const struct ofp_flow_entry *entries,
                                size_t n_entries, size_t *out_len,
                                struct ofp_err *err);
int ofp_encode_port_desc_reply(uint8_t *buf, size_t cap, uint32_t xid,
                               uint16_t flags,
                               const struct ofp_port_info *ports,
                               size_t n_ports, size_t *out_len,
                               struct ofp_err *err);
int ofp_encode_port_status(uint8_t *buf, size_t cap, uint32_t xid,
                           const struct ofp_port_status_info *in,
                           size_t *out_len, struct ofp_err *err);

/* ------------------------------------------------------------------------ */
/* Decoders (len must be the whole message, as its header says)              */
/* ------------------------------------------------------------------------ */

int ofp_decode_hello(const uint8_t *buf, size_t len, struct ofp_hello *out,
                     struct ofp_err *err);
int ofp_decode_error(const uint8_t *buf, size_t len, struct ofp_error *out,
                     struct ofp_err *err);
/* ECHO_REQUEST or ECHO_REPLY (*type tells which; may be NULL). The payload
 * borrows from buf. */
int ofp_decode_echo(const uint8_t *buf, size_t len, uint8_t *type,
                    const uint8_t **payload, size_t *payload_len,
                    struct ofp_err *err);
int ofp_decode_features_reply(const uint8_t *buf, size_t len,
                              struct ofp_features *out, struct ofp_err *err);
int ofp_decode_flow_mod(const uint8_t *buf, size_t len, struct ofp_flow *out,
                        struct ofp_err *err);
/* A header-only message of the given type (FEATURES_REQUEST, BARRIER_*). */
int ofp_decode_empty(const uint8_t *buf, size_t len, uint8_t type,
                     struct ofp_err *err);
int ofp_decode_barrier_reply(const uint8_t *buf, size_t len,
                             struct ofp_err *err);
/* The multipart header of a request or reply (msg_type says which one is
 * expected): its multipart type and flags. */
int ofp_decode_multipart_header(const uint8_t *buf, size_t len,
                                uint8_t msg_type, uint16_t *mp_type,
                                uint16_t *flags, struct ofp_err *err);
int ofp_decode_flow_stats_request(const uint8_t *buf, size_t len,
                                  struct ofp_flow_stats_req *out,
                                  struct ofp_err *err);
int ofp_decode_port_desc_request(const uint8_t *buf, size_t len,
                                 struct ofp_err *err);
/* Decode every entry into entries[0..cap); *n_entries gets the count and
 * *more whether OFPMPF_REPLY_MORE is set (more replies follow). */
int ofp_decode_flow_stats_reply(const uint8_t *buf, size_t len,
                                struct ofp_flow_entry *entries, size_t cap,
                                size_t *n_entries, bool *more,
                                struct ofp_err *err);
int ofp_decode_port_desc_reply(const uint8_t *buf, size_t len,
                               struct ofp_port_info *ports, size_t cap,
                               size_t *n_ports, bool *more,
                               struct ofp_err *err);
int ofp_decode_port_status(const uint8_t *buf, size_t len,
                           struct ofp_port_status_info *out,
                           struct ofp_err *err);

/* ------------------------------------------------------------------------ */
/* Names and rendering                                                       */
/* ------------------------------------------------------------------------ */

/* "FLOW_MOD", "MULTIPART_REPLY", ...; "UNKNOWN" for other values. */
const char *ofp_type_name(uint8_t type);
/* "bad_request", "flow_mod_failed", ...; "unknown" for other values. */
const char *ofp_error_type_name(uint16_t type);
/* "bad_len", "table_full", ...; "unknown" for codes not named here. */
const char *ofp_error_code_name(uint16_t type, uint16_t code);

/* Render for logs and users, e.g.
 *   "table=0 priority=100 cookie=0x5 in_port=3,dl_vlan=10
 *    actions=set_field:20->vlan_vid,output:4"
 * Writes at most cap bytes including the NUL (cap may be 0); returns the
 * length the whole text needs, as snprintf does. */
int ofp_format_flow(const struct ofp_flow *f, char *buf, size_t cap);
/* An error message: "flow_mod_failed/table_full (type 5, code 1)". */
int ofp_format_error(const struct ofp_error *e, char *buf, size_t cap);

/* ------------------------------------------------------------------------ */
/* Meters (ofp13_meter.c)                                                    */
/* ------------------------------------------------------------------------ */

#define OFP_MAX_METER_BANDS 8

struct ofp_meter_band {
    uint16_t type;        /* OFPMBT_DROP, OFPMBT_DSCP_REMARK */
    uint32_t rate;        /* kb/s with OFPMF_KBPS, else packets/s */
    uint32_t burst_size;  /* kilobits or packets; used with OFPMF_BURST */
    uint8_t prec_level;   /* DSCP_REMARK only */
};

/* A meter mod (command, flags, id, bands) or a meter config entry (the
 * command is then OFPMC_ADD). n_unknown counts bands the codec does not
 * represent (experimenter bands, bands beyond OFP_MAX_METER_BANDS): such a
 * meter is decoded so a reply reads in full, but it cannot be re-encoded. */
struct ofp_meter {
    uint16_t command; /* enum ofp_meter_mod_command */
    uint16_t flags;   /* OFPMF_* */
    uint32_t meter_id;
    size_t n_bands;
    struct ofp_meter_band bands[OFP_MAX_METER_BANDS];
    unsigned n_unknown;
};

/* A meter stats entry. Band counters beyond OFP_MAX_METER_BANDS are
 * skipped (n_bands says how many are stored). */
struct ofp_meter_stats_entry {
    uint32_t meter_id;
    uint32_t flow_count;
    uint64_t packet_in_count;
    uint64_t byte_in_count;
    uint32_t duration_sec;
    uint32_t duration_nsec;
    size_t n_bands;
    struct {
        uint64_t packets;
        uint64_t bytes;
    } bands[OFP_MAX_METER_BANDS];
};

struct ofp_meter_features {
    uint32_t max_meter;
    uint32_t band_types;   /* bit n = band type n supported */
    uint32_t capabilities; /* OFPMF_* supported */
    uint8_t max_bands;
    uint8_t max_color;
};

/* Each config entry is at least 8 bytes (each stats entry 40). */
#define OFP_MAX_METER_ENTRIES_PER_MSG                                         \
    ((OFP_MAX_MSG_LEN - sizeof(struct ofp_multipart_reply)) /                 \
     sizeof(struct ofp_meter_config))

/* Zero the meter: command ADD, no bands. */
void ofp_meter_init(struct ofp_meter *m, uint16_t command, uint16_t flags,
                    uint32_t meter_id);
/* Append a DROP band; OFP_E_TOO_MANY when the meter is full. */
int ofp_meter_add_drop(struct ofp_meter *m, uint32_t rate, uint32_t burst);
/* Same flags, id and bands (command not compared). */
bool ofp_meter_equal(const struct ofp_meter *a, const struct ofp_meter *b);

/* Refuses (OFP_E_BAD_VALUE / OFP_E_UNSUPPORTED) an unknown command, flags
 * outside OFPMF_*, both or neither of KBPS and PKTPS, a meter id of 0 or
 * above OFPM_MAX (OFPM_ALL is allowed with DELETE only), an ADD or MODIFY
 * without bands, a zero rate, an unknown band type or n_unknown != 0. */
int ofp_encode_meter_mod(uint8_t *buf, size_t cap, uint32_t xid,
                         const struct ofp_meter *in, size_t *out_len,
                         struct ofp_err *err);
int ofp_decode_meter_mod(const uint8_t *buf, size_t len, struct ofp_meter *out,
                         struct ofp_err *err);
/* OFPMP_METER_CONFIG / OFPMP_METER request for meter_id (OFPM_ALL: all). */
int ofp_encode_meter_config_request(uint8_t *buf, size_t cap, uint32_t xid,
                                    uint32_t meter_id, size_t *out_len,
                                    struct ofp_err *err);
int ofp_encode_meter_stats_request(uint8_t *buf, size_t cap, uint32_t xid,
                                   uint32_t meter_id, size_t *out_len,
                                   struct ofp_err *err);
int ofp_encode_meter_features_request(uint8_t *buf, size_t cap, uint32_t xid,
                                      size_t *out_len, struct ofp_err *err);
/* Either meter request (*mp_type says which). */
int ofp_decode_meter_request(const uint8_t *buf, size_t len, uint16_t *mp_type,
                             uint32_t *meter_id, struct ofp_err *err);
int ofp_decode_meter_features_request(const uint8_t *buf, size_t len,
                                      struct ofp_err *err);
/* Replies (the encoders are for test doubles of a switch). */
int ofp_encode_meter_config_reply(uint8_t *buf, size_t cap, uint32_t xid,
                                  uint16_t flags, const struct ofp_meter *meters,
                                  size_t n, size_t *out_len,
                                  struct ofp_err *err);
int ofp_decode_meter_config_reply(const uint8_t *buf, size_t len,
                                  struct ofp_meter *meters, size_t cap,
                                  size_t *n, bool *more, struct ofp_err *err);
int ofp_encode_meter_stats_reply(uint8_t *buf, size_t cap, uint32_t xid,
                                 uint16_t flags,
                                 const struct ofp_meter_stats_entry *entries,
                                 size_t n, size_t *out_len,
                                 struct ofp_err *err);
int ofp_decode_meter_stats_reply(const uint8_t *buf, size_t len,
                                 struct ofp_meter_stats_entry *entries,
                                 size_t cap, size_t *n, bool *more,
                                 struct ofp_err *err);
int ofp_encode_meter_features_reply(uint8_t *buf, size_t cap, uint32_t xid,
                                    const struct ofp_meter_features *in,
                                    size_t *out_len, struct ofp_err *err);
int ofp_decode_meter_features_reply(const uint8_t *buf, size_t len,
                                    struct ofp_meter_features *out,
                                    struct ofp_err *err);
/* "meter=5 kbps burst stats bands=type=drop rate=20000 burst_size=..." */
int ofp_format_meter(const struct ofp_meter *m, char *buf, size_t cap);

/* ------------------------------------------------------------------------ */
/* Bundles, ONF extension 230 (ofp13_bundle.c)                               */
/* ------------------------------------------------------------------------ */

struct ofp_bundle_ctrl {
    uint32_t bundle_id;
    uint16_t type;  /* enum ofp_bundle_ctrl_type */
    uint16_t flags; /* OFPBF_ATOMIC | OFPBF_ORDERED */
};

/* A bundle add: the inner message borrows from the decoded buffer. */
struct ofp_bundle_add {
    uint32_t bundle_id;
    uint16_t flags;
    const uint8_t *msg; /* the whole inner message, header included */
    size_t msg_len;
};

int ofp_encode_bundle_ctrl(uint8_t *buf, size_t cap, uint32_t xid,
                           const struct ofp_bundle_ctrl *in, size_t *out_len,
                           struct ofp_err *err);
int ofp_decode_bundle_ctrl(const uint8_t *buf, size_t len,
                           struct ofp_bundle_ctrl *out, struct ofp_err *err);
/* Wraps msg[0..msg_len) (one whole OpenFlow 1.3 message, e.g. a flow mod
 * from ofp_encode_flow_mod) in a bundle add. The inner message's xid must
 * equal xid (OVS refuses others with OFPBFC_MSG_BAD_XID); it is checked. */
int ofp_encode_bundle_add(uint8_t *buf, size_t cap, uint32_t xid,
                          uint32_t bundle_id, uint16_t flags,
                          const uint8_t *msg, size_t msg_len, size_t *out_len,
                          struct ofp_err *err);
/* Checks that the inner message is whole (its header length fits the
 * bundle add exactly or is followed by 8-aligned properties). */
int ofp_decode_bundle_add(const uint8_t *buf, size_t len,
                          struct ofp_bundle_add *out, struct ofp_err *err);
/* The experimenter id and type of an OFPT_EXPERIMENTER message. */
int ofp_decode_experimenter(const uint8_t *buf, size_t len,
                            uint32_t *experimenter, uint32_t *exp_type,
                            struct ofp_err *err);

/* ------------------------------------------------------------------------ */
/* Controller roles (ofp13_role.c)                                           */
/* ------------------------------------------------------------------------ */

enum ofp_controller_role {
    OFPCR_ROLE_NOCHANGE = 0,
    OFPCR_ROLE_EQUAL = 1,
    OFPCR_ROLE_MASTER = 2,
    OFPCR_ROLE_SLAVE = 3
};

/* Codes of OFPET_ROLE_REQUEST_FAILED, and the bad request a slave gets
 * for a write. */
enum {
    OFPRRFC_STALE = 0,    /* generation id older than the switch's newest */
    OFPRRFC_UNSUP = 1,
    OFPRRFC_BAD_ROLE = 2,
    OFPBRC_IS_SLAVE = 10  /* OFPET_BAD_REQUEST: the connection is a slave */
};

/* The body of OFPT_ROLE_REQUEST and OFPT_ROLE_REPLY. The generation id
 * counts only for MASTER and SLAVE (the switch compares it as a signed
 * 64-bit difference with the newest it has seen). */
struct ofp_role {
    uint32_t role; /* enum ofp_controller_role */
    uint64_t generation_id;
};

/* 24 bytes. The encoders refuse a role above SLAVE (OFP_E_BAD_VALUE); the
 * decoders also refuse another length (OFP_E_BAD_LENGTH). The request
 * decoder and the reply encoder are for test doubles of a switch. */
int ofp_encode_role_request(uint8_t *buf, size_t cap, uint32_t xid,
                            const struct ofp_role *in, size_t *out_len,
                            struct ofp_err *err);
int ofp_decode_role_request(const uint8_t *buf, size_t len,
                            struct ofp_role *out, struct ofp_err *err);
int ofp_encode_role_reply(uint8_t *buf, size_t cap, uint32_t xid,
                          const struct ofp_role *in, size_t *out_len,
                          struct ofp_err *err);
int ofp_decode_role_reply(const uint8_t *buf, size_t len, struct ofp_role *out,
                          struct ofp_err *err);
/* "master", "slave", "equal", "nochange", or "unknown". */
const char *ofp_role_name(uint32_t role);

#endif /* PEERFLOW_OFP13_H */
