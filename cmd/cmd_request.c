/* peerflow request list|show|submit|approve|reject|cancel|decommission|expire
 *
 * list and show act as the operator. submit and the decisions act as the
 * user named by --as (an operator's tool: scripts, support, the demo);
 * they are audited as that user with via "cli". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "workflow/changes.h"
#include "workflow/queries.h"
#include "workflow/requests.h"
#include "workflow/validate.h"

static int print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(s ? s : "null");
    free(s);
    json_decref(j);
    return 0;
}

static void print_list(json_t *doc)
{
    json_t *arr = json_object_get(doc, "requests"), *r;
    size_t i;
    printf("%-6s %-16s %-28s %-28s %s\n", "id", "state", "requester", "peer", "created");
    json_array_foreach(arr, i, r) {
        json_t *a = json_object_get(r, "requester"), *p = json_object_get(r, "peer");
        char req[64], peer[64];
        snprintf(req, sizeof req, "AS%lld %s", (long long)json_integer_value(json_object_get(a, "asn")),
                 json_string_value(json_object_get(a, "port")));
        const char *pp = json_string_value(json_object_get(p, "port"));
        snprintf(peer, sizeof peer, "AS%lld %s", (long long)json_integer_value(json_object_get(p, "asn")),
                 pp ? pp : "(port not chosen)");
        printf("%-6lld %-16s %-28s %-28s %.19s\n",
               (long long)json_integer_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "state")), req, peer,
               json_string_value(json_object_get(r, "created_at")));
    }
    printf("(%zu request%s)\n", json_array_size(arr), json_array_size(arr) == 1 ? "" : "s");
}

static int parse_id(const char *s, long long *id, pf_err *err)
{
    return wf_parse_int(s, "ID", 1, 9223372036854775807LL, id, err);
}

/* --NAME VLAN, when given: 1..4094 with the range in the message. */
static int optional_vlan(const cli_args *a, const char *name, int *out, pf_err *err)
{
    *out = 0;
    if (!cli_has(a, name))
        return PF_OK;
    return wf_parse_vlan(cli_get(a, name), name, out, err);
}

static int optional_int(const cli_args *a, const char *name, long long min, long long max,
                        int *out, pf_err *err)
{
    long long v;
    *out = 0;
    if (!cli_has(a, name))
        return PF_OK;
    if (wf_parse_int(cli_get(a, name), name, min, max, &v, err))
        return err->kind;
    *out = (int)v;
    return PF_OK;
}

static int do_list(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"state", true, false}, {"format", true, false}, {"limit", true, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    int limit = 0;
    if (cli_parse("request list", argc, argv, opts, &a, &err) ||
        optional_int(&a, "limit", 1, 100000, &limit, &err))
        return cli_fail(&err);
    const char *fmt = cli_get(&a, "format") ? cli_get(&a, "format") : "table";
    static const char *const fmts[] = {"table", "json", NULL};
    if (wf_check_choice(fmt, "format", fmts, &err))
        return cli_fail(&err);
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    json_t *doc;
    pf_kind k = wf_request_list(&env, &who, cli_get(&a, "state"), limit, &doc, &err);
    db_close(c);
    if (k)
        return cli_fail(&err);
    if (strcmp(fmt, "json") == 0)
        return print_json(doc);
    print_list(doc);
    json_decref(doc);
    return 0;
}

