/*
 * ofp13_meter.c - meters: OFPT_METER_MOD and the meter multiparts
 * (OFPMP_METER_CONFIG, OFPMP_METER, OFPMP_METER_FEATURES).
 * See ofp13.h for the contract and ofp13_priv.h for the shared helpers.
 *
 * Bands are read with the same discipline as flows: each band's length is
 * checked against the bytes left in its entry before anything is copied,
 * and lengths read from the wire only ever shrink ranges.
 */
#include "provisioner/ofp13_priv.h"

void ofp_meter_init(struct ofp_meter *m, uint16_t command, uint16_t flags,
                    uint32_t meter_id)
{
    memset(m, 0, sizeof *m);
    m->command = command;
    m->flags = flags;
    m->meter_id = meter_id;
}

int ofp_meter_add_drop(struct ofp_meter *m, uint32_t rate, uint32_t burst)
{
    if (m->n_bands >= OFP_MAX_METER_BANDS)
        return OFP_E_TOO_MANY;
    struct ofp_meter_band *b = &m->bands[m->n_bands++];
    memset(b, 0, sizeof *b);
    b->type = OFPMBT_DROP;
    b->rate = rate;
    b->burst_size = burst;
    return OFP_OK;
}

bool ofp_meter_equal(const struct ofp_meter *a, const struct ofp_meter *b)
{
    if (a->flags != b->flags || a->meter_id != b->meter_id ||
        a->n_bands != b->n_bands || a->n_unknown != b->n_unknown)
        return false;
    for (size_t i = 0; i < a->n_bands && i < OFP_MAX_METER_BANDS; i++) {
        const struct ofp_meter_band *x = &a->bands[i], *y = &b->bands[i];
        if (x->type != y->type || x->rate != y->rate ||
            x->burst_size != y->burst_size ||
            (x->type == OFPMBT_DSCP_REMARK && x->prec_level != y->prec_level))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ encoding */

#define OFPMF_ALL (OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS)

/* What a meter config entry and a meter mod have in common. */
static int validate_bands(const struct ofp_meter *m, struct ofp_err *err)
{
    if (m->n_unknown)
        return fail(err, OFP_E_UNSUPPORTED, 0, "meter %" PRIu32 " carries %u "
                    "bands the codec cannot encode", m->meter_id,
                    m->n_unknown);
    if (m->n_bands > OFP_MAX_METER_BANDS)
        return fail(err, OFP_E_TOO_MANY, 0, "meter has %zu bands, more than "
                    "OFP_MAX_METER_BANDS (%d)", m->n_bands,
                    OFP_MAX_METER_BANDS);
    if (m->flags & ~OFPMF_ALL)
        return fail(err, OFP_E_BAD_VALUE, 0, "meter flags 0x%04x use bits "
                    "outside KBPS|PKTPS|BURST|STATS", m->flags);
    for (size_t i = 0; i < m->n_bands; i++) {
        const struct ofp_meter_band *b = &m->bands[i];
        if (b->type != OFPMBT_DROP && b->type != OFPMBT_DSCP_REMARK)
            return fail(err, OFP_E_UNSUPPORTED, 0, "band %zu: type %u is "
                        "neither drop (1) nor dscp_remark (2)", i, b->type);
        if (b->rate == 0)
            return fail(err, OFP_E_BAD_VALUE, 0, "band %zu: rate 0 is not "
                        "allowed", i);
    }
    return OFP_OK;
}

static void put_bands(struct writer *w, const struct ofp_meter *m)
{
    for (size_t i = 0; i < m->n_bands; i++) {
        const struct ofp_meter_band *b = &m->bands[i];
        struct ofp_meter_band_dscp_remark wb; /* drop has the same layout */
        memset(&wb, 0, sizeof wb);
        wb.type = hton16(b->type);
        wb.len = hton16((uint16_t)sizeof wb);
        wb.rate = hton32(b->rate);
        wb.burst_size = hton32(b->burst_size);
        if (b->type == OFPMBT_DSCP_REMARK)
            wb.prec_level = b->prec_level;
        put(w, &wb, sizeof wb);
    }
}

int ofp_encode_meter_mod(uint8_t *buf, size_t cap, uint32_t xid,
                         const struct ofp_meter *in, size_t *out_len,
                         struct ofp_err *err)
{
    if (in->command > OFPMC_DELETE)
        return fail(err, OFP_E_BAD_VALUE, 0, "meter mod command %u is not "
                    "add (0), modify (1) or delete (2)", in->command);
    bool all = in->meter_id == OFPM_ALL && in->command == OFPMC_DELETE;
    if (!all && (in->meter_id == 0 || in->meter_id > OFPM_MAX))
        return fail(err, OFP_E_BAD_VALUE, 0, "meter id %" PRIu32 " is outside "
                    "1..0xffff0000", in->meter_id);
    int rc = validate_bands(in, err);
    if (rc)
        return rc;
    if (in->command != OFPMC_DELETE) {
        if (in->n_bands == 0)
            return fail(err, OFP_E_BAD_VALUE, 0, "meter %" PRIu32 ": add and "
                        "modify need at least one band", in->meter_id);
        if (!(in->flags & OFPMF_KBPS) == !(in->flags & OFPMF_PKTPS))
            return fail(err, OFP_E_BAD_VALUE, 0, "meter %" PRIu32 ": flags "
                        "need exactly one of KBPS and PKTPS", in->meter_id);
    }
    struct writer w = writer_init(buf, cap);
    struct ofp_meter_mod mm;
    memset(&mm, 0, sizeof mm);
    mm.header.version = OFP13_VERSION;
    mm.header.type = OFPT_METER_MOD;
    mm.header.xid = hton32(xid);
    mm.command = hton16(in->command);
    mm.flags = hton16(in->flags);
    mm.meter_id = hton32(in->meter_id);
    put(&w, &mm, sizeof mm);
    put_bands(&w, in);
    return finish(&w, out_len, err);
}

static int encode_meter_mp_request(uint8_t *buf, size_t cap, uint32_t xid,
                                   uint16_t mp_type, uint32_t meter_id,
                                   size_t *out_len, struct ofp_err *err)
{
    if (meter_id != OFPM_ALL && (meter_id == 0 || meter_id > OFPM_MAX))
        return fail(err, OFP_E_BAD_VALUE, 0, "meter id %" PRIu32 " is neither "
                    "1..0xffff0000 nor OFPM_ALL", meter_id);
    struct writer w = writer_init(buf, cap);
    put_multipart_header(&w, OFPT_MULTIPART_REQUEST, xid, mp_type, 0);
    struct ofp_meter_multipart_request r;
    memset(&r, 0, sizeof r);
    r.meter_id = hton32(meter_id);
    put(&w, &r, sizeof r);
    return finish(&w, out_len, err);
}

int ofp_encode_meter_config_request(uint8_t *buf, size_t cap, uint32_t xid,
                                    uint32_t meter_id, size_t *out_len,
                                    struct ofp_err *err)
{
    return encode_meter_mp_request(buf, cap, xid, OFPMP_METER_CONFIG, meter_id,
                                   out_len, err);
}

int ofp_encode_meter_stats_request(uint8_t *buf, size_t cap, uint32_t xid,
                                   uint32_t meter_id, size_t *out_len,
                                   struct ofp_err *err)
{
    return encode_meter_mp_request(buf, cap, xid, OFPMP_METER, meter_id,
                                   out_len, err);
}

int ofp_encode_meter_features_request(uint8_t *buf, size_t cap, uint32_t xid,
                                      size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    put_multipart_header(&w, OFPT_MULTIPART_REQUEST, xid, OFPMP_METER_FEATURES,
                         0);
    return finish(&w, out_len, err);
}

int ofp_encode_meter_config_reply(uint8_t *buf, size_t cap, uint32_t xid,
                                  uint16_t flags, const struct ofp_meter *meters,
                                  size_t n, size_t *out_len,
                                  struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    put_multipart_header(&w, OFPT_MULTIPART_REPLY, xid, OFPMP_METER_CONFIG,
                         flags);
    for (size_t i = 0; i < n; i++) {
        int rc = validate_bands(&meters[i], err);
        if (rc)
            return rc;
        size_t elen = sizeof(struct ofp_meter_config) +
                      meters[i].n_bands * sizeof(struct ofp_meter_band_drop);
        struct ofp_meter_config mc;
        memset(&mc, 0, sizeof mc);
        mc.length = hton16((uint16_t)elen);
        mc.flags = hton16(meters[i].flags);
        mc.meter_id = hton32(meters[i].meter_id);
        put(&w, &mc, sizeof mc);
        put_bands(&w, &meters[i]);
    }
    return finish(&w, out_len, err);
}

int ofp_encode_meter_stats_reply(uint8_t *buf, size_t cap, uint32_t xid,
                                 uint16_t flags,
                                 const struct ofp_meter_stats_entry *entries,
                                 size_t n, size_t *out_len,
                                 struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    put_multipart_header(&w, OFPT_MULTIPART_REPLY, xid, OFPMP_METER, flags);
    for (size_t i = 0; i < n; i++) {
        const struct ofp_meter_stats_entry *e = &entries[i];
        if (e->n_bands > OFP_MAX_METER_BANDS)
            return fail(err, OFP_E_TOO_MANY, 0, "meter stats entry %zu has %zu "
                        "bands, more than OFP_MAX_METER_BANDS", i, e->n_bands);
        struct ofp_meter_stats ms;
        memset(&ms, 0, sizeof ms);
        ms.meter_id = hton32(e->meter_id);
        ms.len = hton16((uint16_t)(sizeof ms + e->n_bands *
                                   sizeof(struct ofp_meter_band_stats)));
        ms.flow_count = hton32(e->flow_count);
        ms.packet_in_count = hton64(e->packet_in_count);
        ms.byte_in_count = hton64(e->byte_in_count);
        ms.duration_sec = hton32(e->duration_sec);
        ms.duration_nsec = hton32(e->duration_nsec);
        put(&w, &ms, sizeof ms);
        for (size_t b = 0; b < e->n_bands; b++) {
            struct ofp_meter_band_stats bs;
            bs.packet_band_count = hton64(e->bands[b].packets);
            bs.byte_band_count = hton64(e->bands[b].bytes);
            put(&w, &bs, sizeof bs);
        }
    }
    return finish(&w, out_len, err);
}

int ofp_encode_meter_features_reply(uint8_t *buf, size_t cap, uint32_t xid,
                                    const struct ofp_meter_features *in,
                                    size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    put_multipart_header(&w, OFPT_MULTIPART_REPLY, xid, OFPMP_METER_FEATURES,
                         0);
    struct ofp_meter_features_body f;
    memset(&f, 0, sizeof f);
    f.max_meter = hton32(in->max_meter);
    f.band_types = hton32(in->band_types);
    f.capabilities = hton32(in->capabilities);
    f.max_bands = in->max_bands;
    f.max_color = in->max_color;
    put(&w, &f, sizeof f);
    return finish(&w, out_len, err);
}

/* ------------------------------------------------------------ decoding */

/* The bands at [off, end) into m. Each band is at least 16 bytes, a
 * multiple of 8 and inside the range; drop and dscp_remark must be exactly
 * 16; experimenter bands (or bands past the array) count as unknown. */
static int decode_bands(const uint8_t *buf, size_t off, size_t end,
                        struct ofp_meter *m, struct ofp_err *err)
{
    while (off < end) {
        if (end - off < sizeof(struct ofp_meter_band_drop))
            return fail(err, OFP_E_TRUNCATED, off, "meter band at offset %zu: "
                        "only %zu bytes left, a band is at least 16", off,
                        end - off);
        uint16_t type = get16(buf + off);
        size_t blen = get16(buf + off + 2);
        if (blen < sizeof(struct ofp_meter_band_drop) || blen % 8 ||
            blen > end - off)
            return fail(err, OFP_E_BAD_LENGTH, off + 2, "meter band length "
                        "%zu at offset %zu is not a multiple of 8 between 16 "
                        "and the %zu bytes left", blen, off, end - off);
        bool known = type == OFPMBT_DROP || type == OFPMBT_DSCP_REMARK;
        if (known && blen != sizeof(struct ofp_meter_band_drop))
            return fail(err, OFP_E_BAD_LENGTH, off + 2, "meter band of type %u "
                        "is %zu bytes; OpenFlow 1.3 defines 16", type, blen);
        if (!known || m->n_bands >= OFP_MAX_METER_BANDS) {
            m->n_unknown++;
        } else {
            struct ofp_meter_band_dscp_remark wb;
            memcpy(&wb, buf + off, sizeof wb);
            struct ofp_meter_band *b = &m->bands[m->n_bands++];
            memset(b, 0, sizeof *b);
            b->type = type;
            b->rate = ntoh32(wb.rate);
            b->burst_size = ntoh32(wb.burst_size);
            if (type == OFPMBT_DSCP_REMARK)
                b->prec_level = wb.prec_level;
        }
        off += blen;
    }
    return OFP_OK;
}

int ofp_decode_meter_mod(const uint8_t *buf, size_t len, struct ofp_meter *out,
                         struct ofp_err *err)
{
    struct ofp_meter_mod mm;
    int rc = expect_msg(buf, len, OFPT_METER_MOD, sizeof mm, err);
    if (rc)
        return rc;
    memcpy(&mm, buf, sizeof mm);
    ofp_meter_init(out, ntoh16(mm.command), ntoh16(mm.flags),
                   ntoh32(mm.meter_id));
    if (out->command > OFPMC_DELETE)
        return fail(err, OFP_E_BAD_VALUE, 8, "meter mod command %u is not add, "
                    "modify or delete", out->command);
    rc = decode_bands(buf, sizeof mm, len, out, err);
    if (rc)
        return rc;
    ok(err);
    return OFP_OK;
}

int ofp_decode_meter_request(const uint8_t *buf, size_t len, uint16_t *mp_type,
                             uint32_t *meter_id, struct ofp_err *err)
{
    uint16_t type;
    int rc = ofp_decode_multipart_header(buf, len, OFPT_MULTIPART_REQUEST,
                                         &type, NULL, err);
    if (rc)
        return rc;
    if (type != OFPMP_METER && type != OFPMP_METER_CONFIG)
        return fail(err, OFP_E_BAD_TYPE, 8, "multipart type %u is neither "
                    "meter (9) nor meter_config (10)", type);
    const size_t want = sizeof(struct ofp_multipart_request) +
                        sizeof(struct ofp_meter_multipart_request);
    if (len != want)
        return fail(err, OFP_E_BAD_LENGTH, 2, "meter request is %zu bytes; "
                    "OpenFlow 1.3 defines %zu", len, want);
    if (mp_type)
        *mp_type = type;
    if (meter_id)
        *meter_id = get32(buf + sizeof(struct ofp_multipart_request));
    ok(err);
    return OFP_OK;
}

int ofp_decode_meter_features_request(const uint8_t *buf, size_t len,
                                      struct ofp_err *err)
{
    int rc = expect_multipart(buf, len, OFPT_MULTIPART_REQUEST,
                              OFPMP_METER_FEATURES, NULL, err);
    if (rc)
        return rc;
    if (len != sizeof(struct ofp_multipart_request))
        return fail(err, OFP_E_BAD_LENGTH, 2, "meter features request is %zu "
                    "bytes; OpenFlow 1.3 defines 16", len);
    ok(err);
    return OFP_OK;
}

/* The length of the entry at off whose length field sits at len_off
 * inside it; at least fixed, a multiple of 8, inside [off, end). */
static int entry_length(const uint8_t *buf, size_t off, size_t end,
                        size_t len_off, size_t fixed, const char *what,
                        size_t *elen, struct ofp_err *err)
{
    if (end - off < fixed)
        return fail(err, OFP_E_TRUNCATED, off, "%s entry at offset %zu: only "
                    "%zu bytes left, fewer than its %zu-byte fixed part", what,
                    off, end - off, fixed);
    size_t n = get16(buf + off + len_off);
    if (n < fixed || n > end - off || n % 8)
        return fail(err, OFP_E_BAD_LENGTH, off + len_off, "%s entry length "
                    "%zu at offset %zu is not a multiple of 8 between %zu and "
                    "the %zu bytes left", what, n, off, fixed, end - off);
    *elen = n;
    return OFP_OK;
}

int ofp_decode_meter_config_reply(const uint8_t *buf, size_t len,
                                  struct ofp_meter *meters, size_t cap,
                                  size_t *n_out, bool *more,
                                  struct ofp_err *err)
{
    uint16_t flags;
    size_t n = 0;
    *n_out = 0;
    int rc = expect_multipart(buf, len, OFPT_MULTIPART_REPLY,
                              OFPMP_METER_CONFIG, &flags, err);
    if (rc)
        return rc;
    for (size_t off = sizeof(struct ofp_multipart_reply); off < len; n++) {
        size_t elen = 0;
        rc = entry_length(buf, off, len, 0, sizeof(struct ofp_meter_config),
                          "meter_config", &elen, err);
        if (rc)
            return rc;
        struct ofp_meter scratch; /* validates entries beyond cap */
        struct ofp_meter *m = n < cap ? &meters[n] : &scratch;
        struct ofp_meter_config mc;
        memcpy(&mc, buf + off, sizeof mc);
        ofp_meter_init(m, OFPMC_ADD, ntoh16(mc.flags), ntoh32(mc.meter_id));
        rc = decode_bands(buf, off + sizeof mc, off + elen, m, err);
        if (rc)
            return rc;
        off += elen;
    }
    *n_out = n;
    if (more)
        *more = (flags & OFPMPF_REPLY_MORE) != 0;
    if (n > cap)
        return fail(err, OFP_E_TOO_MANY, 0, "meter config reply holds %zu "
                    "meters, more than the %zu the caller has room for", n,
                    cap);
    ok(err);
    return OFP_OK;
}

int ofp_decode_meter_stats_reply(const uint8_t *buf, size_t len,
                                 struct ofp_meter_stats_entry *entries,
                                 size_t cap, size_t *n_out, bool *more,
                                 struct ofp_err *err)
{
    uint16_t flags;
    size_t n = 0;
    *n_out = 0;
    int rc = expect_multipart(buf, len, OFPT_MULTIPART_REPLY, OFPMP_METER,
                              &flags, err);
    if (rc)
        return rc;
    for (size_t off = sizeof(struct ofp_multipart_reply); off < len; n++) {
        size_t elen = 0;
        rc = entry_length(buf, off, len, 4, sizeof(struct ofp_meter_stats),
                          "meter_stats", &elen, err);
        if (rc)
            return rc;
        if ((elen - sizeof(struct ofp_meter_stats)) %
            sizeof(struct ofp_meter_band_stats))
            return fail(err, OFP_E_BAD_LENGTH, off + 4, "meter_stats entry "
                        "length %zu leaves a partial band counter", elen);
        struct ofp_meter_stats ms;
        memcpy(&ms, buf + off, sizeof ms);
        if (n < cap) {
            struct ofp_meter_stats_entry *e = &entries[n];
            memset(e, 0, sizeof *e);
            e->meter_id = ntoh32(ms.meter_id);
            e->flow_count = ntoh32(ms.flow_count);
            e->packet_in_count = ntoh64(ms.packet_in_count);
            e->byte_in_count = ntoh64(ms.byte_in_count);
            e->duration_sec = ntoh32(ms.duration_sec);
            e->duration_nsec = ntoh32(ms.duration_nsec);
            size_t nb = (elen - sizeof ms) / sizeof(struct ofp_meter_band_stats);
            for (size_t b = 0; b < nb && b < OFP_MAX_METER_BANDS; b++) {
                size_t bo = off + sizeof ms + b * sizeof(struct ofp_meter_band_stats);
                e->bands[b].packets = get64(buf + bo);
                e->bands[b].bytes = get64(buf + bo + 8);
                e->n_bands = b + 1;
            }
        }
        off += elen;
    }
    *n_out = n;
    if (more)
        *more = (flags & OFPMPF_REPLY_MORE) != 0;
    if (n > cap)
        return fail(err, OFP_E_TOO_MANY, 0, "meter stats reply holds %zu "
                    "entries, more than the %zu the caller has room for", n,
                    cap);
    ok(err);
    return OFP_OK;
}

int ofp_decode_meter_features_reply(const uint8_t *buf, size_t len,
                                    struct ofp_meter_features *out,
                                    struct ofp_err *err)
{
    int rc = expect_multipart(buf, len, OFPT_MULTIPART_REPLY,
                              OFPMP_METER_FEATURES, NULL, err);
    if (rc)
        return rc;
    const size_t want = sizeof(struct ofp_multipart_reply) +
                        sizeof(struct ofp_meter_features_body);
    if (len != want)
        return fail(err, OFP_E_BAD_LENGTH, 2, "meter features reply is %zu "
                    "bytes; OpenFlow 1.3 defines %zu", len, want);
    struct ofp_meter_features_body f;
    memcpy(&f, buf + sizeof(struct ofp_multipart_reply), sizeof f);
    out->max_meter = ntoh32(f.max_meter);
    out->band_types = ntoh32(f.band_types);
    out->capabilities = ntoh32(f.capabilities);
    out->max_bands = f.max_bands;
    out->max_color = f.max_color;
    ok(err);
    return OFP_OK;
}

/* ----------------------------------------------------------- rendering */

int ofp_format_meter(const struct ofp_meter *m, char *buf, size_t cap)
{
    struct text t = {buf, buf ? cap : 0, 0};
    if (t.cap)
        t.buf[0] = '\0';
    tprintf(&t, "meter=%" PRIu32, m->meter_id);
    if (m->flags & OFPMF_KBPS)
        tprintf(&t, " kbps");
    if (m->flags & OFPMF_PKTPS)
        tprintf(&t, " pktps");
    if (m->flags & OFPMF_BURST)
        tprintf(&t, " burst");
    if (m->flags & OFPMF_STATS)
        tprintf(&t, " stats");
    tprintf(&t, " bands=");
    for (size_t i = 0; i < m->n_bands && i < OFP_MAX_METER_BANDS; i++) {
        const struct ofp_meter_band *b = &m->bands[i];
        tprintf(&t, "%stype=%s rate=%" PRIu32 " burst_size=%" PRIu32,
                i ? "," : "", b->type == OFPMBT_DROP ? "drop" : "dscp_remark",
                b->rate, b->burst_size);
    }
    if (m->n_unknown)
        tprintf(&t, " unsupported=%u", m->n_unknown);
    return t.len > INT_MAX ? INT_MAX : (int)t.len;
}
