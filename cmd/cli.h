/* cli: option parsing and output shared by the subcommands of cmd/.
 * Options are --name VALUE or --name=VALUE; a flag has no value. */
#ifndef CMD_CLI_H
#define CMD_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "common/pf_err.h"
#include "workflow/context.h"

typedef struct {
    const char *name; /* without the leading "--" */
    bool has_value;
    bool multi;       /* may be given more than once */
} cli_opt;

#define CLI_MAX_ARGS 64

typedef struct {
    const char *cmd; /* "network add", for messages */
    int n;
    const char *names[CLI_MAX_ARGS];
    const char *values[CLI_MAX_ARGS]; /* NULL for flags */
    int npos;
    const char *pos[CLI_MAX_ARGS];   /* positional arguments */
} cli_args;

/* Parses argv against opts (terminated by {NULL}). Unknown options,
 * missing values and repeats of single options are errors. */
pf_kind cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, cli_args *out,
                  pf_err *err);
const char *cli_get(const cli_args *a, const char *name);
bool cli_has(const cli_args *a, const char *name);
int cli_all(const cli_args *a, const char *name, const char **out, int max);
/* Fails with "--NAME is required for CMD" when name is missing. */
pf_kind cli_require(const cli_args *a, const char *name, pf_err *err);

/* Prints "peerflow: <message>" to stderr and returns the exit status of
 * err's kind. */
int cli_fail(const pf_err *err);

/* Global configuration: flag > environment > file > default
 * (cmd/config.c, docs/operations.md "The configuration file"). The
 * strings belong to the cli_config until cli_config_free. */
typedef enum { CLI_SRC_DEFAULT, CLI_SRC_FILE, CLI_SRC_ENV, CLI_SRC_FLAG } cli_source;

#define CLI_CONF_MAX_KEYS 32

typedef struct {
    const char *database_url;        /* serve's web connections: peerflow_app */
    const char *worker_database_url; /* workers and the CLI: peerflow_worker */
    const char *migrate_database_url;
    const char *migrations_dir;
    const char *listen;
    const char *base_url;
    const char *mail_from;
    const char *smtp_url;
    const char *key_dir;
    const char *openflow_listen;
    const char *openflow_tls_dir; /* PEERFLOW_OPENFLOW_TLS_DIR: key.pem, cert.pem, cacert.pem */
    const char *max_open_requests;        /* PEERFLOW_MAX_OPEN_REQUESTS, checked by cli_connect */
    const char *max_submissions_per_hour; /* PEERFLOW_MAX_SUBMISSIONS_PER_HOUR */
    const char *mail_max_attempts;        /* PEERFLOW_MAIL_MAX_ATTEMPTS */
    const char *trusted_proxies; /* PEERFLOW_TRUSTED_PROXIES, for serve */
    const char *peering_api_base;  /* PEERFLOW_PEERING_API_BASE: the Peering API's prefix */
    const char *peeringdb_url;     /* PEERFLOW_PEERINGDB_URL: the PeeringDB API */
    const char *peeringdb_api_key; /* PEERFLOW_PEERINGDB_API_KEY (secret) */
    const char *peeringdb_interval; /* PEERFLOW_PEERINGDB_INTERVAL: seconds; unset = no sync task */
    const char *peeringdb_ix_id;   /* PEERFLOW_PEERINGDB_IX_ID: this exchange in PeeringDB */
    const char *templates_dir;   /* web templates and static files: the tree's */
    const char *static_dir;      /* when run from it, else PF_DATADIR's */
    const char *log_format;      /* "text" (default) or "json" */
    const char *counter_interval; /* PEERFLOW_COUNTER_INTERVAL: seconds between traffic polls */
    const char *master_lease;    /* PEERFLOW_MASTER_LEASE: seconds of a switch's mastership lease */
    const char *config_file;     /* the file read, NULL when none */
    /* each key's source and where it came from ("file F:3"), by the index
     * of cli_config_key */
    cli_source source[CLI_CONF_MAX_KEYS];
    const char *origin[CLI_CONF_MAX_KEYS];
    bool hidden[CLI_CONF_MAX_KEYS]; /* read from a *_file: never printed */
    struct cli_conf_str *owned; /* the strings read from files */
} cli_config;

