/*
 * ofp13.c - OpenFlow 1.3 wire codec. See ofp13.h for the contract.
 *
 * Encoding fills the wire structures of ofp13.h (big-endian fields, every
 * byte zeroed first) and appends them to the output with a writer that
 * keeps counting past the end of the buffer, so a too-small buffer is
 * reported together with the size that would have been needed.
 *
 * Decoding works on absolute offsets inside one message: each reader
 * function gets [off, end) and first checks that the bytes it is about to
 * copy lie inside that range. Lengths read from the wire only ever shrink
 * ranges, never extend them, which is what keeps every read in bounds.
 */
#include "ofp13.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Byte order                                                                */
/* ------------------------------------------------------------------------ */

/* Built from bytes rather than htons() so the codec needs no POSIX header
 * and has no 64-bit gap; compilers turn these into bswap instructions. */
static ofp_be16 hton16(uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    ofp_be16 r;
    memcpy(&r, b, sizeof r);
    return r;
}

static ofp_be32 hton32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    ofp_be32 r;
    memcpy(&r, b, sizeof r);
    return r;
}

static ofp_be64 hton64(uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    ofp_be64 r;
    memcpy(&r, b, sizeof r);
    return r;
}

static uint16_t ntoh16(ofp_be16 v)
{
    uint8_t b[2];
    memcpy(b, &v, sizeof b);
    return (uint16_t)((b[0] << 8) | b[1]);
}

static uint32_t ntoh32(ofp_be32 v)
{
    uint8_t b[4];
    memcpy(b, &v, sizeof b);
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
           ((uint32_t)b[2] << 8) | b[3];
}

static uint64_t ntoh64(ofp_be64 v)
{
    uint8_t b[8];
    memcpy(b, &v, sizeof b);
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = (r << 8) | b[i];
    return r;
}

/* Read straight from a byte buffer; callers have checked the bounds. */
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__) || defined(__clang__)
#define OFP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OFP_PRINTF(f, a)
#endif

static int fail(struct ofp_err *err, enum ofp_status code, size_t offset,
                const char *fmt, ...) OFP_PRINTF(4, 5);

static int fail(struct ofp_err *err, enum ofp_status code, size_t offset,
                const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->offset = offset;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

static void ok(struct ofp_err *err)
{
    if (err) {
        err->code = OFP_OK;
        err->offset = 0;
        err->msg[0] = '\0';
    }
}

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
/* Host-side helpers                                                         */
/* ------------------------------------------------------------------------ */

void ofp_flow_init(struct ofp_flow *f)
{
    memset(f, 0, sizeof *f);
    f->command = OFPFC_ADD;
    f->buffer_id = OFP_NO_BUFFER;
    f->out_port = OFPP_ANY;
    f->out_group = OFPG_ANY;
}

void ofp_flow_stats_req_init(struct ofp_flow_stats_req *r)
{
    memset(r, 0, sizeof *r);
    r->table_id = OFPTT_ALL;
    r->out_port = OFPP_ANY;
    r->out_group = OFPG_ANY;
}

void ofp_match_in_port(struct ofp_flow_match *m, uint32_t port)
{
    m->has_in_port = true;
    m->in_port = port;
}

void ofp_match_vlan(struct ofp_flow_match *m, uint16_t vid)
{
    m->has_vlan_vid = true;
    m->vlan_vid_masked = false;
    m->vlan_vid = (uint16_t)(OFPVID_PRESENT | (vid & OFP_VID_MASK));
    m->vlan_vid_mask = 0;
}

void ofp_match_untagged(struct ofp_flow_match *m)
{
    m->has_vlan_vid = true;
    m->vlan_vid_masked = false;
    m->vlan_vid = OFPVID_NONE;
    m->vlan_vid_mask = 0;
}

void ofp_match_vlan_masked(struct ofp_flow_match *m, uint16_t value,
                           uint16_t mask)
{
    m->has_vlan_vid = true;
    m->vlan_vid_masked = true;
    m->vlan_vid = value;
    m->vlan_vid_mask = mask;
}

static int add_action(struct ofp_flow *f, const struct ofp_flow_action *a)
{
    if (f->n_actions >= OFP_MAX_ACTIONS)
        return OFP_E_TOO_MANY;
    f->actions[f->n_actions++] = *a;
    f->has_apply_actions = true;
    return OFP_OK;
}

int ofp_flow_add_output(struct ofp_flow *f, uint32_t port, uint16_t max_len)
{
    struct ofp_flow_action a = {.type = OFPAT_OUTPUT, .port = port,
                                .max_len = max_len};
    return add_action(f, &a);
}

int ofp_flow_add_push_vlan(struct ofp_flow *f, uint16_t ethertype)
{
    struct ofp_flow_action a = {.type = OFPAT_PUSH_VLAN,
                                .ethertype = ethertype};
    return add_action(f, &a);
}

int ofp_flow_add_pop_vlan(struct ofp_flow *f)
{
    struct ofp_flow_action a = {.type = OFPAT_POP_VLAN};
    return add_action(f, &a);
}

int ofp_flow_add_set_vlan_vid(struct ofp_flow *f, uint16_t vid)
{
    struct ofp_flow_action a = {.type = OFPAT_SET_FIELD, .vlan_vid = vid};
    return add_action(f, &a);
}

bool ofp_match_equal(const struct ofp_flow_match *a,
                     const struct ofp_flow_match *b)
{
    if (a->has_in_port != b->has_in_port ||
        (a->has_in_port && a->in_port != b->in_port))
        return false;
    if (a->has_vlan_vid != b->has_vlan_vid)
        return false;
    if (!a->has_vlan_vid)
        return true;
    if (a->vlan_vid_masked != b->vlan_vid_masked || a->vlan_vid != b->vlan_vid)
        return false;
    return !a->vlan_vid_masked || a->vlan_vid_mask == b->vlan_vid_mask;
}

/* Only the members meaningful for the action's type are compared. */
static bool action_equal(const struct ofp_flow_action *a,
                         const struct ofp_flow_action *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case OFPAT_OUTPUT:
        return a->port == b->port && a->max_len == b->max_len;
    case OFPAT_PUSH_VLAN:
        return a->ethertype == b->ethertype;
    case OFPAT_SET_FIELD:
        return a->vlan_vid == b->vlan_vid;
    default:
        return true;
    }
}

