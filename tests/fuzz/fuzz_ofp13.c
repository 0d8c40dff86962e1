/*
 * fuzz_ofp13.c - libFuzzer target for the OpenFlow 1.3 decoders.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       provisioner/ofp13*.c tests/fuzz/fuzz_ofp13.c -o fuzz_ofp13
 *   ./fuzz_ofp13 -max_total_time=30 CORPUS_DIR tests/unit/ofp13_golden
 *
 * Each input is fed to every decoder twice: as it is, and with a header
 * patched to be plausible (version 1.3, length = input size), so that
 * mutations spend their time past the header checks. The stream framer
 * walks the input as a byte stream. Whatever a decoder accepts must also
 * survive re-encoding and decoding again; a mismatch aborts, which libFuzzer
 * reports as a crash with the input that caused it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provisioner/ofp13.h"

#define MAX_ENTRIES 8

static void require(bool cond)
{
    if (!cond)
        abort();
}

static uint32_t get_xid(const uint8_t *b)
{
    return (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 |
           b[7];
}

static void check_flow(const struct ofp_flow *f)
{
    static uint8_t buf[2048];
    char text[64]; /* small on purpose: exercises truncation */
    size_t len = 0;
    struct ofp_flow back;
    int n = ofp_format_flow(f, text, sizeof text);
    require(n > 0 && strlen(text) < sizeof text);
    if (f->n_unknown)
        return; /* not representable; the encoder must refuse it */
    require(ofp_encode_flow_mod(buf, sizeof buf, 1, f, &len, NULL) == OFP_OK);
    require(ofp_decode_flow_mod(buf, len, &back, NULL) == OFP_OK);
    require(ofp_flow_equal(f, &back));
}

static void check_entries(const struct ofp_flow_entry *e, size_t n, bool more)
{
    static uint8_t buf[OFP_MAX_MSG_LEN];
    static struct ofp_flow_entry back[MAX_ENTRIES];
    size_t len = 0, cnt = 0;
    bool more2 = false;
    for (size_t i = 0; i < n; i++) {
        check_flow(&e[i].flow);
        if (e[i].flow.n_unknown) {
            require(ofp_encode_flow_stats_reply(buf, sizeof buf, 1, 0, e, n,
                                                &len, NULL) ==
                    OFP_E_UNSUPPORTED);
            return;
        }
    }
    require(ofp_encode_flow_stats_reply(buf, sizeof buf, 1,
                                        more ? OFPMPF_REPLY_MORE : 0, e, n,
                                        &len, NULL) == OFP_OK);
    require(ofp_decode_flow_stats_reply(buf, len, back, MAX_ENTRIES, &cnt,
                                        &more2, NULL) == OFP_OK);
    require(cnt == n && more == more2);
    for (size_t i = 0; i < n; i++)
        require(ofp_flow_equal(&e[i].flow, &back[i].flow) &&
                e[i].byte_count == back[i].byte_count);
}

/* Meters and bundles (issue 13): what decodes re-encodes to the same
 * meaning, and a bundle's inner message is inside the outer one. */