/* The flags of main (NULL when not given). */
typedef struct {
    const char *config;       /* --config FILE */
    const char *database_url; /* --database-url URL: every database URL */
} cli_flags;

/* Fills cfg from the layers. The file is flags->config, else
 * $PEERFLOW_CONFIG (both must exist), else PF_SYSCONFDIR/peerflow.conf
 * when it exists and the binary is not run from its source tree.
 * PF_EINVALID with one line saying what to fix for an unreadable or
 * unsafe file, an unknown key, a bad log_format. cfg is usable (and must
 * be freed) either way. */
pf_kind cli_config_init(cli_config *cfg, const cli_flags *flags, pf_err *err);
void cli_config_free(cli_config *cfg);

/* The configuration keys in order: i = 0.. until NULL. */
const char *cli_config_key(int i);
/* Key i's value in cfg (NULL when unset), masked for printing: a URL's or
 * conninfo's password and a value read from a *_file become "*****". */
void cli_config_masked(const cli_config *cfg, int i, char *buf, size_t n);
/* A URL or conninfo with its password (if any) replaced by "*****";
 * returns true when there was one. */
bool cli_mask_secret(const char *value, char *buf, size_t n);

/* The submission limits of cfg (0 = the default); PF_EINVALID for a bad
 * value. */
pf_kind cli_limits(const cli_config *cfg, int *max_open, int *max_hour, pf_err *err);

/* PEERFLOW_MAIL_MAX_ATTEMPTS (0 = the mailer's default); PF_EINVALID for a
 * bad value. cli_connect checks it too, so a process refuses to start on
 * one. */
pf_kind cli_mail_max_attempts(const cli_config *cfg, int *out, pf_err *err);
/* PEERFLOW_COUNTER_INTERVAL 1..3600 seconds; 0 when unset (the default). */
pf_kind cli_counter_interval(const cli_config *cfg, int *out, pf_err *err);
/* PEERFLOW_MASTER_LEASE 1..300 seconds; 0 when unset (the default, 3 s). */
pf_kind cli_master_lease(const cli_config *cfg, int *out, pf_err *err);

/* Connects to the database and fills env for a workflow call. Returns
 * NULL on failure with err filled. Caller db_close()s env->db. */
db_conn *cli_connect(const cli_config *cfg, const char *url, wf_env *env, pf_err *err);

/* cli_connect for a command that takes no positional argument: a stray
 * one is refused first ("unexpected argument 'x' for 'cmd'"). */
db_conn *cli_connect_for(const cli_config *cfg, const char *cmd, const cli_args *a, wf_env *env,
                         pf_err *err);

/* Subcommands: argc/argv start after the command words. */
int cmd_migrate(const cli_config *cfg, int argc, char **argv);
int cmd_network(const cli_config *cfg, int argc, char **argv);
int cmd_user(const cli_config *cfg, int argc, char **argv);
int cmd_switch(const cli_config *cfg, int argc, char **argv);
int cmd_link(const cli_config *cfg, int argc, char **argv);
int cmd_port(const cli_config *cfg, int argc, char **argv);
int cmd_request(const cli_config *cfg, int argc, char **argv);
int cmd_report(const cli_config *cfg, int argc, char **argv);
int cmd_audit(const cli_config *cfg, int argc, char **argv);
int cmd_token(const cli_config *cfg, int argc, char **argv);
int cmd_keys(const cli_config *cfg, int argc, char **argv);
int cmd_serve(const cli_config *cfg, int argc, char **argv);
int cmd_reconcile(const cli_config *cfg, int argc, char **argv);
int cmd_pool(const cli_config *cfg, int argc, char **argv);
int cmd_bgp_config(const cli_config *cfg, int argc, char **argv);
/* network set|prefix|show (cmd_bgp.c); argv[0] is the verb. */
int cmd_network_routing(const cli_config *cfg, int argc, char **argv);
int cmd_config(const cli_config *cfg, int argc, char **argv);
int cmd_peeringdb(const cli_config *cfg, int argc, char **argv);
/* PEERFLOW_PEERINGDB_INTERVAL in seconds (0 = unset: no sync task);
 * PF_EINVALID for a bad value. */
pf_kind cli_peeringdb_interval(const cli_config *cfg, int *seconds, pf_err *err);

#endif
