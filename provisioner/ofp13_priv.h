/*
 * ofp13_priv.h - what the codec's files share and nobody else uses: byte
 * order, the error filler, the writer that keeps counting past the end of
 * its buffer, the header checks every decoder starts with, and the text
 * appender of the renderers. Everything is static inline so each codec
 * file (ofp13.c, ofp13_flow.c, ofp13_port.c, ofp13_meter.c,
 * ofp13_bundle.c) is self-contained and no internal symbol is exported.
 * Include only from those files.
 */
#ifndef PEERFLOW_OFP13_PRIV_H
#define PEERFLOW_OFP13_PRIV_H

#include "provisioner/ofp13.h"

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
static inline ofp_be16 hton16(uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    ofp_be16 r;
    memcpy(&r, b, sizeof r);
    return r;
}

static inline ofp_be32 hton32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    ofp_be32 r;
    memcpy(&r, b, sizeof r);
    return r;
}

static inline ofp_be64 hton64(uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    ofp_be64 r;
    memcpy(&r, b, sizeof r);
    return r;
}

static inline uint16_t ntoh16(ofp_be16 v)
{
    uint8_t b[2];
    memcpy(b, &v, sizeof b);
    return (uint16_t)((b[0] << 8) | b[1]);
}

static inline uint32_t ntoh32(ofp_be32 v)
{
    uint8_t b[4];
    memcpy(b, &v, sizeof b);
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
           ((uint32_t)b[2] << 8) | b[3];
}

static inline uint64_t ntoh64(ofp_be64 v)
{
    uint8_t b[8];
    memcpy(b, &v, sizeof b);
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = (r << 8) | b[i];
    return r;
}

/* Read straight from a byte buffer; callers have checked the bounds. */
static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static inline size_t round8(size_t n)
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

static inline int fail(struct ofp_err *err, enum ofp_status code, size_t offset,
                const char *fmt, ...) OFP_PRINTF(4, 5);

static inline int fail(struct ofp_err *err, enum ofp_status code, size_t offset,
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

static inline void ok(struct ofp_err *err)
{
    if (err) {
        err->code = OFP_OK;
        err->offset = 0;
        err->msg[0] = '\0';
    }
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */
/* ------------------------------------------------------------------------ */

struct writer {
    uint8_t *buf;
    size_t cap;
    size_t len; /* bytes the message needs so far; may exceed cap */
};

static inline void put(struct writer *w, const void *p, size_t n)
{
    if (w->len <= w->cap && n <= w->cap - w->len && n)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static inline void put_zeros(struct writer *w, size_t n)
{
    static const uint8_t zeros[8];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(w, zeros, k);
        n -= k;
    }
}

static inline void put_be16(struct writer *w, uint16_t v)
{
    ofp_be16 b = hton16(v);
    put(w, &b, sizeof b);
}

static inline void put_be32(struct writer *w, uint32_t v)
{
    ofp_be32 b = hton32(v);
    put(w, &b, sizeof b);
}

static inline void put_header(struct writer *w, uint8_t type, uint32_t xid)
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
static inline int finish(struct writer *w, size_t *out_len, struct ofp_err *err)
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

static inline struct writer writer_init(uint8_t *buf, size_t cap)
{
    struct writer w = {buf, buf ? cap : 0, 0};
    return w;
}


/* Bounds on sizes before they are narrowed to 16-bit length fields: a body
 * this large could not fit in a message anyway. */
static inline int check_body_size(size_t n, struct ofp_err *err)
{
    if (n > OFP_MAX_MSG_LEN)
        return fail(err, OFP_E_TOO_LONG, 0,
                    "flow body of %zu bytes exceeds the OpenFlow message "
                    "limit", n);
    return OFP_OK;
}


static inline void put_multipart_header(struct writer *w, uint8_t msg_type,
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


/* Header checks every decoder starts with: a whole message of `type`, at
 * least `min_len` bytes long. */
static inline int expect_msg(const uint8_t *buf, size_t len, uint8_t type,
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
static inline int expect_exact(const uint8_t *buf, size_t len, uint8_t type,
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


/* Multipart header of the expected message and multipart type. */
static inline int expect_multipart(const uint8_t *buf, size_t len, uint8_t msg_type,
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


/* snprintf that appends and keeps counting once the buffer is full. */
struct text {
    char *buf;
    size_t cap;
    size_t len;
};

static inline void tprintf(struct text *t, const char *fmt, ...) OFP_PRINTF(2, 3);

static inline void tprintf(struct text *t, const char *fmt, ...)
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


/* Read a big-endian 64-bit value; callers have checked the bounds. */
static inline uint64_t get64(const uint8_t *p)
{
    return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

#endif /* PEERFLOW_OFP13_PRIV_H */
