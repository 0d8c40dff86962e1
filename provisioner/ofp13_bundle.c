/*
 * ofp13_bundle.c - bundles for OpenFlow 1.3: ONF extension 230, the
 * OpenFlow 1.4 bundle messages carried in OFPT_EXPERIMENTER with
 * experimenter ONF_EXPERIMENTER_ID and exp_type 2300 (control) or 2301
 * (add). Open vSwitch implements it for 1.3 connections.
 * See ofp13.h for the contract and ofp13_priv.h for the shared helpers.
 */
#include "provisioner/ofp13_priv.h"

static void put_exp_header(struct writer *w, uint32_t xid, uint32_t exp_type)
{
    struct ofp_experimenter_header eh;
    memset(&eh, 0, sizeof eh);
    eh.header.version = OFP13_VERSION;
    eh.header.type = OFPT_EXPERIMENTER;
    eh.header.xid = hton32(xid);
    eh.experimenter = hton32(ONF_EXPERIMENTER_ID);
    eh.exp_type = hton32(exp_type);
    put(w, &eh, sizeof eh);
}

int ofp_encode_bundle_ctrl(uint8_t *buf, size_t cap, uint32_t xid,
                           const struct ofp_bundle_ctrl *in, size_t *out_len,
                           struct ofp_err *err)
{
    if (in->type > OFPBCT_DISCARD_REPLY)
        return fail(err, OFP_E_BAD_VALUE, 0, "bundle control type %u is not "
                    "one of OpenFlow's 0..7", in->type);
    if (in->flags & ~(OFPBF_ATOMIC | OFPBF_ORDERED))
        return fail(err, OFP_E_BAD_VALUE, 0, "bundle flags 0x%04x use bits "
                    "outside ATOMIC|ORDERED", in->flags);
    struct writer w = writer_init(buf, cap);
    put_exp_header(&w, xid, ONF_ET_BUNDLE_CONTROL);
    put_be32(&w, in->bundle_id);
    put_be16(&w, in->type);
    put_be16(&w, in->flags);
    return finish(&w, out_len, err);
}

int ofp_encode_bundle_add(uint8_t *buf, size_t cap, uint32_t xid,
                          uint32_t bundle_id, uint16_t flags,
                          const uint8_t *msg, size_t msg_len, size_t *out_len,
                          struct ofp_err *err)
{
    struct ofp_msg_header h;
    int rc = ofp_decode_header(msg, msg_len, &h, err);
    if (rc)
        return rc;
    if (h.xid != xid)
        return fail(err, OFP_E_BAD_VALUE, 4, "inner message xid %" PRIu32
                    " differs from the bundle add's %" PRIu32, h.xid, xid);
    if (flags & ~(OFPBF_ATOMIC | OFPBF_ORDERED))
        return fail(err, OFP_E_BAD_VALUE, 0, "bundle flags 0x%04x use bits "
                    "outside ATOMIC|ORDERED", flags);
    struct writer w = writer_init(buf, cap);
    put_exp_header(&w, xid, ONF_ET_BUNDLE_ADD_MESSAGE);
    put_be32(&w, bundle_id);
    put_zeros(&w, 2);
    put_be16(&w, flags);
    put(&w, msg, msg_len);
    /* properties would start 8-aligned; with none, nothing is padded */
    return finish(&w, out_len, err);
}

int ofp_decode_experimenter(const uint8_t *buf, size_t len,
                            uint32_t *experimenter, uint32_t *exp_type,
                            struct ofp_err *err)
{
    int rc = expect_msg(buf, len, OFPT_EXPERIMENTER,
                        sizeof(struct ofp_experimenter_header), err);
    if (rc)
        return rc;
    if (experimenter)
        *experimenter = get32(buf + 8);
    if (exp_type)
        *exp_type = get32(buf + 12);
    ok(err);
    return OFP_OK;
}

