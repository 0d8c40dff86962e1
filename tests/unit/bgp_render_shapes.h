/* The session shapes the renderer is tested on, shared by the unit test
 * (tests/unit/test_bgp_render.c, which asserts on content) and the
 * dumper (tests/unit/bgp_render_dump.c, whose output the daemons' own
 * checkers parse in tests/integration/bgp_render_test.sh). Header-only:
 * the Makefile links each test binary from one object. */
#ifndef BGP_RENDER_SHAPES_H
#define BGP_RENDER_SHAPES_H

#include <stdio.h>
#include <string.h>

#include "workflow/bgp_render.h"

#define SHAPE_MANY 300

static const char *const shape_imp4[] = {"198.51.100.0/24", "203.0.113.0/25", "203.0.112.0/22"};
static const char *const shape_imp6[] = {"2001:db8:2000::/36", "2001:db8:3::/48"};
static const char *const shape_exp4[] = {"192.0.2.0/24"};
static const char *const shape_exp6[] = {"2001:db8:1000::/36"};
/* registered, but never in a permit list: a bogon, the default route,
 * longer than /24 or /48 */
static const char *const shape_odd4[] = {"198.51.100.0/24", "10.0.0.0/8", "0.0.0.0/0",
                                         "198.51.100.128/25", "100.64.1.0/24"};
static const char *const shape_odd6[] = {"2001:db8:3::/48", "fc00::/8", "::/0", "2001:db8:4::/56"};

static char shape_many4_text[SHAPE_MANY][24];
static const char *shape_many4[SHAPE_MANY];
static char shape_many6_text[SHAPE_MANY][48];
static const char *shape_many6[SHAPE_MANY];

typedef struct {
    const char *name;
    wf_bgp_session s;
} bgp_shape;

#define SHAPE_LIST(a) ((wf_bgp_prefixes){(a), sizeof(a) / sizeof((a)[0])})

static wf_bgp_session shape_base(void)
{
    wf_bgp_session s = {
        .request_id = 12,
        .local_asn = 64500,
        .remote_asn = 64501,
        .local_name = "Example Transit",
        .remote_name = "Peer Net",
        .v4 = {true, "100.64.0.0", "100.64.0.1", 31},
        .v6 = {true, "2001:db8:100::", "2001:db8:100::1", 127},
        .md5_secret = "Kq3.x_Zr-8pLw2Vn5Ty7Ub9a",
        .import4 = SHAPE_LIST(shape_imp4),
        .import6 = SHAPE_LIST(shape_imp6),
        .export4 = SHAPE_LIST(shape_exp4),
        .export6 = SHAPE_LIST(shape_exp6),
        .max_prefix4 = 100,
        .max_prefix6 = 50,
    };
    return s;
}

/* Fills out[0..n) (n returned, at most max). */
static size_t bgp_shapes(bgp_shape *out, size_t max)
{
    for (int i = 0; i < SHAPE_MANY; i++) {
        /* 198.18.0.0/15 is not a bogon here: 512 /24s to pick from */
        snprintf(shape_many4_text[i], sizeof shape_many4_text[i], "198.%d.%d.0/24", 18 + i / 256,
                 i % 256);
        shape_many4[i] = shape_many4_text[i];
        snprintf(shape_many6_text[i], sizeof shape_many6_text[i], "2001:db8:%x::/48", 0x5000 + i);
        shape_many6[i] = shape_many6_text[i];
    }
    bgp_shape all[16];
    size_t n = 0;
    wf_bgp_session s;

    s = shape_base(); /* the sample of docs/bgp.md */
    all[n++] = (bgp_shape){"both_md5", s};

    s = shape_base();
    s.md5_secret = NULL;
    all[n++] = (bgp_shape){"both_plain", s};

    s = shape_base();
    s.v6.present = false;
    all[n++] = (bgp_shape){"v4_md5", s};

    s = shape_base();
    s.v6.present = false;
    s.md5_secret = NULL;
    all[n++] = (bgp_shape){"v4_plain", s};

    s = shape_base();
    s.v4.present = false;
    all[n++] = (bgp_shape){"v6_md5", s};

    s = shape_base();
    s.v4.present = false;
    s.md5_secret = NULL;
    all[n++] = (bgp_shape){"v6_plain", s};

    s = shape_base();
    s.max_prefix4 = 0;
    s.max_prefix6 = 0;
    all[n++] = (bgp_shape){"no_max_prefix", s};

    s = shape_base();
    s.import4 = s.import6 = s.export4 = s.export6 = (wf_bgp_prefixes){NULL, 0};
    all[n++] = (bgp_shape){"no_prefixes", s};

    s = shape_base();
    s.import4 = (wf_bgp_prefixes){shape_many4, SHAPE_MANY};
    s.import6 = (wf_bgp_prefixes){shape_many6, SHAPE_MANY};
    s.max_prefix4 = 100000;
    s.max_prefix6 = 100000;
    all[n++] = (bgp_shape){"many_prefixes", s};

    s = shape_base();
    s.import4 = SHAPE_LIST(shape_odd4);
    s.import6 = SHAPE_LIST(shape_odd6);
    s.export4 = SHAPE_LIST(shape_odd4);
    all[n++] = (bgp_shape){"odd_prefixes", s};

    s = shape_base();
    s.request_id = 4000000000LL;
    s.local_asn = 4200000000LL;
    s.remote_asn = 4200000001LL;
    s.local_name = "x\"; } protocol kernel { export all; }; #";
    s.remote_name = "a\nrouter bgp 1\n neighbor 1.1.1.1 remote-as 2 ! /* \\ ' {};# \xc3\xa9";
    all[n++] = (bgp_shape){"hostile_names", s};

    if (n > max)
        n = max;
    memcpy(out, all, n * sizeof *out);
    return n;
}

#endif