bool ofp_flow_equal(const struct ofp_flow *a, const struct ofp_flow *b)
{
    if (a->command != b->command || a->table_id != b->table_id ||
        a->idle_timeout != b->idle_timeout ||
        a->hard_timeout != b->hard_timeout || a->priority != b->priority ||
        a->flags != b->flags || a->cookie != b->cookie ||
        a->cookie_mask != b->cookie_mask || a->buffer_id != b->buffer_id ||
        a->out_port != b->out_port || a->out_group != b->out_group ||
        a->n_unknown != b->n_unknown)
        return false;
    if (!ofp_match_equal(&a->match, &b->match))
        return false;
    if (a->has_meter != b->has_meter ||
        (a->has_meter && a->meter_id != b->meter_id))
        return false;
    bool a_apply = a->has_apply_actions || a->n_actions > 0;
    bool b_apply = b->has_apply_actions || b->n_actions > 0;
    if (a_apply != b_apply || a->n_actions != b->n_actions)
        return false;
    for (size_t i = 0; i < a->n_actions && i < OFP_MAX_ACTIONS; i++)
        if (!action_equal(&a->actions[i], &b->actions[i]))
            return false;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Validation shared by encoder and decoder                                  */
/* ------------------------------------------------------------------------ */

/* What the spec allows for an OXM vlan_vid: 13 bits; unmasked, either
 * OFPVID_NONE or PRESENT|vid; masked, no value bit outside the mask.
 * Returns NULL when valid, else the reason. */
static const char *vlan_match_problem(const struct ofp_flow_match *m)
{
    if (m->vlan_vid & ~OFP_VLAN_VID_BITS)
        return "uses bits above the 13-bit OXM vlan_vid";
    if (m->vlan_vid_masked) {
        if (m->vlan_vid_mask & ~OFP_VLAN_VID_BITS)
            return "has a mask with bits above the 13-bit OXM vlan_vid";
        if (m->vlan_vid & ~m->vlan_vid_mask)
            return "has value bits outside its mask";
        return NULL;
    }
    if (m->vlan_vid != OFPVID_NONE && !(m->vlan_vid & OFPVID_PRESENT))
        return "is a VID without OFPVID_PRESENT (use PRESENT|vid, or "
               "OFPVID_NONE for untagged)";
    return NULL;
}

static int validate_match(const struct ofp_flow_match *m, struct ofp_err *err)
{
    const char *why = m->has_vlan_vid ? vlan_match_problem(m) : NULL;
    if (why)
        return fail(err, OFP_E_BAD_VALUE, 0, "vlan_vid match 0x%04x %s",
                    m->vlan_vid, why);
    return OFP_OK;
}

static bool push_ethertype_ok(uint16_t t)
{
    return t == OFP_ETH_TYPE_VLAN || t == OFP_ETH_TYPE_QINQ;
}

static int validate_action(const struct ofp_flow_action *a, size_t i,
                           struct ofp_err *err)
{
    switch (a->type) {
    case OFPAT_OUTPUT:
    case OFPAT_POP_VLAN:
        return OFP_OK;
    case OFPAT_PUSH_VLAN:
        if (!push_ethertype_ok(a->ethertype))
            return fail(err, OFP_E_BAD_VALUE, 0,
                        "action %zu: push_vlan ethertype 0x%04x is neither "
                        "0x8100 nor 0x88a8", i, a->ethertype);
        return OFP_OK;
    case OFPAT_SET_FIELD:
        if (a->vlan_vid > OFP_VID_MASK)
            return fail(err, OFP_E_BAD_VALUE, 0,
                        "action %zu: set_field vlan_vid %u is above 4095", i,
                        a->vlan_vid);
        return OFP_OK;
    default:
        return fail(err, OFP_E_UNSUPPORTED, 0,
                    "action %zu: type %u is not one the codec encodes "
                    "(output, push_vlan, pop_vlan, set_field vlan_vid)",
                    i, a->type);
    }
}

/* Checks common to flow mods and flow stats entries. */
static int validate_flow_body(const struct ofp_flow *f, struct ofp_err *err)
{
    if (f->n_unknown)
        return fail(err, OFP_E_UNSUPPORTED, 0,
                    "flow carries %u match fields/instructions/actions the "
                    "codec cannot encode", f->n_unknown);
    if (f->n_actions > OFP_MAX_ACTIONS)
        return fail(err, OFP_E_TOO_MANY, 0,
                    "flow has %zu actions, more than OFP_MAX_ACTIONS (%d)",
                    f->n_actions, OFP_MAX_ACTIONS);
    int rc = validate_match(&f->match, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < f->n_actions; i++) {
        rc = validate_action(&f->actions[i], i, err);
        if (rc)
            return rc;
    }
    return OFP_OK;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */
/* ------------------------------------------------------------------------ */

struct writer {
    uint8_t *buf;
    size_t cap;
    size_t len; /* bytes the message needs so far; may exceed cap */
};

static void put(struct writer *w, const void *p, size_t n)
{
    if (w->len <= w->cap && n <= w->cap - w->len && n)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_zeros(struct writer *w, size_t n)
{
    static const uint8_t zeros[8];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(w, zeros, k);
        n -= k;
    }
}

static void put_be16(struct writer *w, uint16_t v)
{
    ofp_be16 b = hton16(v);
    put(w, &b, sizeof b);
}

static void put_be32(struct writer *w, uint32_t v)
{
    ofp_be32 b = hton32(v);
    put(w, &b, sizeof b);
}

static void put_header(struct writer *w, uint8_t type, uint32_t xid)
{
    struct ofp_header h;
    memset(&h, 0, sizeof h);
    h.version = OFP13_VERSION;
    h.type = type;
    h.xid = hton32(xid);
    put(w, &h, sizeof h); /* length is patched by finish() */
}

/* Patch the header length now that the message is complete, or report why
 * it cannot be sent. */
static int finish(struct writer *w, size_t *out_len, struct ofp_err *err)
{
    if (w->len > OFP_MAX_MSG_LEN)
        return fail(err, OFP_E_TOO_LONG, 0,
                    "message would be %zu bytes, over the OpenFlow limit of "
                    "65535", w->len);
    if (w->len > w->cap)
        return fail(err, OFP_E_NOSPACE, 0,
                    "output buffer of %zu bytes is too small: the message "
                    "needs %zu", w->cap, w->len);
    ofp_be16 l = hton16((uint16_t)w->len);
    memcpy(w->buf + offsetof(struct ofp_header, length), &l, sizeof l);
    if (out_len)
        *out_len = w->len;
    ok(err);
    return OFP_OK;
}

static struct writer writer_init(uint8_t *buf, size_t cap)
{
    struct writer w = {buf, buf ? cap : 0, 0};
    return w;
}

/* ------------------------------------------------------------------------ */
/* Encoding matches, actions, instructions                                   */
/* ------------------------------------------------------------------------ */

static size_t match_oxm_len(const struct ofp_flow_match *m)
{
    size_t n = 0;
    if (m->has_in_port)
        n += 4 + 4;
    if (m->has_vlan_vid)
        n += m->vlan_vid_masked ? 4u + 4u : 4u + 2u;
    return n;
}

/* Writes the match (type, length, OXM TLVs, zero padding to 8). */
static void put_match(struct writer *w, const struct ofp_flow_match *m)
{
    size_t unpadded = offsetof(struct ofp_match, oxm_fields) + match_oxm_len(m);
    put_be16(w, OFPMT_OXM);
    put_be16(w, (uint16_t)unpadded);
    if (m->has_in_port) {
        put_be32(w, OXM_OF_IN_PORT);
        put_be32(w, m->in_port);
    }
    if (m->has_vlan_vid && m->vlan_vid_masked) {
        put_be32(w, OXM_OF_VLAN_VID_W);
        put_be16(w, m->vlan_vid);
        put_be16(w, m->vlan_vid_mask);
    } else if (m->has_vlan_vid) {
        put_be32(w, OXM_OF_VLAN_VID);
        put_be16(w, m->vlan_vid);
    }
    put_zeros(w, round8(unpadded) - unpadded);
}

static size_t action_len(const struct ofp_flow_action *a)
{
    switch (a->type) {
    case OFPAT_OUTPUT:
        return sizeof(struct ofp_action_output);
    case OFPAT_SET_FIELD: /* 4 header + 4 OXM header + 2 value, padded */
        return round8(sizeof(struct ofp_action_set_field) + 2);
    default:
        return sizeof(struct ofp_action_push);
    }
}

static void put_action(struct writer *w, const struct ofp_flow_action *a)
{
    if (a->type == OFPAT_OUTPUT) {
        struct ofp_action_output o;
        memset(&o, 0, sizeof o);
        o.type = hton16(OFPAT_OUTPUT);
        o.len = hton16(sizeof o);
        o.port = hton32(a->port);
        o.max_len = hton16(a->max_len);
        put(w, &o, sizeof o);
    } else if (a->type == OFPAT_PUSH_VLAN) {
        struct ofp_action_push p;
        memset(&p, 0, sizeof p);
        p.type = hton16(OFPAT_PUSH_VLAN);
        p.len = hton16(sizeof p);
        p.ethertype = hton16(a->ethertype);
        put(w, &p, sizeof p);
    } else if (a->type == OFPAT_POP_VLAN) {
        struct ofp_action_generic g;
        memset(&g, 0, sizeof g);
        g.type = hton16(OFPAT_POP_VLAN);
        g.len = hton16(sizeof g);
        put(w, &g, sizeof g);
    } else { /* OFPAT_SET_FIELD vlan_vid; validated before */
        struct ofp_action_set_field s;
        size_t len = action_len(a);
        memset(&s, 0, sizeof s);
        s.type = hton16(OFPAT_SET_FIELD);
        s.len = hton16((uint16_t)len);
        ofp_be32 oxm = hton32(OXM_OF_VLAN_VID);
        memcpy(s.field, &oxm, sizeof oxm);
        put(w, &s, sizeof s);
        /* The spec requires PRESENT in a set-field vlan_vid. */
        put_be16(w, (uint16_t)(OFPVID_PRESENT | a->vlan_vid));
        put_zeros(w, len - sizeof s - 2);
    }
}

static bool writes_apply(const struct ofp_flow *f)
{
    return f->has_apply_actions || f->n_actions > 0;
}

static size_t instructions_len(const struct ofp_flow *f)
{
    size_t n = 0;
    if (f->has_meter)
        n += sizeof(struct ofp_instruction_meter);
    if (writes_apply(f)) {
        n += sizeof(struct ofp_instruction_actions);
        for (size_t i = 0; i < f->n_actions; i++)
            n += action_len(&f->actions[i]);
    }
    return n;
}

/* Meter first: it is the first instruction the pipeline executes. */
static void put_instructions(struct writer *w, const struct ofp_flow *f)
{
    if (f->has_meter) {
        struct ofp_instruction_meter m;
        memset(&m, 0, sizeof m);
        m.type = hton16(OFPIT_METER);
        m.len = hton16(sizeof m);
        m.meter_id = hton32(f->meter_id);
        put(w, &m, sizeof m);
    }
    if (writes_apply(f)) {
        struct ofp_instruction_actions ia;
        size_t len = sizeof ia;
        for (size_t i = 0; i < f->n_actions; i++)
            len += action_len(&f->actions[i]);
        memset(&ia, 0, sizeof ia);
        ia.type = hton16(OFPIT_APPLY_ACTIONS);
        ia.len = hton16((uint16_t)len);
        put(w, &ia, sizeof ia);
        for (size_t i = 0; i < f->n_actions; i++)
            put_action(w, &f->actions[i]);
    }
}

/* Bounds on sizes before they are narrowed to 16-bit length fields: a body
 * this large could not fit in a message anyway. */
static int check_body_size(size_t n, struct ofp_err *err)
{
    if (n > OFP_MAX_MSG_LEN)
        return fail(err, OFP_E_TOO_LONG, 0,
                    "flow body of %zu bytes exceeds the OpenFlow message "
                    "limit", n);
    return OFP_OK;
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

int ofp_encode_flow_mod(uint8_t *buf, size_t cap, uint32_t xid,
                        const struct ofp_flow *in, size_t *out_len,
                        struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    struct ofp_flow_mod fm;
    int rc = validate_flow_body(in, err);
    if (rc)
        return rc;
    if (in->command > OFPFC_DELETE_STRICT)
        return fail(err, OFP_E_BAD_VALUE, 0, "flow mod command %u is not "
                    "add/modify/modify_strict/delete/delete_strict (0..4)",
                    in->command);
    memset(&fm, 0, sizeof fm);
    fm.header.version = OFP13_VERSION;
    fm.header.type = OFPT_FLOW_MOD;
    fm.header.xid = hton32(xid);
    fm.cookie = hton64(in->cookie);
    fm.cookie_mask = hton64(in->cookie_mask);
    fm.table_id = in->table_id;
    fm.command = in->command;
    fm.idle_timeout = hton16(in->idle_timeout);
    fm.hard_timeout = hton16(in->hard_timeout);
    fm.priority = hton16(in->priority);
    fm.buffer_id = hton32(in->buffer_id);
    fm.out_port = hton32(in->out_port);
    fm.out_group = hton32(in->out_group);
    fm.flags = hton16(in->flags);
    put(&w, &fm, offsetof(struct ofp_flow_mod, match));
    put_match(&w, &in->match);
    put_instructions(&w, in);
    return finish(&w, out_len, err);
}

static void put_multipart_header(struct writer *w, uint8_t msg_type,
                                 uint32_t xid, uint16_t mp_type,
                                 uint16_t flags)
{
    struct ofp_multipart_request mp; /* same layout as the reply */
    memset(&mp, 0, sizeof mp);
    mp.header.version = OFP13_VERSION;
    mp.header.type = msg_type;
    mp.header.xid = hton32(xid);
    mp.type = hton16(mp_type);
    mp.flags = hton16(flags);
    put(w, &mp, sizeof mp);
}

int ofp_encode_flow_stats_request(uint8_t *buf, size_t cap, uint32_t xid,
                                  const struct ofp_flow_stats_req *in,
                                  size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    struct ofp_flow_stats_request fs;
    int rc = validate_match(&in->match, err);
    if (rc)
        return rc;
    put_multipart_header(&w, OFPT_MULTIPART_REQUEST, xid, OFPMP_FLOW,
                         in->flags);
    memset(&fs, 0, sizeof fs);
    fs.table_id = in->table_id;
    fs.out_port = hton32(in->out_port);
    fs.out_group = hton32(in->out_group);
    fs.cookie = hton64(in->cookie);
    fs.cookie_mask = hton64(in->cookie_mask);
    put(&w, &fs, offsetof(struct ofp_flow_stats_request, match));
    put_match(&w, &in->match);
    return finish(&w, out_len, err);
}

int ofp_encode_port_desc_request(uint8_t *buf, size_t cap, uint32_t xid,
                                 size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    put_multipart_header(&w, OFPT_MULTIPART_REQUEST, xid, OFPMP_PORT_DESC, 0);
    return finish(&w, out_len, err);
}

static int put_flow_entry(struct writer *w, const struct ofp_flow_entry *e,
                          size_t i, struct ofp_err *err)
{
    const struct ofp_flow *f = &e->flow;
    struct ofp_flow_stats fs;
    int rc = validate_flow_body(f, err);
    if (rc) {
        /* Say which entry: prefix the message the validator wrote. */
        if (err) {
            char why[sizeof err->msg];
            memcpy(why, err->msg, sizeof why);
            snprintf(err->msg, sizeof err->msg, "entry %zu: %.160s", i, why);
        }
        return rc;
    }
    size_t len = offsetof(struct ofp_flow_stats, match) +
                 round8(4 + match_oxm_len(&f->match)) + instructions_len(f);
    rc = check_body_size(len, err);
    if (rc)
        return rc;
    memset(&fs, 0, sizeof fs);
    fs.length = hton16((uint16_t)len);
    fs.table_id = f->table_id;
    fs.duration_sec = hton32(e->duration_sec);
    fs.duration_nsec = hton32(e->duration_nsec);
    fs.priority = hton16(f->priority);
    fs.idle_timeout = hton16(f->idle_timeout);
    fs.hard_timeout = hton16(f->hard_timeout);
    fs.flags = hton16(f->flags);
    fs.cookie = hton64(f->cookie);
    fs.packet_count = hton64(e->packet_count);
    fs.byte_count = hton64(e->byte_count);
    put(w, &fs, offsetof(struct ofp_flow_stats, match));
    put_match(w, &f->match);
    put_instructions(w, f);
    return OFP_OK;
}

int ofp_encode_flow_stats_reply(uint8_t *buf, size_t cap, uint32_t xid,
                                uint16_t flags,
                                const struct ofp_flow_entry *entries,
                                size_t n_entries, size_t *out_len,
                                struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    if (n_entries > OFP_MAX_FLOW_ENTRIES_PER_MSG)
        return fail(err, OFP_E_TOO_LONG, 0, "%zu flow entries cannot fit in "
                    "one message", n_entries);
    put_multipart_header(&w, OFPT_MULTIPART_REPLY, xid, OFPMP_FLOW, flags);
    for (size_t i = 0; i < n_entries; i++) {
        int rc = put_flow_entry(&w, &entries[i], i, err);
        if (rc)
            return rc;
    }
    return finish(&w, out_len, err);
}

static void port_to_wire(const struct ofp_port_info *in, struct ofp_port *p)
{
    memset(p, 0, sizeof *p);
    p->port_no = hton32(in->port_no);
    memcpy(p->hw_addr, in->hw_addr, sizeof p->hw_addr);
    /* NUL-padded; a 16-character name fills the field with no terminator. */
    for (size_t i = 0; i < OFP_MAX_PORT_NAME_LEN && in->name[i]; i++)
        p->name[i] = in->name[i];
    p->config = hton32(in->config);
    p->state = hton32(in->state);
    p->curr = hton32(in->curr);
    p->advertised = hton32(in->advertised);
    p->supported = hton32(in->supported);
    p->peer = hton32(in->peer);
    p->curr_speed = hton32(in->curr_speed);
    p->max_speed = hton32(in->max_speed);
}

int ofp_encode_port_desc_reply(uint8_t *buf, size_t cap, uint32_t xid,
                               uint16_t flags,
                               const struct ofp_port_info *ports,
                               size_t n_ports, size_t *out_len,
                               struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    if (n_ports > OFP_MAX_PORTS_PER_MSG)
        return fail(err, OFP_E_TOO_LONG, 0, "%zu ports cannot fit in one "
                    "message", n_ports);
    put_multipart_header(&w, OFPT_MULTIPART_REPLY, xid, OFPMP_PORT_DESC,
                         flags);
    for (size_t i = 0; i < n_ports; i++) {
        struct ofp_port p;
        port_to_wire(&ports[i], &p);
        put(&w, &p, sizeof p);
    }
    return finish(&w, out_len, err);
}

int ofp_encode_port_status(uint8_t *buf, size_t cap, uint32_t xid,
                           const struct ofp_port_status_info *in,
                           size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    struct ofp_port_status ps;
    memset(&ps, 0, sizeof ps);
    ps.header.version = OFP13_VERSION;
    ps.header.type = OFPT_PORT_STATUS;
    ps.header.xid = hton32(xid);
    ps.reason = in->reason;
    port_to_wire(&in->port, &ps.desc);
    put(&w, &ps, sizeof ps);
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

/* Header checks every decoder starts with: a whole message of `type`, at
 * least `min_len` bytes long. */
static int expect_msg(const uint8_t *buf, size_t len, uint8_t type,
                      size_t min_len, struct ofp_err *err)
{
    struct ofp_msg_header h = {0};
    int rc = ofp_decode_header(buf, len, &h, err);
    if (rc)
        return rc;
    if (h.type != type)
        return fail(err, OFP_E_BAD_TYPE, 1, "expected %s (%u), got %s (%u)",
                    ofp_type_name(type), type, ofp_type_name(h.type), h.type);
    if (len < min_len)
        return fail(err, OFP_E_TRUNCATED, len, "%s of %zu bytes is shorter "
                    "than its %zu-byte fixed part", ofp_type_name(type), len,
                    min_len);
    return OFP_OK;
}

/* For messages with no variable part. */
static int expect_exact(const uint8_t *buf, size_t len, uint8_t type,
                        size_t exact, struct ofp_err *err)
{
    int rc = expect_msg(buf, len, type, exact, err);
    if (rc)
        return rc;
    if (len != exact)
        return fail(err, OFP_E_BAD_LENGTH, exact, "%s is %zu bytes; OpenFlow "
                    "1.3 defines exactly %zu", ofp_type_name(type), len, exact);
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

/* ------------------------------------------------------------------------ */
/* Decoding matches, actions, instructions                                   */
/* ------------------------------------------------------------------------ */

static int decode_oxm_in_port(const uint8_t *buf, size_t off, uint32_t oxm,
                              struct ofp_flow_match *m, struct ofp_err *err)
{
    if (oxm & 0x100)
        return fail(err, OFP_E_BAD_VALUE, off, "OXM in_port at offset %zu has "
                    "a mask; in_port cannot be masked", off);
    if ((oxm & 0xff) != 4)
        return fail(err, OFP_E_BAD_LENGTH, off, "OXM in_port at offset %zu "
                    "has length %u, expected 4", off, oxm & 0xff);
    m->has_in_port = true;
    m->in_port = get32(buf + off + 4);
    return OFP_OK;
}

static int decode_oxm_vlan_vid(const uint8_t *buf, size_t off, uint32_t oxm,
                               struct ofp_flow_match *m, struct ofp_err *err)
{
    bool masked = (oxm & 0x100) != 0;
    unsigned want = masked ? 4 : 2;
    if ((oxm & 0xff) != want)
        return fail(err, OFP_E_BAD_LENGTH, off, "OXM vlan_vid%s at offset %zu "
                    "has length %u, expected %u", masked ? " with mask" : "",
                    off, oxm & 0xff, want);
    m->has_vlan_vid = true;
    m->vlan_vid_masked = masked;
    m->vlan_vid = get16(buf + off + 4);
    m->vlan_vid_mask = masked ? get16(buf + off + 6) : 0;
    const char *why = vlan_match_problem(m);
    if (why)
        return fail(err, OFP_E_BAD_VALUE, off, "OXM vlan_vid 0x%04x at offset "
                    "%zu %s", m->vlan_vid, off, why);
    return OFP_OK;
}

/* One OXM TLV at off whose payload is known to fit before the match end. */
static int decode_oxm(const uint8_t *buf, size_t off, uint32_t oxm,
                      struct ofp_flow_match *m, unsigned *n_unknown,
                      struct ofp_err *err)
{
    uint16_t oxm_class = (uint16_t)(oxm >> 16);
    unsigned field = (oxm >> 9) & 0x7f;
    if (oxm_class == OFPXMC_OPENFLOW_BASIC && field == OFPXMT_OFB_IN_PORT) {
        if (m->has_in_port)
            return fail(err, OFP_E_BAD_VALUE, off, "duplicate OXM in_port at "
                        "offset %zu", off);
        return decode_oxm_in_port(buf, off, oxm, m, err);
    }
    if (oxm_class == OFPXMC_OPENFLOW_BASIC && field == OFPXMT_OFB_VLAN_VID) {
        if (m->has_vlan_vid)
            return fail(err, OFP_E_BAD_VALUE, off, "duplicate OXM vlan_vid at "
                        "offset %zu", off);
        return decode_oxm_vlan_vid(buf, off, oxm, m, err);
    }
    (*n_unknown)++; /* a field peerflow does not use: skip it */
    return OFP_OK;
}

/* Decode the ofp_match at [off, end): its type, its length, every TLV, and
 * its padding; *next is where what follows the match starts. */
static int decode_match(const uint8_t *buf, size_t off, size_t end,
                        struct ofp_flow_match *m, unsigned *n_unknown,
                        size_t *next, struct ofp_err *err)
{
    memset(m, 0, sizeof *m);
    if (end - off < 4)
        return fail(err, OFP_E_TRUNCATED, off, "match at offset %zu has %zu "
                    "bytes, fewer than its 4-byte header", off, end - off);
    uint16_t type = get16(buf + off), mlen = get16(buf + off + 2);
    if (type != OFPMT_OXM)
        return fail(err, OFP_E_BAD_VALUE, off, "match type %u at offset %zu "
                    "is not OXM (1)", type, off);
    if (mlen < 4)
        return fail(err, OFP_E_BAD_LENGTH, off + 2, "match length %u at offset "
                    "%zu is shorter than its 4-byte header", mlen, off);
    if (round8(mlen) > end - off)
        return fail(err, OFP_E_BAD_LENGTH, off + 2, "match length %u (padded "
                    "to %zu) at offset %zu exceeds the %zu bytes left", mlen,
                    round8(mlen), off, end - off);
    size_t mend = off + mlen;
    for (size_t p = off + 4; p < mend;) {
        if (mend - p < 4)
            return fail(err, OFP_E_BAD_LENGTH, p, "OXM header at offset %zu "
                        "is cut by the match end (%zu bytes left)", p,
                        mend - p);
        uint32_t oxm = get32(buf + p);
        size_t plen = oxm & 0xff;
        if (plen > mend - p - 4)
            return fail(err, OFP_E_BAD_LENGTH, p, "OXM TLV at offset %zu "
                        "declares %zu payload bytes but only %zu remain in "
                        "the match", p, plen, mend - p - 4);
        int rc = decode_oxm(buf, p, oxm, m, n_unknown, err);
        if (rc)
            return rc;
        p += 4 + plen;
    }
    *next = off + round8(mlen);
    return OFP_OK;
}

static int decode_set_field(const uint8_t *buf, size_t off, size_t alen,
                            struct ofp_flow_action *a, bool *known,
                            struct ofp_err *err)
{
    uint32_t oxm = get32(buf + off + 4);
    size_t plen = oxm & 0xff;
    if (8 + plen > alen)
        return fail(err, OFP_E_BAD_LENGTH, off, "set_field at offset %zu: OXM "
                    "payload of %zu bytes does not fit the %zu-byte action",
                    off, plen, alen);
    if (oxm >> 16 != OFPXMC_OPENFLOW_BASIC ||
        ((oxm >> 9) & 0x7f) != OFPXMT_OFB_VLAN_VID) {
        *known = false; /* some other field: not represented */
        return OFP_OK;
    }
    if ((oxm & 0x100) || plen != 2)
        return fail(err, OFP_E_BAD_LENGTH, off, "set_field vlan_vid at offset "
                    "%zu has %s payload of %zu bytes; expected an unmasked "
                    "2-byte value", off, (oxm & 0x100) ? "a masked" : "a",
                    plen);
    uint16_t v = get16(buf + off + 8);
    if ((v & ~OFP_VLAN_VID_BITS) || !(v & OFPVID_PRESENT))
        return fail(err, OFP_E_BAD_VALUE, off, "set_field vlan_vid 0x%04x at "
                    "offset %zu must be OFPVID_PRESENT (0x1000) | a 12-bit VID",
                    v, off);
    a->type = OFPAT_SET_FIELD;
    a->vlan_vid = v & OFP_VID_MASK;
    *known = true;
    return OFP_OK;
}

/* One action of length alen (checked: >= 8, multiple of 8, in bounds).
 * *known says whether it is a type the codec represents. */
static int decode_action(const uint8_t *buf, size_t off, uint16_t type,
                         size_t alen, struct ofp_flow_action *a, bool *known,
                         struct ofp_err *err)
{
    static const struct { uint16_t type; size_t len; const char *name; }
        fixed[] = {{OFPAT_OUTPUT, sizeof(struct ofp_action_output), "output"},
                   {OFPAT_PUSH_VLAN, sizeof(struct ofp_action_push),
                    "push_vlan"},
                   {OFPAT_POP_VLAN, sizeof(struct ofp_action_generic),
                    "pop_vlan"}};
    memset(a, 0, sizeof *a);
    *known = false;
    if (type == OFPAT_SET_FIELD)
        return decode_set_field(buf, off, alen, a, known, err);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i].type == type && fixed[i].len != alen)
            return fail(err, OFP_E_BAD_LENGTH, off, "%s action at offset %zu "
                        "has length %zu, expected %zu", fixed[i].name, off,
                        alen, fixed[i].len);
    a->type = type;
    if (type == OFPAT_OUTPUT) {
        struct ofp_action_output o;
        memcpy(&o, buf + off, sizeof o);
        a->port = ntoh32(o.port);
        a->max_len = ntoh16(o.max_len);
        *known = true;
    } else if (type == OFPAT_PUSH_VLAN) {
        struct ofp_action_push p;
        memcpy(&p, buf + off, sizeof p);
        a->ethertype = ntoh16(p.ethertype);
        if (!push_ethertype_ok(a->ethertype))
            return fail(err, OFP_E_BAD_VALUE, off, "push_vlan at offset %zu "
                        "has ethertype 0x%04x, not 0x8100 or 0x88a8", off,
                        a->ethertype);
        *known = true;
    } else if (type == OFPAT_POP_VLAN) {
        *known = true;
    }
    return OFP_OK;
}

/* The action list of an APPLY_ACTIONS instruction, at [off, end). */
static int decode_actions(const uint8_t *buf, size_t off, size_t end,
                          struct ofp_flow *f, struct ofp_err *err)
{
    while (off < end) {
        struct ofp_action_header ah;
        struct ofp_flow_action a;
        bool known;
        if (end - off < sizeof ah)
            return fail(err, OFP_E_TRUNCATED, off, "action header at offset "
                        "%zu: only %zu bytes left in the instruction", off,
                        end - off);
        memcpy(&ah, buf + off, sizeof ah);
        uint16_t type = ntoh16(ah.type), alen = ntoh16(ah.len);
        if (alen < 8 || alen % 8)
            return fail(err, OFP_E_BAD_LENGTH, off + 2, "action length %u at "
                        "offset %zu is not a positive multiple of 8", alen,
                        off);
        if (alen > end - off)
            return fail(err, OFP_E_BAD_LENGTH, off + 2, "action length %u at "
                        "offset %zu exceeds the %zu bytes left in its "
                        "instruction", alen, off, end - off);
        int rc = decode_action(buf, off, type, alen, &a, &known, err);
        if (rc)
            return rc;
        if (known && f->n_actions < OFP_MAX_ACTIONS)
            f->actions[f->n_actions++] = a;
        else
            f->n_unknown++;
        off += alen;
    }
    return OFP_OK;
}

/* One instruction of length ilen (checked: >= 8, multiple of 8, in bounds). */
static int decode_instruction(const uint8_t *buf, size_t off, uint16_t type,
                              size_t ilen, struct ofp_flow *f,
                              struct ofp_err *err)
{
    if (type == OFPIT_APPLY_ACTIONS) {
        if (f->has_apply_actions)
            return fail(err, OFP_E_BAD_VALUE, off, "duplicate APPLY_ACTIONS "
                        "instruction at offset %zu", off);
        f->has_apply_actions = true;
        return decode_actions(buf, off + sizeof(struct ofp_instruction_actions),
                              off + ilen, f, err);
    }
    if (type == OFPIT_METER) {
        struct ofp_instruction_meter im;
        if (ilen != sizeof im)
            return fail(err, OFP_E_BAD_LENGTH, off + 2, "meter instruction at "
                        "offset %zu has length %zu, expected 8", off, ilen);
        if (f->has_meter)
            return fail(err, OFP_E_BAD_VALUE, off, "duplicate METER "
                        "instruction at offset %zu", off);
        memcpy(&im, buf + off, sizeof im);
        f->has_meter = true;
        f->meter_id = ntoh32(im.meter_id);
        return OFP_OK;
    }
    f->n_unknown++; /* goto_table, write_actions, ...: not represented */
    return OFP_OK;
}

static int decode_instructions(const uint8_t *buf, size_t off, size_t end,
                               struct ofp_flow *f, struct ofp_err *err)
{
    while (off < end) {
        struct ofp_instruction ih;
        if (end - off < sizeof ih)
            return fail(err, OFP_E_TRUNCATED, off, "instruction header at "
                        "offset %zu: only %zu bytes left", off, end - off);
        memcpy(&ih, buf + off, sizeof ih);
        uint16_t type = ntoh16(ih.type), ilen = ntoh16(ih.len);
        if (ilen < 8 || ilen % 8)
            return fail(err, OFP_E_BAD_LENGTH, off + 2, "instruction length "
                        "%u at offset %zu is not a positive multiple of 8",
                        ilen, off);
        if (ilen > end - off)
            return fail(err, OFP_E_BAD_LENGTH, off + 2, "instruction length "
                        "%u at offset %zu exceeds the %zu bytes left", ilen,
                        off, end - off);
        int rc = decode_instruction(buf, off, type, ilen, f, err);
        if (rc)
            return rc;
        off += ilen;
    }
    return OFP_OK;
}

/* Match then instructions up to end: the variable tail shared by flow mods
 * and flow stats entries. */
static int decode_flow_tail(const uint8_t *buf, size_t match_off, size_t end,
                            struct ofp_flow *f, struct ofp_err *err)
{
    size_t next = 0;
    int rc = decode_match(buf, match_off, end, &f->match, &f->n_unknown,
                          &next, err);
    if (rc)
        return rc;
    return decode_instructions(buf, next, end, f, err);
}

/* ------------------------------------------------------------------------ */
/* Decoders: flow mod and multipart                                          */
/* ------------------------------------------------------------------------ */

int ofp_decode_flow_mod(const uint8_t *buf, size_t len, struct ofp_flow *out,
                        struct ofp_err *err)
{
    struct ofp_flow_mod fm;
    int rc = expect_msg(buf, len, OFPT_FLOW_MOD, sizeof fm, err);
    if (rc)
        return rc;
    memcpy(&fm, buf, sizeof fm);
    ofp_flow_init(out);
    out->cookie = ntoh64(fm.cookie);
    out->cookie_mask = ntoh64(fm.cookie_mask);
    out->table_id = fm.table_id;
    out->command = fm.command;
    out->idle_timeout = ntoh16(fm.idle_timeout);
    out->hard_timeout = ntoh16(fm.hard_timeout);
    out->priority = ntoh16(fm.priority);
    out->buffer_id = ntoh32(fm.buffer_id);
    out->out_port = ntoh32(fm.out_port);
    out->out_group = ntoh32(fm.out_group);
    out->flags = ntoh16(fm.flags);
    if (out->command > OFPFC_DELETE_STRICT)
        return fail(err, OFP_E_BAD_VALUE, offsetof(struct ofp_flow_mod,
                    command), "flow mod command %u is not one of 0..4",
                    out->command);
    rc = decode_flow_tail(buf, offsetof(struct ofp_flow_mod, match), len, out,
                          err);
    if (rc)
        return rc;
    ok(err);
    return OFP_OK;
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

/* Multipart header of the expected message and multipart type. */
static int expect_multipart(const uint8_t *buf, size_t len, uint8_t msg_type,
                            uint16_t want, uint16_t *flags,
                            struct ofp_err *err)
{
    uint16_t mp_type;
    int rc = ofp_decode_multipart_header(buf, len, msg_type, &mp_type, flags,
                                         err);
    if (rc)
        return rc;
    if (mp_type != want)
        return fail(err, OFP_E_BAD_TYPE, 8, "multipart type %u, expected %u",
                    mp_type, want);
    return OFP_OK;
}

int ofp_decode_flow_stats_request(const uint8_t *buf, size_t len,
                                  struct ofp_flow_stats_req *out,
                                  struct ofp_err *err)
{
    struct ofp_flow_stats_request fs;
    const size_t body = sizeof(struct ofp_multipart_request);
    uint16_t flags;
    int rc = expect_multipart(buf, len, OFPT_MULTIPART_REQUEST, OFPMP_FLOW,
                              &flags, err);
    if (rc)
        return rc;
    if (len < body + sizeof fs)
        return fail(err, OFP_E_TRUNCATED, len, "flow stats request of %zu "
                    "bytes is shorter than its %zu-byte fixed part", len,
                    body + sizeof fs);
    memcpy(&fs, buf + body, sizeof fs);
    ofp_flow_stats_req_init(out);
    out->flags = flags;
    out->table_id = fs.table_id;
    out->out_port = ntoh32(fs.out_port);
    out->out_group = ntoh32(fs.out_group);
    out->cookie = ntoh64(fs.cookie);
    out->cookie_mask = ntoh64(fs.cookie_mask);
    unsigned n_unknown = 0;
    size_t next = 0;
    rc = decode_match(buf, body + offsetof(struct ofp_flow_stats_request,
                      match), len, &out->match, &n_unknown, &next, err);
    if (rc)
        return rc;
    if (n_unknown)
        return fail(err, OFP_E_UNSUPPORTED, body + 32, "flow stats request "
                    "matches on %u fields the codec does not represent",
                    n_unknown);
    if (next != len)
        return fail(err, OFP_E_BAD_LENGTH, next, "%zu trailing bytes after "
                    "the flow stats request match", len - next);
    ok(err);
    return OFP_OK;
}

int ofp_decode_port_desc_request(const uint8_t *buf, size_t len,
                                 struct ofp_err *err)
{
    int rc = expect_multipart(buf, len, OFPT_MULTIPART_REQUEST,
                              OFPMP_PORT_DESC, NULL, err);
    if (rc)
        return rc;
    if (len != sizeof(struct ofp_multipart_request))
        return fail(err, OFP_E_BAD_LENGTH, 16, "port desc request is %zu "
                    "bytes; it has no body and is exactly 16", len);
    ok(err);
    return OFP_OK;
}

/* One flow stats entry at [off, off+elen), elen already checked. */
static int decode_flow_entry(const uint8_t *buf, size_t off, size_t elen,
                             struct ofp_flow_entry *e, struct ofp_err *err)
{
    struct ofp_flow_stats fs;
    memcpy(&fs, buf + off, sizeof fs);
    memset(e, 0, sizeof *e);
    ofp_flow_init(&e->flow);
    e->flow.table_id = fs.table_id;
    e->flow.priority = ntoh16(fs.priority);
    e->flow.idle_timeout = ntoh16(fs.idle_timeout);
    e->flow.hard_timeout = ntoh16(fs.hard_timeout);
    e->flow.flags = ntoh16(fs.flags);
    e->flow.cookie = ntoh64(fs.cookie);
    e->duration_sec = ntoh32(fs.duration_sec);
    e->duration_nsec = ntoh32(fs.duration_nsec);
    e->packet_count = ntoh64(fs.packet_count);
    e->byte_count = ntoh64(fs.byte_count);
    return decode_flow_tail(buf, off + offsetof(struct ofp_flow_stats, match),
                            off + elen, &e->flow, err);
}

/* Check the length of the entry at off and return it through *elen. */
static int flow_entry_length(const uint8_t *buf, size_t off, size_t end,
                             size_t *elen, struct ofp_err *err)
{
    const size_t fixed = sizeof(struct ofp_flow_stats);
    if (end - off < 2)
        return fail(err, OFP_E_TRUNCATED, off, "flow_stats entry at offset "
                    "%zu: only %zu byte left, too few for its length", off,
                    end - off);
    size_t n = get16(buf + off);
    if (n < fixed)
        return fail(err, OFP_E_BAD_LENGTH, off, "flow_stats entry length %zu "
                    "at offset %zu is shorter than the %zu-byte fixed part",
                    n, off, fixed);
    if (n > end - off)
        return fail(err, OFP_E_BAD_LENGTH, off, "flow_stats entry length %zu "
                    "at offset %zu exceeds the %zu bytes left", n, off,
                    end - off);
    if (n % 8)
        return fail(err, OFP_E_BAD_LENGTH, off, "flow_stats entry length %zu "
                    "at offset %zu is not a multiple of 8", n, off);
    *elen = n;
    return OFP_OK;
}

int ofp_decode_flow_stats_reply(const uint8_t *buf, size_t len,
                                struct ofp_flow_entry *entries, size_t cap,
                                size_t *n_entries, bool *more,
                                struct ofp_err *err)
{
    uint16_t flags;
    size_t n = 0;
    *n_entries = 0;
    int rc = expect_multipart(buf, len, OFPT_MULTIPART_REPLY, OFPMP_FLOW,
                              &flags, err);
    if (rc)
        return rc;
    for (size_t off = sizeof(struct ofp_multipart_reply); off < len; n++) {
        struct ofp_flow_entry scratch; /* validates entries beyond cap */
        size_t elen = 0;
        rc = flow_entry_length(buf, off, len, &elen, err);
        if (rc)
            return rc;
        rc = decode_flow_entry(buf, off, elen,
                               n < cap ? &entries[n] : &scratch, err);
        if (rc)
            return rc;
        off += elen;
    }
    *n_entries = n;
    if (more)
        *more = (flags & OFPMPF_REPLY_MORE) != 0;
    if (n > cap)
        return fail(err, OFP_E_TOO_MANY, 0, "flow stats reply holds %zu "
                    "entries, more than the %zu the caller has room for", n,
                    cap);
    ok(err);
    return OFP_OK;
}

static void port_from_wire(const struct ofp_port *p, struct ofp_port_info *o)
{
    memset(o, 0, sizeof *o);
    o->port_no = ntoh32(p->port_no);
    memcpy(o->hw_addr, p->hw_addr, sizeof o->hw_addr);
    memcpy(o->name, p->name, sizeof p->name); /* o->name[16] stays NUL */
    o->config = ntoh32(p->config);
    o->state = ntoh32(p->state);
    o->curr = ntoh32(p->curr);
    o->advertised = ntoh32(p->advertised);
    o->supported = ntoh32(p->supported);
    o->peer = ntoh32(p->peer);
    o->curr_speed = ntoh32(p->curr_speed);
    o->max_speed = ntoh32(p->max_speed);
}

int ofp_decode_port_desc_reply(const uint8_t *buf, size_t len,
                               struct ofp_port_info *ports, size_t cap,
                               size_t *n_ports, bool *more,
                               struct ofp_err *err)
{
    const size_t off0 = sizeof(struct ofp_multipart_reply);
    uint16_t flags;
    *n_ports = 0;
    int rc = expect_multipart(buf, len, OFPT_MULTIPART_REPLY, OFPMP_PORT_DESC,
                              &flags, err);
    if (rc)
        return rc;
    if ((len - off0) % sizeof(struct ofp_port))
        return fail(err, OFP_E_BAD_LENGTH, off0, "port_desc reply body of %zu "
                    "bytes is not a multiple of the 64-byte ofp_port",
                    len - off0);
    size_t n = (len - off0) / sizeof(struct ofp_port);
    *n_ports = n;
    if (more)
        *more = (flags & OFPMPF_REPLY_MORE) != 0;
    if (n > cap)
        return fail(err, OFP_E_TOO_MANY, 0, "port_desc reply holds %zu ports, "
                    "more than the %zu the caller has room for", n, cap);
    for (size_t i = 0; i < n; i++) {
        struct ofp_port p;
        memcpy(&p, buf + off0 + i * sizeof p, sizeof p);
        port_from_wire(&p, &ports[i]);
    }
    ok(err);
    return OFP_OK;
}

int ofp_decode_port_status(const uint8_t *buf, size_t len,
                           struct ofp_port_status_info *out,
                           struct ofp_err *err)
{
    struct ofp_port_status ps;
    int rc = expect_exact(buf, len, OFPT_PORT_STATUS, sizeof ps, err);
    if (rc)
        return rc;
    memcpy(&ps, buf, sizeof ps);
    if (ps.reason > OFPPR_MODIFY)
        return fail(err, OFP_E_BAD_VALUE, 8, "port status reason %u is not "
                    "add (0), delete (1) or modify (2)", ps.reason);
    out->reason = ps.reason;
    port_from_wire(&ps.desc, &out->port);
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

/* ------------------------------------------------------------------------ */
/* Rendering                                                                 */
/* ------------------------------------------------------------------------ */

/* snprintf that appends and keeps counting once the buffer is full. */
struct text {
    char *buf;
    size_t cap;
    size_t len;
};

static void tprintf(struct text *t, const char *fmt, ...) OFP_PRINTF(2, 3);

static void tprintf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    char *dst = t->len < t->cap ? t->buf + t->len : NULL;
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    va_start(ap, fmt);
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static const char *port_name(uint32_t port)
{
    switch (port) {
    case OFPP_IN_PORT: return "in_port";
    case OFPP_TABLE: return "table";
    case OFPP_NORMAL: return "normal";
    case OFPP_FLOOD: return "flood";
    case OFPP_ALL: return "all";
    case OFPP_CONTROLLER: return "controller";
    case OFPP_LOCAL: return "local";
    case OFPP_ANY: return "any";
    default: return NULL;
    }
}

static void format_match(struct text *t, const struct ofp_flow_match *m)
{
    const char *sep = " ";
    if (m->has_in_port) {
        tprintf(t, "%sin_port=%" PRIu32, sep, m->in_port);
        sep = ",";
    }
    if (!m->has_vlan_vid)
        return;
    if (m->vlan_vid_masked)
        tprintf(t, "%svlan_vid=0x%04x/0x%04x", sep, m->vlan_vid,
                m->vlan_vid_mask);
    else if (m->vlan_vid == OFPVID_NONE)
        tprintf(t, "%svlan_vid=none", sep);
    else if (m->vlan_vid & OFPVID_PRESENT)
        tprintf(t, "%sdl_vlan=%u", sep, m->vlan_vid & OFP_VID_MASK);
    else
        tprintf(t, "%svlan_vid=0x%04x", sep, m->vlan_vid);
}

static void format_action(struct text *t, const struct ofp_flow_action *a)
{
    const char *name;
    switch (a->type) {
    case OFPAT_OUTPUT:
        name = port_name(a->port);
        if (a->port == OFPP_CONTROLLER)
            tprintf(t, "output:controller:%u", a->max_len);
        else if (name)
            tprintf(t, "output:%s", name);
        else
            tprintf(t, "output:%" PRIu32, a->port);
        break;
    case OFPAT_PUSH_VLAN:
        tprintf(t, "push_vlan:0x%04x", a->ethertype);
        break;
    case OFPAT_POP_VLAN:
        tprintf(t, "pop_vlan");
        break;
    case OFPAT_SET_FIELD:
        tprintf(t, "set_field:%u->vlan_vid", a->vlan_vid);
        break;
    default:
        tprintf(t, "action_type_%u", a->type);
        break;
    }
}

int ofp_format_flow(const struct ofp_flow *f, char *buf, size_t cap)
{
    struct text t = {buf, buf ? cap : 0, 0};
    const char *sep = "";
    if (t.cap)
        t.buf[0] = '\0';
    tprintf(&t, "table=%u priority=%u cookie=0x%" PRIx64, f->table_id,
            f->priority, f->cookie);
    format_match(&t, &f->match);
    tprintf(&t, " actions=");
    if (f->has_meter) {
        tprintf(&t, "meter:%" PRIu32, f->meter_id);
        sep = ",";
    }
    for (size_t i = 0; i < f->n_actions && i < OFP_MAX_ACTIONS; i++) {
        tprintf(&t, "%s", sep);
        format_action(&t, &f->actions[i]);
        sep = ",";
    }
    if (!*sep)
        tprintf(&t, "drop");
    if (f->n_unknown)
        tprintf(&t, " unsupported=%u", f->n_unknown);
    return t.len > INT_MAX ? INT_MAX : (int)t.len;
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