/* An ONF bundle message of exp_type, at least min_len bytes. */
static int expect_bundle(const uint8_t *buf, size_t len, uint32_t want,
                         size_t min_len, struct ofp_err *err)
{
    uint32_t exp, type;
    int rc = ofp_decode_experimenter(buf, len, &exp, &type, err);
    if (rc)
        return rc;
    if (exp != ONF_EXPERIMENTER_ID)
        return fail(err, OFP_E_BAD_TYPE, 8, "experimenter 0x%08" PRIx32
                    " is not ONF (0x4f4e4600)", exp);
    if (type != want)
        return fail(err, OFP_E_BAD_TYPE, 12, "ONF experimenter type %" PRIu32
                    ", expected %" PRIu32, type, want);
    if (len < min_len)
        return fail(err, OFP_E_TRUNCATED, len, "bundle message of %zu bytes is "
                    "shorter than its %zu-byte fixed part", len, min_len);
    return OFP_OK;
}

/* Properties after the fixed part: each a type, a length >= 4 inside the
 * message; the codec sends none and skips what it receives. */
static int check_properties(const uint8_t *buf, size_t off, size_t len,
                            struct ofp_err *err)
{
    while (off < len) {
        if (len - off < 4)
            return fail(err, OFP_E_TRUNCATED, off, "bundle property at offset "
                        "%zu: only %zu bytes left", off, len - off);
        size_t plen = get16(buf + off + 2);
        if (plen < 4 || plen > len - off)
            return fail(err, OFP_E_BAD_LENGTH, off + 2, "bundle property "
                        "length %zu at offset %zu is not between 4 and the %zu "
                        "bytes left", plen, off, len - off);
        size_t step = round8(plen);
        off += step <= len - off ? step : len - off;
    }
    return OFP_OK;
}

int ofp_decode_bundle_ctrl(const uint8_t *buf, size_t len,
                           struct ofp_bundle_ctrl *out, struct ofp_err *err)
{
    const size_t fixed = sizeof(struct onf_bundle_ctrl);
    int rc = expect_bundle(buf, len, ONF_ET_BUNDLE_CONTROL, fixed, err);
    if (rc)
        return rc;
    out->bundle_id = get32(buf + 16);
    out->type = get16(buf + 20);
    out->flags = get16(buf + 22);
    if (out->type > OFPBCT_DISCARD_REPLY)
        return fail(err, OFP_E_BAD_VALUE, 20, "bundle control type %u is not "
                    "one of OpenFlow's 0..7", out->type);
    rc = check_properties(buf, fixed, len, err);
    if (rc)
        return rc;
    ok(err);
    return OFP_OK;
}

int ofp_decode_bundle_add(const uint8_t *buf, size_t len,
                          struct ofp_bundle_add *out, struct ofp_err *err)
{
    const size_t fixed = sizeof(struct onf_bundle_add);
    int rc = expect_bundle(buf, len, ONF_ET_BUNDLE_ADD_MESSAGE,
                           fixed + OFP_HEADER_LEN, err);
    if (rc)
        return rc;
    out->bundle_id = get32(buf + 16);
    out->flags = get16(buf + 22);
    size_t inner = get16(buf + fixed + 2);
    if (inner < OFP_HEADER_LEN || inner > len - fixed)
        return fail(err, OFP_E_BAD_LENGTH, fixed + 2, "inner message length "
                    "%zu is not between 8 and the %zu bytes left", inner,
                    len - fixed);
    if (buf[fixed] != OFP13_VERSION)
        return fail(err, OFP_E_BAD_VERSION, fixed, "inner message has wire "
                    "version 0x%02x, not 1.3 (0x04)", buf[fixed]);
    out->msg = buf + fixed;
    out->msg_len = inner;
    /* properties start at the next multiple of 8 after the inner message */
    size_t props = fixed + round8(inner);
    if (props < len) {
        rc = check_properties(buf, props, len, err);
        if (rc)
            return rc;
    }
    ok(err);
    return OFP_OK;
}
