/* peerflow migrate [--status] */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cli.h"
#include "db/migrate.h"

int cmd_migrate(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"status", false, false}, {"dir", true, false}, {NULL}};
    cli_args a;
    pf_err err = {0};
    if (cli_parse("migrate", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    const char *dir = cli_get(&a, "dir") ? cli_get(&a, "dir") : cfg->migrations_dir;
    db_conn *c = db_connect(cfg->migrate_database_url, &err);
    if (c == NULL)
        return cli_fail(&err);
    int rc = 0;
    if (cli_has(&a, "status")) {
        db_migration *m;
        size_t n;
        if (db_migrate_status(c, dir, &m, &n, &err)) {
            rc = cli_fail(&err);
        } else {
            for (size_t i = 0; i < n; i++) {
                const char *st = m[i].missing   ? "MISSING FILE"
                                 : m[i].changed ? "CHANGED AFTER APPLY"
                                 : m[i].applied ? "applied"
                                                : "pending";
                printf("%-32s %-20s %s\n", m[i].file, st, m[i].applied_at);
            }
            free(m);
        }
    } else {
        int applied;
        if (db_migrate_apply(c, dir, &applied, &err))
            rc = cli_fail(&err);
        else
            printf("migrations: %d applied, schema up to date\n", applied);
    }
    db_close(c);
    return rc;
}
