/* peerflow migrate [--status | --check]
 *
 * --check exits 0 only when every migration of the directory is applied
 * unchanged and the database has none this binary does not know, so
 * systemd's ExecStartPre refuses to start a binary on a schema it was not
 * built for. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cli.h"
#include "db/migrate.h"

int cmd_migrate(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"status", false, false}, {"check", false, false}, {"dir", true, false}, {NULL}};
    cli_args a;
    pf_err err = {0};
    if (cli_parse("migrate", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    const char *dir = cli_get(&a, "dir") ? cli_get(&a, "dir") : cfg->migrations_dir;
    if (cli_has(&a, "status") && cli_has(&a, "check")) {
        pf_fail(&err, PF_EINVALID, "bad_options", NULL, "give --status or --check, not both");
        return cli_fail(&err);
    }
    db_conn *c = db_connect(cfg->migrate_database_url, &err);
    if (c == NULL)
        return cli_fail(&err);
    int rc = 0;
    if (cli_has(&a, "check")) {
        db_migration *m;
        size_t n, pending = 0, bad = 0;
        const char *first = NULL;
        if (db_migrate_status(c, dir, &m, &n, &err)) {
            rc = cli_fail(&err);
        } else {
            for (size_t i = 0; i < n; i++) {
                bool off = m[i].missing || m[i].changed;
                if (off || !m[i].applied)
                    first = first ? first : m[i].file;
                bad += off;
                pending += !off && !m[i].applied;
            }
            if (first) {
                pf_fail(&err, PF_ECONFLICT, "schema_mismatch", NULL,
                        "the schema does not match this peerflow: %zu pending, %zu changed or "
                        "unknown (first: %s); run peerflow migrate --status",
                        pending, bad, first);
                rc = cli_fail(&err);
            } else {
                printf("migrations: %zu applied, schema matches\n", n);
            }
            free(m);
        }
    } else if (cli_has(&a, "status")) {
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
