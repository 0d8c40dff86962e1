/* wf_cidr: see cidr.h. */
#include "workflow/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const wf_bogon wf_bogons4[] = {
    {"0.0.0.0/8", "\"this network\" (RFC 791)"},
    {"10.0.0.0/8", "private use (RFC 1918)"},
    {"100.64.0.0/10", "shared address space (RFC 6598)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link local"},
    {"172.16.0.0/12", "private use (RFC 1918)"},
    {"192.168.0.0/16", "private use (RFC 1918)"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {NULL, NULL},
};
const wf_bogon wf_bogons6[] = {
    {"::/8", "loopback, unspecified and IPv4-mapped"},
    {"fc00::/7", "unique local (RFC 4193)"},
    {"fe80::/10", "link local"},
    {"ff00::/8", "multicast"},
    {NULL, NULL},
};

static bool bit(const unsigned char *a, int i)
{
    return (a[i / 8] >> (7 - i % 8)) & 1;
}

pf_kind wf_cidr_parse(const char *s, const char *field, wf_cidr *out, pf_err *err)
{
    memset(out, 0, sizeof *out);
    char buf[64];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (s == NULL || slash == NULL || (size_t)(slash - s) >= sizeof buf || slash[1] == '\0')
        return pf_fail(err, PF_EINVALID, "bad_cidr", field,
                       "%s must be a prefix ADDRESS/LENGTH, e.g. 198.51.100.0/24 or "
                       "2001:db8::/32",
                       field);
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->family = 4;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->family = 6;
    else
        return pf_fail(err, PF_EINVALID, "bad_cidr", field,
                       "%s: \"%s\" is not an IPv4 or IPv6 address", field, buf);
    int max = out->family == 4 ? 32 : 128;
    char *end;
    long len = strtol(slash + 1, &end, 10);
    if (*end != '\0' || slash[1] < '0' || slash[1] > '9' || len < 0 || len > max)
        return pf_fail(err, PF_EINVALID, "bad_cidr", field,
                       "%s: the prefix length must be 0 to %d", field, max);
    out->len = (int)len;
    char text[INET6_ADDRSTRLEN];
    bool host_bits = false;
    for (int i = out->len; i < max; i++)
        if (bit(out->addr, i)) {
            host_bits = true;
            out->addr[i / 8] &= (unsigned char)~(1u << (7 - i % 8));
        }
    inet_ntop(out->family == 4 ? AF_INET : AF_INET6, out->addr, text, sizeof text);
    snprintf(out->text, sizeof out->text, "%s/%d", text, out->len);
    if (host_bits)
        return pf_fail(err, PF_EINVALID, "bad_cidr", field,
                       "%s: %s has bits set past its length: did you mean %s?", field, s,
                       out->text);
    return PF_OK;
}

bool wf_cidr_contains(const wf_cidr *a, const wf_cidr *b)
{
    if (a->family != b->family || a->len > b->len)
        return false;
    for (int i = 0; i < a->len; i++)
        if (bit(a->addr, i) != bit(b->addr, i))
            return false;
    return true;
}

bool wf_cidr_overlaps(const wf_cidr *a, const wf_cidr *b)
{
    return wf_cidr_contains(a, b) || wf_cidr_contains(b, a);
}

const wf_bogon *wf_cidr_bogon(const wf_cidr *p)
{
    static const wf_bogon default4 = {"0.0.0.0/0", "the default route"};
    static const wf_bogon default6 = {"::/0", "the default route"};
    if (p->len == 0)
        return p->family == 4 ? &default4 : &default6;
    for (const wf_bogon *b = p->family == 4 ? wf_bogons4 : wf_bogons6; b->cidr; b++) {
        wf_cidr c;
        pf_err e;
        if (wf_cidr_parse(b->cidr, "bogon", &c, &e) == PF_OK && wf_cidr_contains(&c, p))
            return b;
    }
    return NULL;
}
