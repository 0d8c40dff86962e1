/*
 * ofp13.c - OpenFlow 1.3 codec: framing, headers and the
 * symmetric messages (hello, error, echo, features, barrier), the
 * multipart header, names. One file per message family as Open vSwitch
 * does: ofp13_flow.c (flow mods, flow stats), ofp13_port.c (port desc,
 * port status), ofp13_meter.c (meter mods, meter multiparts),
 * ofp13_bundle.c (ONF bundles).
 * See ofp13.h for the contract and ofp13_priv.h for the shared helpers.
 *
 * Encoding fills the wire structures of ofp13_wire.h (big-endian fields,
 * every byte zeroed first) and appends them to the output with a writer
 * that keeps counting past the end of the buffer, so a too-small buffer is
 * reported together with the size that would have been needed.
 *
 * Decoding works on absolute offsets inside one message: each reader
 * function gets [off, end) and first checks that the bytes it is about to
 * copy lie inside that range. Lengths read from the wire only ever shrink
 * ranges, never extend them, which is what keeps every read in bounds.
 */
#include "provisioner/ofp13_priv.h"

const char *ofp_status_name(int status)
{
    switch (status) {
    case OFP_OK: return "ok";
    case OFP_NEED_MORE: return "need_more";
    case OFP_E_NOSPACE: return "no_space";
    case OFP_E_TRUNCATED: return "truncated";
    case OFP_E_BAD_LENGTH: return "bad_length";
    case OFP_E_BAD_VERSION: return "bad_version";
    case OFP_E_BAD_TYPE: return "bad_type";
    case OFP_E_BAD_VALUE: return "bad_value";
    case OFP_E_TOO_MANY: return "too_many";
    case OFP_E_TOO_LONG: return "too_long";
    case OFP_E_UNSUPPORTED: return "unsupported";
    default: return "unknown";
    }
}


/* ------------------------------------------------------------------------ */
/* Encoders                                                                  */
/* ------------------------------------------------------------------------ */

int ofp_encode_hello(uint8_t *buf, size_t cap, uint32_t xid, uint32_t bitmap,
                     size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    put_header(&w, OFPT_HELLO, xid);
    if (bitmap) {
        struct ofp_hello_elem_versionbitmap e;
        e.type = hton16(OFPHET_VERSIONBITMAP);
        e.length = hton16(sizeof e + 4); /* one 32-bit bitmap, no padding */
        put(&w, &e, sizeof e);
        put_be32(&w, bitmap);
    }
    return finish(&w, out_len, err);
}

int ofp_encode_error(uint8_t *buf, size_t cap, uint32_t xid, uint16_t type,
                     uint16_t code, const uint8_t *data, size_t data_len,
                     size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    if (data_len > OFP_MAX_MSG_LEN)
        return fail(err, OFP_E_TOO_LONG, 0, "error data of %zu bytes is too "
                    "long for one message", data_len);
    if (data_len && !data)
        return fail(err, OFP_E_BAD_VALUE, 0, "error data is NULL but "
                    "data_len is %zu", data_len);
    put_header(&w, OFPT_ERROR, xid);
    put_be16(&w, type);
    put_be16(&w, code);
    put(&w, data, data_len);
    return finish(&w, out_len, err);
}

static int encode_echo(uint8_t type, uint8_t *buf, size_t cap, uint32_t xid,
                       const uint8_t *payload, size_t payload_len,
                       size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    if (payload_len > OFP_MAX_MSG_LEN)
        return fail(err, OFP_E_TOO_LONG, 0, "echo payload of %zu bytes is "
                    "too long for one message", payload_len);
    if (payload_len && !payload)
        return fail(err, OFP_E_BAD_VALUE, 0, "echo payload is NULL but "
                    "payload_len is %zu", payload_len);
    put_header(&w, type, xid);
    put(&w, payload, payload_len);
    return finish(&w, out_len, err);
}

int ofp_encode_echo_request(uint8_t *buf, size_t cap, uint32_t xid,
                            const uint8_t *payload, size_t payload_len,
                            size_t *out_len, struct ofp_err *err)
{
    return encode_echo(OFPT_ECHO_REQUEST, buf, cap, xid, payload, payload_len,
                       out_len, err);
}

