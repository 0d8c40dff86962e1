/*
 * ofp13_flow.c - flow mods and flow stats: matches, instructions,
 * actions, their validation and their text form.
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

