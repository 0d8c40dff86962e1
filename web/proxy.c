/* web_proxy: see proxy.h. */
#include "web/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses one address into family/bytes; IPv4-mapped IPv6 becomes IPv4. */
static bool parse_addr(const char *text, int *family, unsigned char out[16])
{
    if (inet_pton(AF_INET, text, out) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text, out) != 1)
        return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out, mapped, 12) == 0) {
        memmove(out, out + 12, 4);
        *family = AF_INET;
    } else {
        *family = AF_INET6;
    }
    return true;
}

/* Copies s[0..len) trimmed of spaces and tabs into buf; false if too long. */
static bool trimmed(const char *s, size_t len, char *buf, size_t n)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= n)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return true;
}

static bool in_net(int family, const unsigned char *a, int nf, const unsigned char *net,
                   int prefix)
{
    if (family != nf)
        return false;
    int full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

pf_kind web_proxies_parse(const char *spec, web_proxies *out, pf_err *err)
{
    memset(out, 0, sizeof *out);
    if (spec == NULL)
        return PF_OK;
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[WEB_ADDR_LEN + 8];
        if (!trimmed(p, len, item, sizeof item))
            return pf_fail(err, PF_EINVALID, "bad_trusted_proxy", "PEERFLOW_TRUSTED_PROXIES",
                           "PEERFLOW_TRUSTED_PROXIES: entry '%.*s' is too long for a CIDR",
                           (int)(len > 80 ? 80 : len), p);
        p = comma ? comma + 1 : p + len;
        if (item[0] == '\0') {
            if (comma == NULL && out->n > 0)
                break; /* a trailing comma */
            return pf_fail(err, PF_EINVALID, "bad_trusted_proxy", "PEERFLOW_TRUSTED_PROXIES",
                           "PEERFLOW_TRUSTED_PROXIES has an empty entry: write CIDRs "
                           "separated by commas, like 10.0.0.0/8,2001:db8::/32");
        }
        if (out->n == WEB_MAX_PROXIES)
            return pf_fail(err, PF_EINVALID, "bad_trusted_proxy", "PEERFLOW_TRUSTED_PROXIES",
                           "PEERFLOW_TRUSTED_PROXIES: at most %d networks", WEB_MAX_PROXIES);
        char *slash = strchr(item, '/');
        long prefix = -1;
        if (slash) {
            *slash = '\0';
            char *end;
            prefix = strtol(slash + 1, &end, 10);
            if (slash[1] < '0' || slash[1] > '9' || *end != '\0')
                prefix = -2;
        }
        int family;
        unsigned char a[16] = {0};
        bool v4_text = strchr(item, ':') == NULL;
        if (!parse_addr(item, &family, a) || (family == AF_INET) != v4_text || prefix == -2 ||
            prefix > (family == AF_INET ? 32 : 128)) {
            if (slash)
                *slash = '/';
            return pf_fail(err, PF_EINVALID, "bad_trusted_proxy", "PEERFLOW_TRUSTED_PROXIES",
                           "PEERFLOW_TRUSTED_PROXIES: '%s' is not an IPv4 or IPv6 address or "
                           "CIDR (like 10.0.0.0/8 or 2001:db8::/32)",
                           item);
        }
        int bits = prefix < 0 ? (family == AF_INET ? 32 : 128) : (int)prefix;
        /* zero the host bits, so matching compares the network only */
        for (int i = 0; i < 16; i++) {
            int keep = bits - 8 * i;
            if (keep <= 0)
                a[i] = 0;
            else if (keep < 8)
                a[i] &= (unsigned char)(0xff << (8 - keep));
        }
        out->net[out->n].family = family;
        memcpy(out->net[out->n].addr, a, 16);
        out->net[out->n].prefix = bits;
        out->n++;
    }
    return PF_OK;
}

static bool contains_bytes(const web_proxies *p, int family, const unsigned char *a)
{
    for (int i = 0; i < p->n; i++)
        if (in_net(family, a, p->net[i].family, p->net[i].addr, p->net[i].prefix))
            return true;
    return false;
}

bool web_proxies_contain(const web_proxies *p, const char *addr)
{
    int family;
    unsigned char a[16];
    return addr != NULL && parse_addr(addr, &family, a) && contains_bytes(p, family, a);
}

/* Writes the canonical text of text into out; false if not an address. */
static bool canonical(const char *text, char *out, size_t n)
{
    int family;
    unsigned char a[16];
    return parse_addr(text, &family, a) && inet_ntop(family, a, out, (socklen_t)n) != NULL;
}

void web_client_address(const web_proxies *p, const char *peer, const char *xff, char *out,
                        size_t n)
{
    if (!canonical(peer ? peer : "", out, n)) {
        snprintf(out, n, "%s", peer ? peer : "unknown");
        return;
    }
    if (xff == NULL || p->n == 0 || !web_proxies_contain(p, out))
        return;
    /* right to left: each hop was written by the one to its right */
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        char item[WEB_ADDR_LEN], canon[WEB_ADDR_LEN];
        bool ok = trimmed(xff + start, end - start, item, sizeof item) &&
                  canonical(item, canon, sizeof canon);
        if (!ok)
            return; /* garbage: the last trusted hop is the best we know */
        snprintf(out, n, "%s", canon);
        if (!web_proxies_contain(p, canon))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

void web_log_path(const char *path, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (n == 0)
        return;
    size_t o = 0;
    const char *p = path ? path : "";
    const char *q = strchr(p, '?');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    const char *redact_from = NULL;
    if (len > 3 && p[0] == '/' && p[1] == 't' && p[2] == '/')
        redact_from = p + 3; /* approval links: the token is the credential */
    for (size_t i = 0; i < len && o + 1 < n; i++) {
        if (redact_from && p + i == redact_from) {
            const char *r = "REDACTED";
            while (*r && o + 1 < n)
                out[o++] = *r++;
            const char *slash = memchr(p + i, '/', len - i);
            if (slash == NULL)
                break;
            i = (size_t)(slash - p) - 1;
            redact_from = NULL;
            continue;
        }
        unsigned char ch = (unsigned char)p[i];
        if (ch < 0x21 || ch >= 0x7f || ch == '%') {
            if (o + 4 > n)
                break;
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    if (q && o + 2 < n) /* the query is dropped: it may hold secrets */
        snprintf(out + o, n - o, "?...");
}
