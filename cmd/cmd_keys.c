/* peerflow keys rotate | keys list
 *
 * The Ed25519 keys of approval links, in PEERFLOW_KEY_DIR (workflow/keys.h,
 * docs/security.md). rotate adds a key and makes it current; older keys
 * keep verifying the links they signed. Needs no database. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cli.h"
#include "workflow/keys.h"

int cmd_keys(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{NULL}};
    pf_err err = {0};
    cli_args a;
    const char *verb = argc > 0 ? argv[0] : "";
    if (strcmp(verb, "rotate") != 0 && strcmp(verb, "list") != 0) {
        pf_fail(&err, PF_EINVALID, "unknown_subcommand", NULL,
                "usage: peerflow keys rotate | peerflow keys list (keys in PEERFLOW_KEY_DIR)");
        return cli_fail(&err);
    }
    if (cli_parse(strcmp(verb, "rotate") == 0 ? "keys rotate" : "keys list", argc - 1, argv + 1,
                  opts, &a, &err))
        return cli_fail(&err);
    if (a.npos > 0) {
        pf_fail(&err, PF_EINVALID, "unexpected_argument", NULL,
                "unexpected argument '%s' for 'keys %s'", a.pos[0], verb);
        return cli_fail(&err);
    }
    wf_keyring *k = NULL;
    if (wf_keyring_open(cfg->key_dir, &k, &err))
        return cli_fail(&err);
    int rc = 0;
    if (strcmp(verb, "rotate") == 0) {
        char id[WF_KEY_ID_HEX];
        if (wf_keyring_rotate(k, id, &err)) {
            rc = cli_fail(&err);
        } else {
            size_t n = 0;
            wf_key_info info;
            while (wf_keyring_info(k, n, &info))
                n++;
            printf("peerflow: new signing key %s is current; %zu key%s in %s (older keys "
                   "still verify their links until those expire)\n",
                   id, n, n == 1 ? "" : "s", cfg->key_dir);
        }
    } else {
        printf("%-10s %-8s %-8s %s\n", "key", "signs", "current", "created");
        wf_key_info info;
        for (size_t i = 0; wf_keyring_info(k, i, &info); i++) {
            char when[32];
            time_t t = (time_t)info.created;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
            printf("%-10s %-8s %-8s %s\n", info.id, info.can_sign ? "yes" : "no",
                   info.current ? "yes" : "", when);
        }
    }
    wf_keyring_free(k);
    return rc;
}