int ofp_encode_echo_reply(uint8_t *buf, size_t cap, uint32_t xid,
                          const uint8_t *payload, size_t payload_len,
                          size_t *out_len, struct ofp_err *err)
{
    return encode_echo(OFPT_ECHO_REPLY, buf, cap, xid, payload, payload_len,
                       out_len, err);
}

static int encode_empty(uint8_t type, uint8_t *buf, size_t cap, uint32_t xid,
                        size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    put_header(&w, type, xid);
    return finish(&w, out_len, err);
}

int ofp_encode_features_request(uint8_t *buf, size_t cap, uint32_t xid,
                                size_t *out_len, struct ofp_err *err)
{
    return encode_empty(OFPT_FEATURES_REQUEST, buf, cap, xid, out_len, err);
}

int ofp_encode_barrier_request(uint8_t *buf, size_t cap, uint32_t xid,
                               size_t *out_len, struct ofp_err *err)
{
    return encode_empty(OFPT_BARRIER_REQUEST, buf, cap, xid, out_len, err);
}

int ofp_encode_barrier_reply(uint8_t *buf, size_t cap, uint32_t xid,
                             size_t *out_len, struct ofp_err *err)
{
    return encode_empty(OFPT_BARRIER_REPLY, buf, cap, xid, out_len, err);
}

int ofp_encode_features_reply(uint8_t *buf, size_t cap, uint32_t xid,
                              const struct ofp_features *in, size_t *out_len,
                              struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    struct ofp_switch_features sf;
    memset(&sf, 0, sizeof sf);
    sf.header.version = OFP13_VERSION;
    sf.header.type = OFPT_FEATURES_REPLY;
    sf.header.xid = hton32(xid);
    sf.datapath_id = hton64(in->datapath_id);
    sf.n_buffers = hton32(in->n_buffers);
    sf.n_tables = in->n_tables;
    sf.auxiliary_id = in->auxiliary_id;
    sf.capabilities = hton32(in->capabilities);
    put(&w, &sf, sizeof sf);
    return finish(&w, out_len, err);
}


/* ------------------------------------------------------------------------ */
/* Framing and headers                                                       */
/* ------------------------------------------------------------------------ */

int ofp_frame_length(const uint8_t *buf, size_t len, size_t *msg_len,
                     struct ofp_err *err)
{
    if (msg_len)
        *msg_len = 0;
    /* The version is checked as soon as it is there so that a peer that
     * speaks something else is refused without waiting for more bytes. */
    if (len >= 2 && buf[0] != OFP13_VERSION && buf[1] != OFPT_HELLO)
        return fail(err, OFP_E_BAD_VERSION, 0,
                    "message version 0x%02x is not OpenFlow 1.3 (0x04)",
                    buf[0]);
    if (len < OFP_HEADER_LEN) {
        ok(err);
        return OFP_NEED_MORE;
    }
    uint16_t hlen = get16(buf + offsetof(struct ofp_header, length));
    if (hlen < OFP_HEADER_LEN)
        return fail(err, OFP_E_BAD_LENGTH, 2,
                    "header length %u is shorter than the 8-byte header",
                    hlen);
    if (msg_len)
        *msg_len = hlen;
    ok(err);
    return len >= hlen ? OFP_OK : OFP_NEED_MORE;
}

int ofp_decode_header(const uint8_t *buf, size_t len, struct ofp_msg_header *h,
                      struct ofp_err *err)
{
    if (len < OFP_HEADER_LEN)
        return fail(err, OFP_E_TRUNCATED, 0, "message of %zu bytes is shorter "
                    "than the 8-byte header", len);
    struct ofp_header wh;
    memcpy(&wh, buf, sizeof wh);
    uint16_t hlen = ntoh16(wh.length);
    if (wh.version != OFP13_VERSION && wh.type != OFPT_HELLO)
        return fail(err, OFP_E_BAD_VERSION, 0,
                    "message version 0x%02x is not OpenFlow 1.3 (0x04)",
                    wh.version);
    if (hlen < OFP_HEADER_LEN)
        return fail(err, OFP_E_BAD_LENGTH, 2,
                    "header length %u is shorter than the 8-byte header",
                    hlen);
    if (hlen > len)
        return fail(err, OFP_E_TRUNCATED, len, "header length %u but only "
                    "%zu bytes are present", hlen, len);
    if (hlen < len)
        return fail(err, OFP_E_BAD_LENGTH, hlen, "header length %u but %zu "
                    "bytes were given (trailing bytes)", hlen, len);
    if (h) {
        h->version = wh.version;
        h->type = wh.type;
        h->length = hlen;
        h->xid = ntoh32(wh.xid);
    }
    ok(err);
    return OFP_OK;
}