static void decode_meters_bundles(const uint8_t *b, size_t n)
{
    static struct ofp_meter meters[MAX_ENTRIES];
    static struct ofp_meter_stats_entry ms[MAX_ENTRIES];
    static uint8_t out[OFP_MAX_MSG_LEN];
    struct ofp_meter m, back;
    struct ofp_meter_features mf;
    struct ofp_bundle_ctrl bc;
    struct ofp_bundle_add ba;
    size_t len = 0, cnt = 0, cnt2 = 0;
    bool more = false;
    uint16_t mp;
    uint32_t id, exp, et;
    char text[48];
    if (ofp_decode_meter_mod(b, n, &m, NULL) == OFP_OK) {
        require(ofp_format_meter(&m, text, sizeof text) > 0);
        if (ofp_encode_meter_mod(out, sizeof out, 1, &m, &len, NULL) ==
            OFP_OK) {
            require(ofp_decode_meter_mod(out, len, &back, NULL) == OFP_OK);
            require(ofp_meter_equal(&m, &back) && m.command == back.command);
        }
    }
    (void)ofp_decode_meter_request(b, n, &mp, &id, NULL);
    (void)ofp_decode_meter_features_request(b, n, NULL);
    if (ofp_decode_meter_config_reply(b, n, meters, MAX_ENTRIES, &cnt, &more,
                                      NULL) == OFP_OK) {
        bool plain = true;
        for (size_t i = 0; i < cnt; i++)
            plain = plain && meters[i].n_unknown == 0;
        if (plain && ofp_encode_meter_config_reply(out, sizeof out, 1, 0,
                                                   meters, cnt, &len,
                                                   NULL) == OFP_OK) {
            static struct ofp_meter again[MAX_ENTRIES];
            require(ofp_decode_meter_config_reply(out, len, again, MAX_ENTRIES,
                                                  &cnt2, NULL, NULL) ==
                    OFP_OK);
            require(cnt2 == cnt);
            for (size_t i = 0; i < cnt; i++)
                require(ofp_meter_equal(&meters[i], &again[i]));
        }
    }
    (void)ofp_decode_meter_config_reply(b, n, NULL, 0, &cnt, NULL, NULL);
    if (ofp_decode_meter_stats_reply(b, n, ms, MAX_ENTRIES, &cnt, &more,
                                     NULL) == OFP_OK)
        for (size_t i = 0; i < cnt; i++)
            require(ms[i].n_bands <= OFP_MAX_METER_BANDS);
    if (ofp_decode_meter_features_reply(b, n, &mf, NULL) == OFP_OK) {
        require(ofp_encode_meter_features_reply(out, sizeof out, 1, &mf, &len,
                                                NULL) == OFP_OK);
        require(len == n);
    }
    (void)ofp_decode_experimenter(b, n, &exp, &et, NULL);
    if (ofp_decode_bundle_ctrl(b, n, &bc, NULL) == OFP_OK && n == 24) {
        if (ofp_encode_bundle_ctrl(out, sizeof out, get_xid(b), &bc, &len,
                                   NULL) == OFP_OK)
            require(len == n && memcmp(out, b, n) == 0);
    }
    struct ofp_role role, role2;
    if (ofp_decode_role_request(b, n, &role, NULL) == OFP_OK) {
        require(ofp_encode_role_request(out, sizeof out, get_xid(b), &role,
                                        &len, NULL) == OFP_OK);
        require(len == n && memcmp(out, b, 12) == 0 &&
                memcmp(out + 16, b + 16, 8) == 0);
    }
    if (ofp_decode_role_reply(b, n, &role, NULL) == OFP_OK) {
        require(ofp_encode_role_reply(out, sizeof out, get_xid(b), &role,
                                      &len, NULL) == OFP_OK);
        require(ofp_decode_role_reply(out, len, &role2, NULL) == OFP_OK);
        require(role2.role == role.role &&
                role2.generation_id == role.generation_id);
    }
    if (ofp_decode_bundle_add(b, n, &ba, NULL) == OFP_OK) {
        require(ba.msg >= b + 24 && ba.msg + ba.msg_len <= b + n);
        struct ofp_msg_header h = {0};
        (void)ofp_decode_header(ba.msg, ba.msg_len, &h, NULL);
    }
}

