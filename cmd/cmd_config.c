/* peerflow config check: prints the effective configuration, each value
 * with its source and secrets masked, then checks what can be checked
 * without connecting (numbers, proxies, directories). Exit 0 when
 * everything is usable, 2 with one line per problem on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cli.h"
#include "web/proxy.h"

static int problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "peerflow: config: %s\n", msg);
    problems++;
}

static void check_dir(const char *key, const char *dir)
{
    struct stat st;
    if (dir == NULL || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        problem("%s: %s is not a directory", key, dir ? dir : "(unset)");
}

static int check(const cli_config *cfg)
{
    if (cfg->config_file)
        printf("config file: %s\n", cfg->config_file);
    else
        printf("config file: none (--config FILE, PEERFLOW_CONFIG or /etc/peerflow/peerflow.conf)\n");
    for (int i = 0; cli_config_key(i); i++) {
        char value[1024];
        cli_config_masked(cfg, i, value, sizeof value);
        printf("%-26s %-40s %s\n", cli_config_key(i), value, cfg->origin[i]);
    }
    fflush(stdout);
    problems = 0;
    pf_err err = {0};
    int a, b;
    if (cfg->database_url == NULL)
        problem("database_url is not set: serve, worker and the commands need it");
    if (cli_limits(cfg, &a, &b, &err) != PF_OK || cli_mail_max_attempts(cfg, &a, &err) != PF_OK)
        problem("%s", err.message);
    web_proxies p;
    if (web_proxies_parse(cfg->trusted_proxies, &p, &err) != PF_OK)
        problem("%s", err.message);
    check_dir("migrations_dir", cfg->migrations_dir);
    check_dir("templates_dir", cfg->templates_dir);
    check_dir("static_dir", cfg->static_dir);
    if (problems)
        return 2;
    printf("configuration ok\n");
    return 0;
}

int cmd_config(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{NULL}};
    cli_args a;
    pf_err err = {0};
    if (argc < 1 || strcmp(argv[0], "check") != 0) {
        pf_fail(&err, PF_EINVALID, "usage", NULL, "usage: peerflow config check");
        return cli_fail(&err);
    }
    if (cli_parse("config check", argc - 1, argv + 1, opts, &a, &err))
        return cli_fail(&err);
    if (a.npos > 0) {
        pf_fail(&err, PF_EINVALID, "unexpected_argument", NULL,
                "unexpected argument '%s' for 'config check'", a.pos[0]);
        return cli_fail(&err);
    }
    return check(cfg);
}