static int do_show(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    long long id;
    if (cli_parse("request show", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    if (a.npos != 1) {
        pf_fail(&err, PF_EINVALID, "missing_id", "id", "usage: peerflow request show ID");
        return cli_fail(&err);
    }
    if (parse_id(a.pos[0], &id, &err))
        return cli_fail(&err);
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    json_t *doc;
    pf_kind k = wf_request_get(&env, &who, id, &doc, &err);
    db_close(c);
    return k ? cli_fail(&err) : print_json(doc);
}

static int do_submit(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"as", true, false},        {"port", true, false},      {"peer-asn", true, false},
        {"vlan", true, false},      {"peer-port", true, false}, {"peer-vlan", true, false},
        {"bandwidth", true, false}, {"message", true, false},   {"bgp-md5", false, false},
        {"no-bgp-ipv4", false, false}, {"no-bgp-ipv6", false, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    wf_submit_input in = {0};
    if (cli_parse("request submit", argc, argv, opts, &a, &err) || cli_require(&a, "as", &err) ||
        cli_require(&a, "port", &err) || cli_require(&a, "peer-asn", &err) ||
        wf_parse_asn(cli_get(&a, "peer-asn"), "peer-asn", &in.peer_asn, &err) ||
        optional_vlan(&a, "vlan", &in.vlan, &err) ||
        optional_vlan(&a, "peer-vlan", &in.peer_vlan, &err) ||
        optional_int(&a, "bandwidth", 1, 100000000, &in.bandwidth_mbps, &err))
        return cli_fail(&err);
    in.port = cli_get(&a, "port");
    in.peer_port = cli_get(&a, "peer-port");
    in.message = cli_get(&a, "message");
    in.bgp_md5 = cli_has(&a, "bgp-md5");
    in.no_bgp_ipv4 = cli_has(&a, "no-bgp-ipv4");
    in.no_bgp_ipv6 = cli_has(&a, "no-bgp-ipv6");
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who;
    long long id = 0;
    pf_kind k = wf_actor_for_user(&env, cli_get(&a, "as"), "cli", &who, &err);
    if (k == PF_OK)
        k = wf_request_submit(&env, &who, &in, &id, &err);
    db_close(c);
    if (k)
        return cli_fail(&err);
    printf("request %lld submitted\n", id);
    return 0;
}

typedef pf_kind (*decision_fn)(const wf_env *, const wf_actor *, long long,
                               const wf_decision_input *, pf_err *);

static int do_decide(const cli_config *cfg, const char *verb, decision_fn fn, int argc,
                     char **argv)
{
    static const cli_opt opts[] = {{"as", true, false},   {"version", true, false},
                                   {"port", true, false}, {"vlan", true, false},
                                   {"reason", true, false}, {NULL}};
    char cmd[64];
    snprintf(cmd, sizeof cmd, "request %s", verb);
    cli_args a;
    wf_env env;
    pf_err err = {0};
    wf_decision_input in = {0};
    long long id;
    if (cli_parse(cmd, argc, argv, opts, &a, &err) || cli_require(&a, "as", &err))
        return cli_fail(&err);
    if (a.npos != 1) {
        pf_fail(&err, PF_EINVALID, "missing_id", "id", "usage: peerflow %s ID --as EMAIL", cmd);
        return cli_fail(&err);
    }
    if (parse_id(a.pos[0], &id, &err) ||
        optional_int(&a, "version", 1, 2147483647, &in.version, &err) ||
        optional_vlan(&a, "vlan", &in.vlan, &err))
        return cli_fail(&err);
    in.port = cli_get(&a, "port");
    in.reason = cli_get(&a, "reason");
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who;
    pf_kind k = wf_actor_for_user(&env, cli_get(&a, "as"), "cli", &who, &err);
    if (k == PF_OK)
        k = fn(&env, &who, id, &in, &err);
    db_close(c);
    if (k)
        return cli_fail(&err);
    printf("request %lld: %s done\n", id, verb);
    return 0;
}

static int do_expire(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (cli_parse("request expire", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    int n;
    pf_kind k = wf_request_expire_due(&env, &n, &err);
    db_close(c);
    if (k)
        return cli_fail(&err);
    printf("%d request%s expired\n", n, n == 1 ? "" : "s");
    return 0;
}

/* request modify ID --as EMAIL --bandwidth N [--version N]: asks for a
 * change of a live circuit (workflow/changes.h). */
static int do_modify(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"as", true, false}, {"bandwidth", true, false}, {"version", true, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    long long id;
    wf_change_input in = {0};
    if (cli_parse("request modify", argc, argv, opts, &a, &err) || cli_require(&a, "as", &err) ||
        cli_require(&a, "bandwidth", &err))
        return cli_fail(&err);
    if (a.npos != 1) {
        pf_fail(&err, PF_EINVALID, "missing_id", "id",
                "usage: peerflow request modify ID --as EMAIL --bandwidth MBPS");
        return cli_fail(&err);
    }
    if (parse_id(a.pos[0], &id, &err) ||
        optional_int(&a, "bandwidth", 1, 100000000, &in.bandwidth_mbps, &err) ||
        optional_int(&a, "version", 1, 2147483647, &in.version, &err))
        return cli_fail(&err);
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who;
    long long change = 0;
    pf_kind k = wf_actor_for_user(&env, cli_get(&a, "as"), "cli", &who, &err);
    if (k == PF_OK)
        k = wf_change_open(&env, &who, id, &in, &change, &err);
    db_close(c);
    if (k)
        return cli_fail(&err);
    printf("request %lld: change %lld asked (%d Mbit/s), waiting for the other network\n", id,
           change, in.bandwidth_mbps);
    return 0;
}

/* request change approve|reject|cancel ID --change N --as EMAIL [--reason TEXT] */
static int do_change(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"as", true, false}, {"change", true, false}, {"reason", true, false}, {NULL}};
    const char *verb = argc > 0 ? argv[0] : "";
    bool cancel = strcmp(verb, "cancel") == 0, approve = strcmp(verb, "approve") == 0;
    pf_err err = {0};
    if (!cancel && !approve && strcmp(verb, "reject") != 0) {
        pf_fail(&err, PF_EINVALID, "unknown_subcommand", NULL,
                "usage: peerflow request change approve|reject|cancel ID --change N --as EMAIL "
                "[--reason TEXT]");
        return cli_fail(&err);
    }
    cli_args a;
    wf_env env;
    long long id, change;
    if (cli_parse("request change", argc - 1, argv + 1, opts, &a, &err) ||
        cli_require(&a, "as", &err) || cli_require(&a, "change", &err))
        return cli_fail(&err);
    if (a.npos != 1) {
        pf_fail(&err, PF_EINVALID, "missing_id", "id",
                "usage: peerflow request change %s ID --change N --as EMAIL", verb);
        return cli_fail(&err);
    }
    if (parse_id(a.pos[0], &id, &err) || parse_id(cli_get(&a, "change"), &change, &err))
        return cli_fail(&err);
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who;
    pf_kind k = wf_actor_for_user(&env, cli_get(&a, "as"), "cli", &who, &err);
    if (k == PF_OK)
        k = cancel ? wf_change_cancel(&env, &who, id, change, &err)
                   : wf_change_decide(&env, &who, id, change, approve, cli_get(&a, "reason"), &err);
    db_close(c);
    if (k)
        return cli_fail(&err);
    printf("request %lld: change %lld %s\n", id, change,
           cancel ? "withdrawn" : approve ? "approved" : "rejected");
    return 0;
}

int cmd_request(const cli_config *cfg, int argc, char **argv)
{
    static const struct {
        const char *verb;
        decision_fn fn;
    } decisions[] = {{"approve", wf_request_approve},
                     {"reject", wf_request_reject},
                     {"cancel", wf_request_cancel},
                     {"decommission", wf_request_decommission}};
    const char *verb = argc > 0 ? argv[0] : "";
    if (strcmp(verb, "list") == 0)
        return do_list(cfg, argc - 1, argv + 1);
    if (strcmp(verb, "show") == 0)
        return do_show(cfg, argc - 1, argv + 1);
    if (strcmp(verb, "submit") == 0)
        return do_submit(cfg, argc - 1, argv + 1);
    if (strcmp(verb, "expire") == 0)
        return do_expire(cfg, argc - 1, argv + 1);
    if (strcmp(verb, "modify") == 0)
        return do_modify(cfg, argc - 1, argv + 1);
    if (strcmp(verb, "change") == 0)
        return do_change(cfg, argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof decisions / sizeof decisions[0]; i++)
        if (strcmp(verb, decisions[i].verb) == 0)
            return do_decide(cfg, verb, decisions[i].fn, argc - 1, argv + 1);
    fprintf(stderr, "peerflow: usage: peerflow request list|show|submit|approve|reject|cancel|"
                    "decommission|expire|modify|change ... (see: peerflow help)\n");
    return 2;
}
