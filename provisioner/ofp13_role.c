/*
 * ofp13_role.c - controller roles (OpenFlow 1.3.5 section 6.3.6 and
 * A.3.9): OFPT_ROLE_REQUEST and OFPT_ROLE_REPLY share one 24-byte body,
 * a role, 4 bytes of padding and a 64-bit generation id. Several
 * provisioners hold a connection to each switch; the one the database's
 * lease names asks for OFPCR_ROLE_MASTER with the lease's generation id,
 * the switch demotes every other connection to SLAVE and refuses a
 * request whose generation id is older than the newest it has seen
 * (OFPRRFC_STALE). See ofp13.h for the contract.
 */
#include "provisioner/ofp13_priv.h"

#define ROLE_MSG_LEN sizeof(struct ofp_role_request)

static int encode_role(uint8_t type, uint8_t *buf, size_t cap, uint32_t xid,
                       const struct ofp_role *in, size_t *out_len,
                       struct ofp_err *err)
{
    if (in->role > OFPCR_ROLE_SLAVE)
        return fail(err, OFP_E_BAD_VALUE, 8, "controller role %" PRIu32
                    " is not one of OpenFlow's 0..3 (nochange, equal, "
                    "master, slave)", in->role);
    struct ofp_role_request rr;
    memset(&rr, 0, sizeof rr);
    rr.header.version = OFP13_VERSION;
    rr.header.type = type;
    rr.header.xid = hton32(xid);
    rr.role = hton32(in->role);
    rr.generation_id = hton64(in->generation_id);
    struct writer w = writer_init(buf, cap);
    put(&w, &rr, sizeof rr);
    return finish(&w, out_len, err);
}

static int decode_role(uint8_t type, const uint8_t *buf, size_t len,
                       struct ofp_role *out, struct ofp_err *err)
{
    int rc = expect_exact(buf, len, type, ROLE_MSG_LEN, err);
    if (rc)
        return rc;
    uint32_t role = get32(buf + offsetof(struct ofp_role_request, role));
    if (role > OFPCR_ROLE_SLAVE)
        return fail(err, OFP_E_BAD_VALUE, 8, "controller role %" PRIu32
                    " is not one of OpenFlow's 0..3", role);
    out->role = role;
    out->generation_id = get64(buf + offsetof(struct ofp_role_request, generation_id));
    ok(err);
    return OFP_OK;
}

int ofp_encode_role_request(uint8_t *buf, size_t cap, uint32_t xid,
                            const struct ofp_role *in, size_t *out_len,
                            struct ofp_err *err)
{
    return encode_role(OFPT_ROLE_REQUEST, buf, cap, xid, in, out_len, err);
}

int ofp_encode_role_reply(uint8_t *buf, size_t cap, uint32_t xid,
                          const struct ofp_role *in, size_t *out_len,
                          struct ofp_err *err)
{
    return encode_role(OFPT_ROLE_REPLY, buf, cap, xid, in, out_len, err);
}

int ofp_decode_role_request(const uint8_t *buf, size_t len,
                            struct ofp_role *out, struct ofp_err *err)
{
    return decode_role(OFPT_ROLE_REQUEST, buf, len, out, err);
}

int ofp_decode_role_reply(const uint8_t *buf, size_t len, struct ofp_role *out,
                          struct ofp_err *err)
{
    return decode_role(OFPT_ROLE_REPLY, buf, len, out, err);
}

const char *ofp_role_name(uint32_t role)
{
    static const char *const names[] = {"nochange", "equal", "master",
                                        "slave"};
    return role <= OFPCR_ROLE_SLAVE ? names[role] : "unknown";
}
