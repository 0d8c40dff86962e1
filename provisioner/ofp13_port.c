/*
 * ofp13_port.c - port description multiparts and port status.
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

int ofp_encode_port_desc_request(uint8_t *buf, size_t cap, uint32_t xid,
                                 size_t *out_len, struct ofp_err *err)
{
    struct writer w = writer_init(buf, cap);
    put_multipart_header(&w, OFPT_MULTIPART_REQUEST, xid, OFPMP_PORT_DESC, 0);
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