/* ------------------------------------------------------------------------ */
/* Decoders: simple messages                                                 */
/* ------------------------------------------------------------------------ */

/* Returns OFP_OK and updates *out for one hello element at [off, end). */
static int decode_hello_elem(const uint8_t *buf, size_t off, size_t end,
                             struct ofp_hello *out, size_t *next,
                             struct ofp_err *err)
{
    struct ofp_hello_elem_header eh;
    if (end - off < sizeof eh)
        return fail(err, OFP_E_TRUNCATED, off, "hello element at offset %zu "
                    "has %zu bytes, fewer than its 4-byte header", off,
                    end - off);
    memcpy(&eh, buf + off, sizeof eh);
    uint16_t type = ntoh16(eh.type), elen = ntoh16(eh.length);
    if (elen < sizeof eh)
        return fail(err, OFP_E_BAD_LENGTH, off, "hello element length %u at "
                    "offset %zu is shorter than its 4-byte header", elen, off);
    if (round8(elen) > end - off)
        return fail(err, OFP_E_BAD_LENGTH, off, "hello element length %u "
                    "(padded to %zu) at offset %zu exceeds the %zu bytes left",
                    elen, round8(elen), off, end - off);
    if (type == OFPHET_VERSIONBITMAP && !out->has_bitmap) {
        if ((elen - sizeof eh) % 4)
            return fail(err, OFP_E_BAD_LENGTH, off, "version bitmap length %u "
                        "at offset %zu is not 4 + a multiple of 4", elen, off);
        out->has_bitmap = true;
        out->bitmap = elen >= 8 ? get32(buf + off + 4) : 0;
    }
    /* Unknown element types are skipped, as the spec requires. */
    *next = off + round8(elen);
    return OFP_OK;
}

