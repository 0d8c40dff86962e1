/* wf_cidr: see cidr.h. */
#include "workflow/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
