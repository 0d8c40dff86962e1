/* peerflow migrate [--status | --check]
 *
 * --check exits 0 only when every migration of the directory is applied
 * unchanged and the database has none this binary does not know among
 * them, so systemd's ExecStartPre refuses to start a binary on a schema it
 * was not built for. Migrations applied after this binary's newest one
 * are a later release's, written to keep this one working (expand, then
 * contract: docs/architecture.md): they are allowed, so that a process not
 * yet upgraded can restart during a rolling upgrade. */
#include <string.h>
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
        size_t n, pending = 0, bad = 0, ahead = 0;
        const char *first = NULL, *newest = "";
        if (db_migrate_status(c, dir, &m, &n, &err)) {
            rc = cli_fail(&err);
        } else {
            for (size_t i = 0; i < n; i++)
                if (!m[i].missing && strcmp(m[i].file, newest) > 0)
                    newest = m[i].file;
            for (size_t i = 0; i < n; i++) {
                if (m[i].missing && strcmp(m[i].file, newest) > 0) {
                    ahead++; /* a later release's */
                    continue;
                }
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
                if (ahead == 0)
                    printf("migrations: %zu applied, schema matches\n", n);
                else
                    printf("migrations: %zu applied, schema matches, and %zu newer from a later "
                           "release (compatible: expand, then contract)\n",
                           n - ahead, ahead);
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
