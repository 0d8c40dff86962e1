/* peerflow pool add|list|remove, network set|prefix|show, bgp-config:
 * the layer-3 commands (docs/bgp.md). Each parses, calls workflow/bgp.c,
 * prints one line, a table or the configuration. They act as the
 * operator at the shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "workflow/bgp.h"
#include "workflow/validate.h"


static int done(db_conn *c, pf_kind k, const pf_err *err)
{
    db_close(c);
    return k == PF_OK ? 0 : cli_fail(err);
}

static int usage_error(const char *usage)
{
    pf_err err = {0};
    pf_fail(&err, PF_EINVALID, "unknown_subcommand", NULL, "usage: %s (see: peerflow help)",
            usage);
    return cli_fail(&err);
}

/* ----------------------------------------------------------- pools */

static int pool_list(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"format", true, false}, {NULL}};
    static const char *const fmts[] = {"table", "json", NULL};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    db_conn *c = NULL;
    if (cli_parse("pool list", argc, argv, opts, &a, &err) ||
        (cli_get(&a, "format") && wf_check_choice(cli_get(&a, "format"), "format", fmts, &err)) ||
        (c = cli_connect_for(cfg, "pool list", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    json_t *pools;
    pf_kind k = wf_pool_list(&env, &who, &pools, &err);
    if (k == PF_OK) {
        if (cli_get(&a, "format") && strcmp(cli_get(&a, "format"), "json") == 0) {
            char *s = json_dumps(pools, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            puts(s ? s : "[]");
            free(s);
        } else {
            printf("%-24s %-7s %10s %s\n", "cidr", "family", "allocated", "free");
            size_t i;
            json_t *p;
            json_array_foreach(pools, i, p) {
                printf("%-24s IPv%-4lld %10lld %.0f\n",
                       json_string_value(json_object_get(p, "cidr")),
                       (long long)json_integer_value(json_object_get(p, "family")),
                       (long long)json_integer_value(json_object_get(p, "allocated")),
                       json_number_value(json_object_get(p, "free")));
            }
        }
        json_decref(pools);
    }
    return done(c, k, &err);
}

int cmd_pool(const cli_config *cfg, int argc, char **argv)
{
    static const char usage[] = "peerflow pool add|remove --cidr CIDR | pool list [--format table|json]";
    if (argc < 1)
        return usage_error(usage);
    if (strcmp(argv[0], "list") == 0)
        return pool_list(cfg, argc - 1, argv + 1);
    bool add = strcmp(argv[0], "add") == 0;
    if (!add && strcmp(argv[0], "remove") != 0)
        return usage_error(usage);
    static const cli_opt opts[] = {{"cidr", true, false}, {NULL}};
    const char *cmd = add ? "pool add" : "pool remove";
    cli_args a;
    wf_env env;
    pf_err err = {0};
    db_conn *c = NULL;
    if (cli_parse(cmd, argc - 1, argv + 1, opts, &a, &err) || cli_require(&a, "cidr", &err) ||
        (c = cli_connect_for(cfg, cmd, &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    const char *cidr = cli_get(&a, "cidr");
    pf_kind k = add ? wf_pool_add(&env, &who, cidr, &err) : wf_pool_remove(&env, &who, cidr, &err);
    if (k == PF_OK)
        printf("pool %s %s\n", cidr, add ? "added" : "removed");
    return done(c, k, &err);
}

/* ------------------------------------------------ routing facts */

static int network_set(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"asn", true, false},
                                   {"max-prefix4", true, false},
                                   {"max-prefix6", true, false},
                                   {"irr-as-set", true, false},
                                   {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    db_conn *c = NULL;
    if (cli_parse("network set", argc, argv, opts, &a, &err) || cli_require(&a, "asn", &err))
        return cli_fail(&err);
    wf_facts_input in = {.max_prefix4 = cli_get(&a, "max-prefix4"),
                         .max_prefix6 = cli_get(&a, "max-prefix6"),
                         .irr_as_set = cli_get(&a, "irr-as-set")};
    if (!in.max_prefix4 && !in.max_prefix6 && !in.irr_as_set) {
        pf_fail(&err, PF_EINVALID, "nothing_to_set", NULL,
                "network set changes --max-prefix4, --max-prefix6 or --irr-as-set (an empty "
                "value clears one): give at least one");
        return cli_fail(&err);
    }
    if ((c = cli_connect_for(cfg, "network set", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    pf_kind k = wf_network_facts_set(&env, &who, cli_get(&a, "asn"), &in, &err);
    if (k == PF_OK)
        printf("network AS%s updated\n", cli_get(&a, "asn"));
    return done(c, k, &err);
}

static int network_prefix(const cli_config *cfg, int argc, char **argv)
{
    static const char usage[] =
        "peerflow network prefix add --asn N --cidr CIDR [--force] | network prefix remove "
        "--asn N --cidr CIDR";
    if (argc < 1)
        return usage_error(usage);
    bool add = strcmp(argv[0], "add") == 0;
    if (!add && strcmp(argv[0], "remove") != 0)
        return usage_error(usage);
    static const cli_opt add_opts[] = {
        {"asn", true, false}, {"cidr", true, false}, {"force", false, false}, {NULL}};
    static const cli_opt remove_opts[] = {{"asn", true, false}, {"cidr", true, false}, {NULL}};
    const char *cmd = add ? "network prefix add" : "network prefix remove";
    cli_args a;
    wf_env env;
    pf_err err = {0};
    db_conn *c = NULL;
    if (cli_parse(cmd, argc - 1, argv + 1, add ? add_opts : remove_opts, &a, &err) ||
        cli_require(&a, "asn", &err) || cli_require(&a, "cidr", &err) ||
        (c = cli_connect_for(cfg, cmd, &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    const char *asn = cli_get(&a, "asn"), *cidr = cli_get(&a, "cidr");
    pf_kind k = add ? wf_network_prefix_add(&env, &who, asn, cidr, cli_has(&a, "force"), &err)
                    : wf_network_prefix_remove(&env, &who, asn, cidr, &err);
    if (k == PF_OK)
        printf("AS%s: prefix %s %s\n", asn, cidr, add ? "registered" : "removed");
    return done(c, k, &err);
}

static int network_show(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"asn", true, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    db_conn *c = NULL;
    if (cli_parse("network show", argc, argv, opts, &a, &err) || cli_require(&a, "asn", &err) ||
        (c = cli_connect_for(cfg, "network show", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    json_t *facts;
    pf_kind k = wf_network_facts_get(&env, &who, cli_get(&a, "asn"), &facts, &err);
    if (k == PF_OK) {
        char *s = json_dumps(facts, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s ? s : "null");
        free(s);
        json_decref(facts);
    }
    return done(c, k, &err);
}

int cmd_network_routing(const cli_config *cfg, int argc, char **argv)
{
    if (strcmp(argv[0], "set") == 0)
        return network_set(cfg, argc - 1, argv + 1);
    if (strcmp(argv[0], "prefix") == 0)
        return network_prefix(cfg, argc - 1, argv + 1);
    return network_show(cfg, argc - 1, argv + 1);
}

/* ------------------------------------------------------- bgp-config */

int cmd_bgp_config(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"side", true, false}, {"daemon", true, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    long long id = 0;
    if (cli_parse("bgp-config", argc, argv, opts, &a, &err) || cli_require(&a, "side", &err) ||
        cli_require(&a, "daemon", &err))
        return cli_fail(&err);
    if (a.npos != 1 || wf_parse_int(a.pos[0], "ID", 1, 1LL << 53, &id, &err)) {
        if (a.npos != 1)
            pf_fail(&err, PF_EINVALID, "missing", "ID",
                    "usage: peerflow bgp-config ID --side requester|peer --daemon %s",
                    "bird2|frr|junos|eos");
        return cli_fail(&err);
    }
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    char *text = NULL;
    pf_kind k = wf_bgp_config(&env, &who, id, cli_get(&a, "side"), cli_get(&a, "daemon"), &text,
                              &err);
    if (k == PF_OK)
        fputs(text, stdout);
    free(text);
    return done(c, k, &err);
}