static void decode_all(const uint8_t *b, size_t n)
{
    static struct ofp_flow_entry entries[MAX_ENTRIES];
    static struct ofp_port_info ports[MAX_ENTRIES];
    static uint8_t out[OFP_MAX_MSG_LEN];
    struct ofp_err err;
    struct ofp_msg_header h = {0};
    struct ofp_hello hello;
    struct ofp_error e;
    struct ofp_features feat;
    struct ofp_flow flow;
    struct ofp_flow_stats_req fsr;
    struct ofp_port_status_info ps;
    const uint8_t *payload;
    size_t plen = 0, cnt = 0, len = 0;
    uint16_t mp_type, flags;
    bool more = false;
    char text[128];

    if (ofp_decode_header(b, n, &h, &err) != OFP_OK)
        require(err.code < 0 && err.msg[0] != '\0');
    if (ofp_decode_hello(b, n, &hello, NULL) == OFP_OK && hello.has_bitmap)
        require(hello.offers_13 == ((hello.bitmap >> OFP13_VERSION) & 1));
    if (ofp_decode_error(b, n, &e, NULL) == OFP_OK) {
        ofp_format_error(&e, text, sizeof text);
        require(ofp_encode_error(out, sizeof out, h.xid, e.type, e.code,
                                 e.data, e.data_len, &len, NULL) == OFP_OK);
        require(len == n && memcmp(out, b, n) == 0);
    }
    if (ofp_decode_echo(b, n, NULL, &payload, &plen, NULL) == OFP_OK)
        require(plen + OFP_HEADER_LEN == n);
    if (ofp_decode_features_reply(b, n, &feat, NULL) == OFP_OK) {
        struct ofp_features back;
        require(ofp_encode_features_reply(out, sizeof out, 1, &feat, &len,
                                          NULL) == OFP_OK);
        require(ofp_decode_features_reply(out, len, &back, NULL) == OFP_OK);
        require(back.datapath_id == feat.datapath_id &&
                back.capabilities == feat.capabilities);
    }
    if (ofp_decode_flow_mod(b, n, &flow, NULL) == OFP_OK)
        check_flow(&flow);
    for (uint8_t t = 0; t < 32; t++)
        (void)ofp_decode_empty(b, n, t, NULL);
    (void)ofp_decode_barrier_reply(b, n, NULL);
    (void)ofp_decode_multipart_header(b, n, OFPT_MULTIPART_REQUEST, &mp_type,
                                      &flags, NULL);
    (void)ofp_decode_multipart_header(b, n, OFPT_MULTIPART_REPLY, &mp_type,
                                      &flags, NULL);
    if (ofp_decode_flow_stats_request(b, n, &fsr, NULL) == OFP_OK) {
        struct ofp_flow_stats_req back;
        require(ofp_encode_flow_stats_request(out, sizeof out, 1, &fsr, &len,
                                              NULL) == OFP_OK);
        require(ofp_decode_flow_stats_request(out, len, &back, NULL) == 0);
        require(ofp_match_equal(&fsr.match, &back.match) &&
                fsr.cookie_mask == back.cookie_mask);
    }
    (void)ofp_decode_port_desc_request(b, n, NULL);
    if (ofp_decode_flow_stats_reply(b, n, entries, MAX_ENTRIES, &cnt, &more,
                                    NULL) == OFP_OK)
        check_entries(entries, cnt, more);
    (void)ofp_decode_flow_stats_reply(b, n, NULL, 0, &cnt, NULL, NULL);
    if (ofp_decode_port_desc_reply(b, n, ports, MAX_ENTRIES, &cnt, &more,
                                   NULL) == OFP_OK) {
        require(ofp_encode_port_desc_reply(out, sizeof out, 1, 0, ports, cnt,
                                           &len, NULL) == OFP_OK);
        require(len == n);
    }
    if (ofp_decode_port_status(b, n, &ps, NULL) == OFP_OK)
        require(strlen(ps.port.name) <= OFP_MAX_PORT_NAME_LEN);
    decode_meters_bundles(b, n);
}

/* Cut the input into messages the way a connection reads its socket. */
static void frame_all(const uint8_t *b, size_t n)
{
    size_t off = 0, msg_len;
    while (off < n) {
        int rc = ofp_frame_length(b + off, n - off, &msg_len, NULL);
        if (rc != OFP_OK)
            return;
        require(msg_len >= OFP_HEADER_LEN && msg_len <= n - off);
        struct ofp_msg_header h = {0};
        require(ofp_decode_header(b + off, msg_len, &h, NULL) == OFP_OK);
        off += msg_len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_all(data, size);
    frame_all(data, size);
    if (size < OFP_HEADER_LEN || size > OFP_MAX_MSG_LEN)
        return 0;
    /* Exact-size copy so ASan still catches any read past the end. */
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[0] = OFP13_VERSION;
    copy[2] = (uint8_t)(size >> 8);
    copy[3] = (uint8_t)size;
    decode_all(copy, size);
    free(copy);
    return 0;
}
