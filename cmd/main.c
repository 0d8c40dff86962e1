/* peerflow: the one binary. Parses the command words and hands the rest
 * to the subcommand (cmd/cmd_*.c). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/workers.h"
#include "common/pf_log.h"

#ifndef PF_VERSION
#define PF_VERSION "unknown"
#endif

static const char usage[] =
    "usage: peerflow [--config FILE] [--database-url URL] COMMAND ...\n"
    "       peerflow --version | --help\n"
    "\n"
    "  migrate [--status | --check] [--dir DIR]   apply, list or check schema migrations\n"
    "  serve [--listen ADDR:PORT] [--no-workers]  web + workers\n"
    "  worker [--only mailer|provisioner]         workers alone, for scale-out\n"
    "  network add --asn N --name NAME [--policy P] [--contact EMAIL]... [--auto-approve]\n"
    "  network set --asn N [--max-prefix4 N] [--max-prefix6 N] [--irr-as-set NAME]\n"
    "  network prefix add --asn N --cidr CIDR [--force] | network prefix remove --asn N --cidr CIDR\n"
    "  network show --asn N                       routing facts and registered prefixes (JSON)\n"
    "  user add --email E (--network ASN --role admin|engineer|viewer | --operator)\n"
    "           [--password-stdin]\n"
    "  user disable|enable --email E              end a user's sessions, refuse their tokens\n"
    "  user set-password --email E --password-stdin\n"
    "  switch add --name NAME --dpid HEX\n"
    "           [--endpoint tcp:HOST:PORT|ssl:HOST:PORT|unix:PATH]\n"
    "           [--cert FILE | --cert-fingerprint HEX]\n"
    "  link add --a SWITCH:PORT --b SWITCH:PORT\n"
    "  port add --network ASN --switch NAME --ofport N --name NAME [--mode access|trunk]\n"
    "           [--speed MBPS]\n"
    "  request list [--state S] [--format table|json]\n"
    "  request show ID\n"
    "  request submit --as EMAIL --port NAME --peer-asn N [--vlan N] [--peer-port NAME]\n"
    "           [--peer-vlan N] [--bandwidth MBPS] [--message TEXT] [--bgp-md5]\n"
    "           [--no-bgp-ipv4] [--no-bgp-ipv6]\n"
    "  request approve|reject|cancel|decommission ID --as EMAIL [--version N]\n"
    "           [--port NAME] [--vlan N] [--reason TEXT]\n"
    "  request expire                             expire pending requests past expiry\n"
    "  request modify ID --as EMAIL --bandwidth MBPS [--version N]   change a live circuit's cap\n"
    "  request change approve|reject|cancel ID --change N --as EMAIL [--reason TEXT]\n"
    "  pool add|remove --cidr CIDR | pool list [--format table|json]   link address pools\n"
    "  bgp-config ID --side requester|peer --daemon bird2|frr|junos|eos  router configuration\n"
    "  report list\n"
    "  report NAME [--format table|csv|json] [--request ID]\n"
    "  audit verify\n"
    "  keys rotate | keys list                   approval-link signing keys\n"
    "  reconcile [--switch NAME]                  repair the switches' flows from the database\n"
    "  token create --email E [--name LABEL]     prints a new API token once\n"
    "  config check                               the effective configuration and its sources\n"
    "  peeringdb import [--create] FILE-or-URL... networks' facts from PeeringDB JSON\n"
    "  peeringdb sync                             fetch what changed in PeeringDB, apply it\n"
    "  peeringdb pin --asn N --fields F,...|none  fields an import never overwrites\n"
    "\n"
    "Configuration: flag > environment (PEERFLOW_DATABASE_URL, ...) > file\n"
    "(--config, PEERFLOW_CONFIG, /etc/peerflow/peerflow.conf) > default;\n"
    "see man peerflow.conf.\n";

struct command {
    const char *name;
    int (*run)(const cli_config *cfg, int argc, char **argv);
};

static const struct command commands[] = {
    {"migrate", cmd_migrate}, {"network", cmd_network}, {"user", cmd_user},
    {"switch", cmd_switch},   {"link", cmd_link},       {"port", cmd_port},
    {"request", cmd_request}, {"report", cmd_report},   {"audit", cmd_audit},
    {"token", cmd_token},     {"serve", cmd_serve},     {"worker", cmd_worker},
    {"keys", cmd_keys},       {"reconcile", cmd_reconcile}, {"pool", cmd_pool},
    {"bgp-config", cmd_bgp_config}, {"config", cmd_config},
    {"peeringdb", cmd_peeringdb},
};

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "peerflow: libsodium failed to initialise\n");
        return 1;
    }
    cli_flags flags = {0};
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--database-url") == 0 && i + 1 < argc) {
            flags.database_url = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--database-url=", 15) == 0) {
            flags.database_url = argv[i] + 15;
            i++;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            flags.config = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            flags.config = argv[i] + 9;
            i++;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("peerflow %s\n", PF_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "peerflow: unknown option %s (see: peerflow help)\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[i], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        if (strcmp(argv[i], commands[c].name) != 0)
            continue;
        cli_config cfg;
        pf_err err = {0};
        int rc = cli_config_init(&cfg, &flags, &err) != PF_OK ? cli_fail(&err) : -1;
        if (rc < 0) {
            pf_log_set_json(strcmp(cfg.log_format, "json") == 0);
            rc = commands[c].run(&cfg, argc - i - 1, argv + i + 1);
        }
        cli_config_free(&cfg);
        return rc;
    }
    fprintf(stderr, "peerflow: unknown command '%s' (see: peerflow help)\n", argv[i]);
    return 2;
}
