/* peerflow network|user|switch|link|port add, token create: the operator's
 * set-up commands. Each parses, calls workflow/admin.c, prints one line. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "workflow/admin.h"
#include "provisioner/transport.h"

/* "add" (or "create") must be the first word after the noun. */
static bool expect_verb(const char *noun, const char *verb, int argc, char **argv, pf_err *err)
{
    if (argc < 1 || strcmp(argv[0], verb) != 0) {
        pf_fail(err, PF_EINVALID, "unknown_subcommand", NULL, "usage: peerflow %s %s ... (see: peerflow help)",
                noun, verb);
        return false;
    }
    return true;
}


static int finish(db_conn *c, pf_kind k, const pf_err *err)
{
    db_close(c);
    return k == PF_OK ? 0 : cli_fail(err);
}

int cmd_network(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"asn", true, false},     {"name", true, false},
                                   {"policy", true, false},  {"contact", true, true},
                                   {"auto-approve", false, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (argc >= 1 && (strcmp(argv[0], "set") == 0 || strcmp(argv[0], "prefix") == 0 ||
                      strcmp(argv[0], "show") == 0))
        return cmd_network_routing(cfg, argc, argv);
    if (!expect_verb("network", "add", argc, argv, &err))
        return cli_fail(&err);
    db_conn *c = NULL;
    if (cli_parse("network add", argc - 1, argv + 1, opts, &a, &err) ||
        cli_require(&a, "asn", &err) || cli_require(&a, "name", &err) ||
        (c = cli_connect_for(cfg, "network add", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    const char *contacts[16];
    wf_network_input in = {.asn = cli_get(&a, "asn"),
                           .name = cli_get(&a, "name"),
                           .policy = cli_get(&a, "policy"),
                           .contacts = contacts,
                           .n_contacts = cli_all(&a, "contact", contacts, 16),
                           .auto_approve = cli_has(&a, "auto-approve")};
    wf_actor who = wf_actor_cli();
    long long id;
    pf_kind k = wf_network_add(&env, &who, &in, &id, &err);
    if (k == PF_OK)
        printf("network %s (AS%s) added, id %lld\n", in.name, in.asn, id);
    return finish(c, k, &err);
}

/* Reads one line (the password) from stdin, without its newline. */
static bool read_password(char *buf, size_t n)
{
    if (fgets(buf, (int)n, stdin) == NULL)
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

/* peerflow user disable|enable --email E, user set-password --email E
 * --password-stdin: an operator's changes to an existing account. */
static int user_change(const cli_config *cfg, const char *verb, int argc, char **argv)
{
    static const cli_opt opts[] = {{"email", true, false}, {"password-stdin", false, false},
                                   {NULL}};
    static const cli_opt opts_no_password[] = {{"email", true, false}, {NULL}};
    bool set_password = strcmp(verb, "set-password") == 0;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "user %s", verb);
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (cli_parse(cmd, argc, argv, set_password ? opts : opts_no_password, &a, &err) ||
        cli_require(&a, "email", &err))
        return cli_fail(&err);
    char password[1100] = "";
    if (set_password) {
        if (!cli_has(&a, "password-stdin")) {
            pf_fail(&err, PF_EINVALID, "missing_option", "password-stdin",
                    "--password-stdin is required for 'user set-password': pipe the new "
                    "password in (it never goes on the command line)");
            return cli_fail(&err);
        }
        if (!read_password(password, sizeof password)) {
            pf_fail(&err, PF_EINVALID, "no_password", "password",
                    "--password-stdin given but nothing could be read from standard input");
            return cli_fail(&err);
        }
    }
    db_conn *c = cli_connect_for(cfg, cmd, &a, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    const char *email = cli_get(&a, "email");
    pf_kind k = set_password ? wf_user_set_password(&env, &who, email, password, &err)
                             : wf_user_set_disabled(&env, &who, email,
                                                    strcmp(verb, "disable") == 0, &err);
    sodium_memzero(password, sizeof password);
    if (k == PF_OK)
        printf("user %s %s\n", email,
               set_password ? "has a new password; their sessions ended"
               : strcmp(verb, "disable") == 0 ? "disabled; their sessions ended"
                                              : "enabled");
    return finish(c, k, &err);
}

int cmd_user(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"email", true, false},    {"network", true, false},
                                   {"role", true, false},     {"operator", false, false},
                                   {"password-stdin", false, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (argc >= 1 && (strcmp(argv[0], "disable") == 0 || strcmp(argv[0], "enable") == 0 ||
                      strcmp(argv[0], "set-password") == 0))
        return user_change(cfg, argv[0], argc - 1, argv + 1);
    if (argc < 1 || strcmp(argv[0], "add") != 0) {
        pf_fail(&err, PF_EINVALID, "unknown_subcommand", NULL,
                "usage: peerflow user add|disable|enable|set-password ... (see: peerflow help)");
        return cli_fail(&err);
    }
    if (cli_parse("user add", argc - 1, argv + 1, opts, &a, &err) ||
        cli_require(&a, "email", &err))
        return cli_fail(&err);
    bool op = cli_has(&a, "operator");
    if (op && cli_has(&a, "role")) {
        pf_fail(&err, PF_EINVALID, "operator_has_no_role", "role",
                "give either --operator or --network ASN --role ROLE, not both");
        return cli_fail(&err);
    }
    if (!op && (cli_require(&a, "network", &err) || cli_require(&a, "role", &err)))
        return cli_fail(&err);
    char password[1100] = "";
    if (cli_has(&a, "password-stdin") && !read_password(password, sizeof password)) {
        pf_fail(&err, PF_EINVALID, "no_password", "password",
                "--password-stdin given but nothing could be read from standard input");
        return cli_fail(&err);
    }
    db_conn *c = cli_connect_for(cfg, "user add", &a, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_user_input in = {.email = cli_get(&a, "email"),
                        .network_asn = cli_get(&a, "network"),
                        .role = op ? "operator" : cli_get(&a, "role"),
                        .password = cli_has(&a, "password-stdin") ? password : NULL};
    wf_actor who = wf_actor_cli();
    long long id;
    pf_kind k = wf_user_add(&env, &who, &in, &id, &err);
    if (k == PF_OK)
        printf("user %s (%s) added, id %lld\n", in.email, in.role, id);
    return finish(c, k, &err);
}

int cmd_switch(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"name", true, false},  {"dpid", true, false},
        {"endpoint", true, false}, {"cert", true, false},
        {"cert-fingerprint", true, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (!expect_verb("switch", "add", argc, argv, &err))
        return cli_fail(&err);
    db_conn *c = NULL;
    if (cli_parse("switch add", argc - 1, argv + 1, opts, &a, &err) ||
        cli_require(&a, "name", &err) || cli_require(&a, "dpid", &err) ||
        (c = cli_connect_for(cfg, "switch add", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_switch_input in = {.name = cli_get(&a, "name"),
                          .dpid = cli_get(&a, "dpid"),
                          .endpoint = cli_get(&a, "endpoint")};
    const char *pin = cli_get(&a, "cert-fingerprint");
    char fp[65];
    if (cli_get(&a, "cert")) {
        char why[300];
        if (pin) {
            pf_fail(&err, PF_EINVALID, "cert_twice", "cert",
                    "give the switch's certificate as --cert FILE or --cert-fingerprint HEX, not "
                    "both");
            return finish(c, err.kind, &err);
        }
        if (!prov_tx_cert_file_sha256(cli_get(&a, "cert"), fp, why, sizeof why)) {
            pf_fail(&err, PF_EINVALID, "bad_cert_file", "cert",
                    "--cert %s: %s (a PEM certificate, e.g. ovs-pki's NAME-cert.pem)",
                    cli_get(&a, "cert"), why);
            return finish(c, err.kind, &err);
        }
        pin = fp;
    }
    wf_actor who = wf_actor_cli();
    long long id;
    pf_kind k = wf_switch_add_pinned(&env, &who, &in, pin, &id, &err);
    if (k == PF_OK)
        printf("switch %s added, id %lld%s\n", in.name, id, pin ? ", certificate pinned" : "");
    return finish(c, k, &err);
}

int cmd_link(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"a", true, false}, {"b", true, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (!expect_verb("link", "add", argc, argv, &err))
        return cli_fail(&err);
    db_conn *c = NULL;
    if (cli_parse("link add", argc - 1, argv + 1, opts, &a, &err) ||
        cli_require(&a, "a", &err) || cli_require(&a, "b", &err) ||
        (c = cli_connect_for(cfg, "link add", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    long long id;
    pf_kind k = wf_link_add(&env, &who, cli_get(&a, "a"), cli_get(&a, "b"), &id, &err);
    if (k == PF_OK)
        printf("link %s <-> %s added, id %lld\n", cli_get(&a, "a"), cli_get(&a, "b"), id);
    return finish(c, k, &err);
}

int cmd_port(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"network", true, false}, {"switch", true, false},
                                   {"ofport", true, false},  {"name", true, false},
                                   {"mode", true, false},    {"speed", true, false},
                                   {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (!expect_verb("port", "add", argc, argv, &err))
        return cli_fail(&err);
    db_conn *c = NULL;
    if (cli_parse("port add", argc - 1, argv + 1, opts, &a, &err) ||
        cli_require(&a, "network", &err) || cli_require(&a, "switch", &err) ||
        cli_require(&a, "ofport", &err) || cli_require(&a, "name", &err) ||
        (c = cli_connect_for(cfg, "port add", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_port_input in = {.network_asn = cli_get(&a, "network"),
                        .switch_name = cli_get(&a, "switch"),
                        .ofport = cli_get(&a, "ofport"),
                        .name = cli_get(&a, "name"),
                        .mode = cli_get(&a, "mode"),
                        .speed = cli_get(&a, "speed")};
    wf_actor who = wf_actor_cli();
    long long id;
    pf_kind k = wf_port_add(&env, &who, &in, &id, &err);
    if (k == PF_OK)
        printf("port %s on %s:%s added, id %lld\n", in.name, in.switch_name, in.ofport, id);
    return finish(c, k, &err);
}

int cmd_token(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"email", true, false}, {"name", true, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (!expect_verb("token", "create", argc, argv, &err))
        return cli_fail(&err);
    db_conn *c = NULL;
    if (cli_parse("token create", argc - 1, argv + 1, opts, &a, &err) ||
        cli_require(&a, "email", &err) ||
        (c = cli_connect_for(cfg, "token create", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    char token[WF_API_TOKEN_LEN];
    pf_kind k = wf_api_token_create(&env, &who, cli_get(&a, "email"), cli_get(&a, "name"),
                                    token, &err);
    if (k == PF_OK)
        printf("%s\n", token);
    return finish(c, k, &err);
}
