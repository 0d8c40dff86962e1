/* wf_bgp_render: one side's router configuration for the BGP session of
 * a circuit, as text a daemon loads as is (docs/bgp.md).
 *
 * Pure: no I/O, no database. The caller (workflow/bgp.c) reads the
 * allocation, the two networks' routing facts and the secret, fills a
 * wf_bgp_session from the point of view of one side, and asks for one
 * daemon's dialect. Every dialect is safe by default (RFC 8212): nothing
 * is imported or exported without a policy, and the policy is
 *
 *   import: only the remote network's registered prefixes, exact or more
 *           specific up to /24 (IPv4) and /48 (IPv6); never the default
 *           route, a bogon (docs/bgp.md lists them) or a longer prefix;
 *           at most max_prefix routes (restart/teardown when exceeded);
 *   export: only the local network's registered prefixes, exact.
 *
 * Names from users (network names) are untrusted: they reach the output
 * only through a filter that keeps letters, digits, space and ".,_-/()"
 * and replaces everything else with '_', so they cannot end a string or
 * a statement. The secret and the addresses are checked, not filtered:
 * a value of the wrong form is an error, never written. */
#ifndef WF_BGP_RENDER_H
#define WF_BGP_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/pf_err.h"

typedef enum {
    WF_BGP_BIRD2 = 0, /* a file bird.conf `include`s (BIRD 2) */
    WF_BGP_FRR,       /* a block `vtysh -f` accepts (FRR 8) */
    WF_BGP_JUNOS,     /* `load merge terminal` (Junos, curly-brace form) */
    WF_BGP_EOS,       /* configuration mode text (Arista EOS) */
    WF_BGP__COUNT
} wf_bgp_daemon;

/* "bird2" -> WF_BGP_BIRD2 ...; false for a name it does not know. */
bool wf_bgp_daemon_parse(const char *name, wf_bgp_daemon *out);
const char *wf_bgp_daemon_name(wf_bgp_daemon d);
/* "bird2, frr, junos, eos": for the error that lists the known ones. */
const char *wf_bgp_daemon_list(void);

/* One address family of the session, from the local side's view. */
typedef struct {
    bool present;         /* false: no session of this family */
    const char *local_ip; /* canonical text, e.g. "100.64.0.0", "2001:db8:100::" */
    const char *neighbor_ip;
    int prefix_length;    /* 31 or 127 */
} wf_bgp_family;

/* A list of prefixes in canonical CIDR text ("198.51.100.0/24"). */
typedef struct {
    const char *const *cidr;
    size_t n;
} wf_bgp_prefixes;

typedef struct {
    long long request_id;
    long long local_asn, remote_asn;
    const char *local_name, *remote_name; /* network names (untrusted) */
    wf_bgp_family v4, v6;
    const char *md5_secret;               /* NULL = no TCP-MD5 */
    wf_bgp_prefixes import4, import6;     /* the remote network's registered prefixes */
    wf_bgp_prefixes export4, export6;     /* the local network's registered prefixes */
    int max_prefix4, max_prefix6;         /* the remote's limits; 0 = none registered */
} wf_bgp_session;

/* Renders s in daemon d's dialect into *out (malloc'd, NUL-terminated;
 * the caller frees it). PF_EINVALID with a message naming the field for
 * a value of the wrong form (an address that is not one, a session with
 * neither family, a secret outside [A-Za-z0-9._-] or not 1..80
 * characters, a prefix that is not canonical CIDR of its family). */
pf_kind wf_bgp_render(wf_bgp_daemon d, const wf_bgp_session *s, char **out, pf_err *err);

/* Helpers for the callers that take prefixes from users (network prefix
 * add): the same canonical-CIDR rule and bogon list the renderer uses.
 * wf_bgp_check_prefix: PF_OK and *family = 4 or 6 (family may be NULL)
 * for canonical CIDR of either family, else PF_EINVALID "bad_cidr" on
 * field. wf_bgp_prefix_is_bogon: the prefix is the default route or
 * inside a bogon of docs/bgp.md ("Filter policy"); false for anything
 * that is not canonical CIDR. */
pf_kind wf_bgp_check_prefix(const char *cidr, const char *field, int *family, pf_err *err);
bool wf_bgp_prefix_is_bogon(const char *cidr);

#endif
