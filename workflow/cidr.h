/* wf_cidr: IP prefixes as a network engineer types them, checked.
 *
 * Pure (no I/O). A prefix is canonical when no bit is set past its
 * length: "198.51.100.0/24" is, "198.51.100.1/24" is not (an error that
 * says which prefix was meant), because a filter built from a
 * non-canonical prefix means something other than what was typed. */
#ifndef WF_CIDR_H
#define WF_CIDR_H

#include <stdbool.h>

#include "common/pf_err.h"

typedef struct {
    int family;             /* 4 or 6 */
    unsigned char addr[16]; /* network order; IPv4 in the first 4 bytes */
    int len;                /* prefix length */
    char text[64];          /* canonical text, "2001:db8:100::/48" */
} wf_cidr;

/* Parses "ADDR/LEN" (both families). PF_EINVALID "bad_cidr" with field
 * for anything else, naming the canonical form when only host bits were
 * wrong. */
pf_kind wf_cidr_parse(const char *s, const char *field, wf_cidr *out, pf_err *err);

/* True when a contains or equals b. */
bool wf_cidr_contains(const wf_cidr *a, const wf_cidr *b);
bool wf_cidr_overlaps(const wf_cidr *a, const wf_cidr *b);

/* The bogon list is the renderer's (wf_bgp_prefix_is_bogon in
 * workflow/bgp_render.h): one list for the filters and the checks. */

#endif
