/* peerflow: the one binary. Parses the command words and hands the rest
 * to the subcommand (cmd/cmd_*.c). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/workers.h"

static const char usage[] =
    "usage: peerflow [--database-url URL] COMMAND ...\n"
    "\n"
    "  migrate [--status]                         apply or list schema migrations\n"
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
    "  switch add --name NAME --dpid HEX [--endpoint tcp:HOST:PORT|unix:PATH]\n"
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
    "  pool add|remove --cidr CIDR | pool list [--format table|json]   link address pools\n"
    "  bgp-config ID --side requester|peer --daemon bird2|frr|junos|eos  router configuration\n"
    "  report list\n"
    "  report NAME [--format table|csv|json] [--request ID]\n"
    "  audit verify\n"
    "  keys rotate | keys list                   approval-link signing keys\n"
    "  reconcile [--switch NAME]                  repair the switches' flows from the database\n"
    "  token create --email E [--name LABEL]     prints a new API token once\n"
    "\n"
    "Configuration: PEERFLOW_DATABASE_URL, PEERFLOW_MIGRATE_DATABASE_URL, PEERFLOW_LISTEN,\n"
    "PEERFLOW_BASE_URL, PEERFLOW_SMTP_URL, PEERFLOW_MAIL_FROM, PEERFLOW_KEY_DIR,\n"
    "PEERFLOW_OPENFLOW_LISTEN, PEERFLOW_MIGRATIONS_DIR, PEERFLOW_TRUSTED_PROXIES\n"
    "(see README.md).\n";

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
    {"bgp-config", cmd_bgp_config},
};

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "peerflow: libsodium failed to initialise\n");
        return 1;
    }
    cli_config cfg;
    cli_config_load(&cfg);
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--database-url") == 0 && i + 1 < argc) {
            cfg.database_url = argv[i + 1];
            cfg.worker_database_url = argv[i + 1];
            cfg.migrate_database_url = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--database-url=", 15) == 0) {
            cfg.database_url = cfg.worker_database_url = cfg.migrate_database_url = argv[i] + 15;
            i++;
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
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].run(&cfg, argc - i - 1, argv + i + 1);
    fprintf(stderr, "peerflow: unknown command '%s' (see: peerflow help)\n", argv[i]);
    return 2;
}
