/* web_proxy: which client address a request comes from, behind a TLS
 * reverse proxy (PEERFLOW_TRUSTED_PROXIES), and log-safe request paths.
 *
 * Pure code (libc and inet_pton only), unit-tested in
 * tests/unit/test_proxy.c. The address found here keys login
 * throttling, and is stored with sessions and audit events, so a client
 * must not be able to choose it: X-Forwarded-For is believed only when
 * the TCP peer is a trusted proxy, and only up to the first hop that is
 * not one. */
#ifndef WEB_PROXY_H
#define WEB_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/pf_err.h"

#define WEB_MAX_PROXIES 32
#define WEB_ADDR_LEN 64 /* enough for any IPv6 text form */

typedef struct {
    int n;
    struct {
        int family;             /* AF_INET or AF_INET6 */
        unsigned char addr[16]; /* network bytes, host bits zeroed */
        int prefix;             /* 0..32 or 0..128 */
    } net[WEB_MAX_PROXIES];
} web_proxies;

/* Parses a comma-separated list of CIDRs ("10.0.0.0/8, ::1/128"; an
 * address without /N is a single host). NULL or "" is the empty list.
 * PF_EINVALID "bad_trusted_proxy" naming the bad entry. */
pf_kind web_proxies_parse(const char *spec, web_proxies *out, pf_err *err);

/* Whether addr (text, IPv4 or IPv6; an IPv4-mapped IPv6 address counts
 * as its IPv4 address) is inside one of the networks. */
bool web_proxies_contain(const web_proxies *p, const char *addr);

/* The client address of a request whose TCP peer is peer and whose
 * X-Forwarded-For value(s) are xff (NULL: none; several headers joined
 * by commas). When peer is trusted, walks xff from the right and takes
 * the first address that is not a trusted proxy; a malformed entry ends
 * the walk at the last trusted hop. Written in canonical text form (so
 * one address has one spelling, for throttling). */
void web_client_address(const web_proxies *p, const char *peer, const char *xff, char *out,
                        size_t n);

/* The request path as it may be logged: the token of /t/TOKEN replaced
 * by "REDACTED", any query string dropped (written "?..."), control and non-ASCII bytes
 * written as %XX (no forged log lines). */
void web_log_path(const char *path, char *out, size_t n);

#endif
