/* bgp_render_dump: prints one test shape in one dialect, for the
 * daemons' own checkers (tests/integration/bgp_render_test.sh) and for
 * the samples of docs/bgp.md.
 *
 *   bgp_render_dump --list          the shape names, one a line
 *   bgp_render_dump SHAPE DAEMON    the configuration on stdout
 *
 * Exit 0, or 2 with a line on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/bgp_render_shapes.h"

int main(int argc, char **argv)
{
    bgp_shape shapes[16];
    size_t n = bgp_shapes(shapes, 16);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", shapes[i].name);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: bgp_render_dump --list | SHAPE DAEMON\n");
        return 2;
    }
    wf_bgp_daemon d;
    if (!wf_bgp_daemon_parse(argv[2], &d)) {
        fprintf(stderr, "unknown daemon '%s': use one of %s\n", argv[2], wf_bgp_daemon_list());
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(shapes[i].name, argv[1]) != 0)
            continue;
        char *out;
        pf_err e;
        if (wf_bgp_render(d, &shapes[i].s, &out, &e) != PF_OK) {
            fprintf(stderr, "%s (%s): %s\n", e.code, e.field, e.message);
            return 2;
        }
        fputs(out, stdout);
        free(out);
        return 0;
    }
    fprintf(stderr, "unknown shape '%s' (--list shows them)\n", argv[1]);
    return 2;
}