int ofp_decode_hello(const uint8_t *buf, size_t len, struct ofp_hello *out,
                     struct ofp_err *err)
{
    int rc = expect_msg(buf, len, OFPT_HELLO, OFP_HEADER_LEN, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->version = buf[0];
    for (size_t off = OFP_HEADER_LEN; off < len;) {
        rc = decode_hello_elem(buf, off, len, out, &off, err);
        if (rc)
            return rc;
    }
    /* Without a bitmap the peer offers every version up to its header's. */
    out->offers_13 = out->has_bitmap
                         ? (out->bitmap & (1u << OFP13_VERSION)) != 0
                         : out->version >= OFP13_VERSION;
    ok(err);
    return OFP_OK;
}

int ofp_decode_error(const uint8_t *buf, size_t len, struct ofp_error *out,
                     struct ofp_err *err)
{
    struct ofp_error_msg e;
    int rc = expect_msg(buf, len, OFPT_ERROR, sizeof e, err);
    if (rc)
        return rc;
    memcpy(&e, buf, sizeof e);
    out->type = ntoh16(e.type);
    out->code = ntoh16(e.code);
    out->data = buf + sizeof e;
    out->data_len = len - sizeof e;
    ok(err);
    return OFP_OK;
}

int ofp_decode_echo(const uint8_t *buf, size_t len, uint8_t *type,
                    const uint8_t **payload, size_t *payload_len,
                    struct ofp_err *err)
{
    struct ofp_msg_header h = {0};
    int rc = ofp_decode_header(buf, len, &h, err);
    if (rc)
        return rc;
    if (h.type != OFPT_ECHO_REQUEST && h.type != OFPT_ECHO_REPLY)
        return fail(err, OFP_E_BAD_TYPE, 1, "expected ECHO_REQUEST or "
                    "ECHO_REPLY, got %s (%u)", ofp_type_name(h.type), h.type);
    if (type)
        *type = h.type;
    if (payload)
        *payload = buf + OFP_HEADER_LEN;
    if (payload_len)
        *payload_len = len - OFP_HEADER_LEN;
    ok(err);
    return OFP_OK;
}

int ofp_decode_features_reply(const uint8_t *buf, size_t len,
                              struct ofp_features *out, struct ofp_err *err)
{
    struct ofp_switch_features sf;
    int rc = expect_exact(buf, len, OFPT_FEATURES_REPLY, sizeof sf, err);
    if (rc)
        return rc;
    memcpy(&sf, buf, sizeof sf);
    out->datapath_id = ntoh64(sf.datapath_id);
    out->n_buffers = ntoh32(sf.n_buffers);
    out->n_tables = sf.n_tables;
    out->auxiliary_id = sf.auxiliary_id;
    out->capabilities = ntoh32(sf.capabilities);
    ok(err);
    return OFP_OK;
}

int ofp_decode_empty(const uint8_t *buf, size_t len, uint8_t type,
                     struct ofp_err *err)
{
    int rc = expect_exact(buf, len, type, OFP_HEADER_LEN, err);
    if (rc)
        return rc;
    ok(err);
    return OFP_OK;
}

int ofp_decode_barrier_reply(const uint8_t *buf, size_t len,
                             struct ofp_err *err)
{
    return ofp_decode_empty(buf, len, OFPT_BARRIER_REPLY, err);
}


int ofp_decode_multipart_header(const uint8_t *buf, size_t len,
                                uint8_t msg_type, uint16_t *mp_type,
                                uint16_t *flags, struct ofp_err *err)
{
    struct ofp_multipart_request mp; /* same layout as the reply */
    if (msg_type != OFPT_MULTIPART_REQUEST && msg_type != OFPT_MULTIPART_REPLY)
        return fail(err, OFP_E_BAD_TYPE, 1, "%s (%u) is not a multipart "
                    "message type", ofp_type_name(msg_type), msg_type);
    int rc = expect_msg(buf, len, msg_type, sizeof mp, err);
    if (rc)
        return rc;
    memcpy(&mp, buf, sizeof mp);
    if (mp_type)
        *mp_type = ntoh16(mp.type);
    if (flags)
        *flags = ntoh16(mp.flags);
    ok(err);
    return OFP_OK;
}


/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

const char *ofp_type_name(uint8_t type)
{
    static const char *const names[] = {
        "HELLO", "ERROR", "ECHO_REQUEST", "ECHO_REPLY", "EXPERIMENTER",
        "FEATURES_REQUEST", "FEATURES_REPLY", "GET_CONFIG_REQUEST",
        "GET_CONFIG_REPLY", "SET_CONFIG", "PACKET_IN", "FLOW_REMOVED",
        "PORT_STATUS", "PACKET_OUT", "FLOW_MOD", "GROUP_MOD", "PORT_MOD",
        "TABLE_MOD", "MULTIPART_REQUEST", "MULTIPART_REPLY", "BARRIER_REQUEST",
        "BARRIER_REPLY", "QUEUE_GET_CONFIG_REQUEST", "QUEUE_GET_CONFIG_REPLY",
        "ROLE_REQUEST", "ROLE_REPLY", "GET_ASYNC_REQUEST", "GET_ASYNC_REPLY",
        "SET_ASYNC", "METER_MOD"};
    return type < sizeof names / sizeof names[0] ? names[type] : "UNKNOWN";
}

const char *ofp_error_type_name(uint16_t type)
{
    static const char *const names[] = {
        "hello_failed", "bad_request", "bad_action", "bad_instruction",
        "bad_match", "flow_mod_failed", "group_mod_failed", "port_mod_failed",
        "table_mod_failed", "queue_op_failed", "switch_config_failed",
        "role_request_failed", "meter_mod_failed", "table_features_failed"};
    if (type == OFPET_EXPERIMENTER)
        return "experimenter";
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

/* Code names per error type, as in OpenFlow 1.3.5 section A.4.4. */
static const char *const hello_failed_codes[] = {"incompatible", "eperm"};
static const char *const bad_request_codes[] = {
    "bad_version", "bad_type", "bad_multipart", "bad_experimenter",
    "bad_exp_type", "eperm", "bad_len", "buffer_empty", "buffer_unknown",
    "bad_table_id", "is_slave", "bad_port", "bad_packet",
    "multipart_buffer_overflow"};
static const char *const bad_action_codes[] = {
    "bad_type", "bad_len", "bad_experimenter", "bad_exp_type", "bad_out_port",
    "bad_argument", "eperm", "too_many", "bad_queue", "bad_out_group",
    "match_inconsistent", "unsupported_order", "bad_tag", "bad_set_type",
    "bad_set_len", "bad_set_argument"};
static const char *const bad_instruction_codes[] = {
    "unknown_inst", "unsup_inst", "bad_table_id", "unsup_metadata",
    "unsup_metadata_mask", "bad_experimenter", "bad_exp_type", "bad_len",
    "eperm"};
static const char *const bad_match_codes[] = {
    "bad_type", "bad_len", "bad_tag", "bad_dl_addr_mask", "bad_nw_addr_mask",
    "bad_wildcards", "bad_field", "bad_value", "bad_mask", "bad_prereq",
    "dup_field", "eperm"};
static const char *const flow_mod_failed_codes[] = {
    "unknown", "table_full", "bad_table_id", "overlap", "eperm",
    "bad_timeout", "bad_command", "bad_flags"};
static const char *const group_mod_failed_codes[] = {
    "group_exists", "invalid_group", "weight_unsupported", "out_of_groups",
    "out_of_buckets", "chaining_unsupported", "watch_unsupported", "loop",
    "unknown_group", "chained_group", "bad_type", "bad_command", "bad_bucket",
    "bad_watch", "eperm"};
static const char *const port_mod_failed_codes[] = {
    "bad_port", "bad_hw_addr", "bad_config", "bad_advertise", "eperm"};
static const char *const table_mod_failed_codes[] = {"bad_table",
                                                     "bad_config", "eperm"};
static const char *const queue_op_failed_codes[] = {"bad_port", "bad_queue",
                                                    "eperm"};
static const char *const switch_config_failed_codes[] = {"bad_flags",
                                                         "bad_len", "eperm"};
static const char *const role_request_failed_codes[] = {"stale", "unsup",
                                                        "bad_role"};
static const char *const meter_mod_failed_codes[] = {
    "unknown", "meter_exists", "invalid_meter", "unknown_meter",
    "bad_command", "bad_flags", "bad_rate", "bad_burst", "bad_band",
    "bad_band_value", "out_of_meters", "out_of_bands"};
static const char *const table_features_failed_codes[] = {
    "bad_table", "bad_metadata", "bad_type", "bad_len", "bad_argument",
    "eperm"};

#define CODES(a) {a, sizeof a / sizeof a[0]}

const char *ofp_error_code_name(uint16_t type, uint16_t code)
{
    static const struct {
        const char *const *names;
        size_t n;
    } codes[] = { /* indexed by error type */
        CODES(hello_failed_codes),        CODES(bad_request_codes),
        CODES(bad_action_codes),          CODES(bad_instruction_codes),
        CODES(bad_match_codes),           CODES(flow_mod_failed_codes),
        CODES(group_mod_failed_codes),    CODES(port_mod_failed_codes),
        CODES(table_mod_failed_codes),    CODES(queue_op_failed_codes),
        CODES(switch_config_failed_codes), CODES(role_request_failed_codes),
        CODES(meter_mod_failed_codes),    CODES(table_features_failed_codes)};
    if (type >= sizeof codes / sizeof codes[0] || code >= codes[type].n)
        return "unknown";
    return codes[type].names[code];
}


int ofp_format_error(const struct ofp_error *e, char *buf, size_t cap)
{
    struct text t = {buf, buf ? cap : 0, 0};
    if (t.cap)
        t.buf[0] = '\0';
    tprintf(&t, "%s/%s (type %u, code %u)", ofp_error_type_name(e->type),
            ofp_error_code_name(e->type, e->code), e->type, e->code);
    return (int)t.len;
}
