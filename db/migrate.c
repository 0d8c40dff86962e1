/* db_migrate: see migrate.h. */
#include "db/migrate.h"
#include "db/db_internal.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const create_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " file text PRIMARY KEY,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static const db_stmt list_applied = {
    "pf_migrations_applied",
    "SELECT file, checksum, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS TZ') "
    "FROM schema_migrations ORDER BY file",
    0};

static const db_stmt record_applied = {
    "pf_migration_record",
    "INSERT INTO schema_migrations (file, checksum) VALUES ($1, $2)", 2};

static bool is_migration_name(const char *n)
{
    size_t len = strlen(n);
    if (len < 10 || len >= 128 || strcmp(n + len - 4, ".sql") != 0)
        return false;
    for (int i = 0; i < 4; i++)
        if (n[i] < '0' || n[i] > '9')
            return false;
    if (n[4] != '_')
        return false;
    for (size_t i = 5; i < len - 4; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
            return false;
    return true;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file; caller frees. */
static char *read_file(const char *path, size_t *len, pf_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        pf_fail(err, PF_EINVALID, "migration_unreadable", NULL, "cannot read %s: %s",
                path, strerror(errno));
        return NULL;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL) {
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory reading %s", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* Lists the migration files of dir, sorted. */
static pf_kind list_files(const char *dir, char ***names, size_t *n, pf_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return pf_fail(err, PF_EINVALID, "no_migrations_dir", "dir",
                       "cannot open the migrations directory %s: %s (set PEERFLOW_MIGRATIONS_DIR)",
                       dir, strerror(errno));
    size_t cap = 16, cnt = 0;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v != NULL && (e = readdir(d)) != NULL) {
        if (!is_migration_name(e->d_name))
            continue;
        if (cnt == cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *v);
            if (nv == NULL)
                break;
            v = nv;
        }
        v[cnt++] = strdup(e->d_name);
    }
    closedir(d);
    if (v == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    qsort(v, cnt, sizeof *v, cmp_names);
    *names = v;
    *n = cnt;
    return PF_OK;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static pf_kind checksum_of(const char *dir, const char *file, char out[65], pf_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t len;
    char *sql = read_file(path, &len, err);
    if (sql == NULL)
        return err ? err->kind : PF_EINVALID;
    sha256_hex(sql, len, out);
    free(sql);
    return PF_OK;
}

pf_kind db_migrate_status(db_conn *c, const char *dir, db_migration **out, size_t *n,
                          pf_err *err)
{
    char **files = NULL;
    size_t nfiles = 0;
    *out = NULL;
    *n = 0;
    if (list_files(dir, &files, &nfiles, err) != PF_OK)
        return err->kind;
    if (db_exec_script(c, create_table, err) != PF_OK) {
        free_names(files, nfiles);
        return err->kind;
    }
    PGresult *r = db_exec(c, &list_applied, NULL, err);
    if (r == NULL) {
        free_names(files, nfiles);
        return err->kind;
    }
    size_t napplied = (size_t)PQntuples(r);
    db_migration *m = calloc(nfiles + napplied + 1, sizeof *m);
    size_t cnt = 0;
    pf_kind k = m ? PF_OK : pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    for (size_t i = 0; k == PF_OK && i < nfiles; i++) {
        db_migration *x = &m[cnt++];
        snprintf(x->file, sizeof x->file, "%s", files[i]);
        k = checksum_of(dir, files[i], x->checksum, err);
    }
    /* Mark the applied ones; those whose file is gone are listed too. */
    for (size_t j = 0; k == PF_OK && j < napplied; j++) {
        const char *file = PQgetvalue(r, (int)j, 0);
        db_migration *x = NULL;
        for (size_t i = 0; i < nfiles; i++)
            if (strcmp(m[i].file, file) == 0)
                x = &m[i];
        if (x == NULL) {
            x = &m[cnt++];
            snprintf(x->file, sizeof x->file, "%s", file);
            x->missing = true;
        }
        x->applied = true;
        snprintf(x->applied_at, sizeof x->applied_at, "%s", PQgetvalue(r, (int)j, 2));
        x->changed = !x->missing && strcmp(x->checksum, PQgetvalue(r, (int)j, 1)) != 0;
    }
    PQclear(r);
    free_names(files, nfiles);
    if (k != PF_OK) {
        free(m);
        return k;
    }
    *out = m;
    *n = cnt;
    return PF_OK;
}

pf_kind db_migrate_apply(db_conn *c, const char *dir, int *n_applied, pf_err *err)
{
    db_migration *m;
    size_t n;
    int applied = 0;
    if (n_applied)
        *n_applied = 0;
    /* One migrator at a time: a session-level advisory lock. */
    if (db_exec_script(c, "SELECT pg_advisory_lock(7170001)", err) != PF_OK)
        return err->kind;
    pf_kind k = db_migrate_status(c, dir, &m, &n, err);
    for (size_t i = 0; k == PF_OK && i < n; i++) {
        if (m[i].changed)
            k = pf_fail(err, PF_ECONFLICT, "migration_changed", NULL,
                        "migration %s was changed after it was applied (checksum now %.12s...): "
                        "restore the file and put the change in a new migration",
                        m[i].file, m[i].checksum);
        else if (m[i].missing)
            k = pf_fail(err, PF_ECONFLICT, "migration_missing", NULL,
                        "migration %s was applied but its file is missing from %s: restore it",
                        m[i].file, dir);
    }
    for (size_t i = 0; k == PF_OK && i < n; i++) {
        if (m[i].applied)
            continue;
        char path[4096];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, m[i].file);
        char *sql = read_file(path, &len, err);
        if (sql == NULL) {
            k = err->kind;
            break;
        }
        char sum[65];
        sha256_hex(sql, len, sum);
        db_scope sys = db_scope_system();
        k = db_begin(c, &sys, err);
        if (k == PF_OK && db_exec_script(c, sql, err) != PF_OK) {
            char inner[sizeof err->message];
            snprintf(inner, sizeof inner, "%s", err->message);
            k = pf_fail(err, PF_EINTERNAL, "migration_failed", NULL,
                        "migration %s failed and was rolled back: %s", m[i].file, inner);
        }
        if (k == PF_OK) {
            const char *p[2] = {m[i].file, sum};
            PGresult *r = db_exec(c, &record_applied, p, err);
            k = r ? PF_OK : err->kind;
            PQclear(r);
        }
        if (k == PF_OK)
            k = db_commit(c, err);
        else
            db_rollback(c);
        free(sql);
        if (k == PF_OK)
            applied++;
    }
    free(m);
    pf_err ignore;
    db_exec_script(c, "SELECT pg_advisory_unlock(7170001)", &ignore);
    if (n_applied)
        *n_applied = applied;
    return k;
}
