/* db_role: which PostgreSQL role a connection acts as. See db.h
 * (db_connect_as) and docs/security.md ("Database roles").
 *
 * Row-level security is what keeps one network from reading another's
 * requests, and PostgreSQL skips it for a superuser, a role with
 * BYPASSRLS and the tables' owner. Many first deployments point
 * PEERFLOW_DATABASE_URL at exactly such a role, so the check is made here,
 * once per connection, rather than trusted to the deployment. */
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *role_name(db_role role)
{
    switch (role) {
    case DB_ROLE_APP:
        return "peerflow_app";
    case DB_ROLE_WORKER:
        return "peerflow_worker";
    case DB_ROLE_OWNER:
        break;
    }
    return "the connected role";
}

/* What the connected role is and may do. */
typedef struct {
    char user[64];
    bool super, bypass, owner, target_exists, member;
} role_facts;

static const char facts_sql[] =
    "SELECT current_user, r.rolsuper, r.rolbypassrls,"
    " EXISTS (SELECT 1 FROM pg_class c"
    "          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
    "            AND pg_has_role(current_user, c.relowner, 'MEMBER')),"
    " EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),"
    " CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)"
    "      THEN pg_has_role(current_user, $1, 'MEMBER') ELSE false END"
    " FROM pg_roles r WHERE r.rolname = current_user";

static pf_kind read_facts(PGconn *pg, const char *target, role_facts *f, pf_err *err)
{
    const char *p[1] = {target};
    PGresult *r = PQexecParams(pg, facts_sql, 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        char line[300];
        snprintf(line, sizeof line, "%s", PQerrorMessage(pg));
        line[strcspn(line, "\n")] = '\0';
        PQclear(r);
        return pf_fail(err, PF_EUNAVAIL, "database_unavailable", NULL,
                       "cannot check the database role (%s)", line);
    }
    memset(f, 0, sizeof *f);
    snprintf(f->user, sizeof f->user, "%s", PQgetvalue(r, 0, 0));
    f->super = PQgetvalue(r, 0, 1)[0] == 't';
    f->bypass = PQgetvalue(r, 0, 2)[0] == 't';
    f->owner = PQgetvalue(r, 0, 3)[0] == 't';
    f->target_exists = PQgetvalue(r, 0, 4)[0] == 't';
    f->member = PQgetvalue(r, 0, 5)[0] == 't';
    PQclear(r);
    return PF_OK;
}

static const char *unsafe_reason(const role_facts *f)
{
    return f->super    ? "is a superuser"
           : f->bypass ? "has BYPASSRLS"
           : f->owner  ? "owns the tables"
                       : NULL;
}

/* Connects with conninfo plus `-c role=target` in the options, keeping
 * the options the conninfo already has. libpq sends the options again on
 * every reconnect (PQreset), so the role survives a lost connection. */
static pf_kind connect_with_role(const char *conninfo, const char *target, PGconn **out,
                                 pf_err *err)
{
    *out = NULL;
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (opts == NULL) {
        pf_fail(err, PF_EINVALID, "bad_database_url", "database_url",
                "the database URL is not a valid libpq connection string (%.200s): fix "
                "PEERFLOW_DATABASE_URL / PEERFLOW_WORKER_DATABASE_URL",
                perr ? perr : "out of memory");
        PQfreemem(perr);
        return PF_EINVALID;
    }
    size_t n = 0;
    const char *old = "";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        n++;
        if (strcmp(o->keyword, "options") == 0 && o->val != NULL)
            old = o->val;
    }
    size_t len = strlen(old) + strlen(target) + 32;
    const char **keys = calloc(n + DB_N_DEFAULTS + 2, sizeof *keys),
               **vals = calloc(n + DB_N_DEFAULTS + 2, sizeof *vals);
    char *options = malloc(len);
    if (keys == NULL || vals == NULL || options == NULL) {
        free(keys);
        free(vals);
        free(options);
        PQconninfoFree(opts);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    /* as db_connect: the defaults first, the URL's own values later win.
     * PQconninfoParse keeps a multi-host list as one value ("host=a,b",
     * "port=1,2", target_session_attrs), which libpq takes as it is. */
    size_t k = (size_t)db_conn_defaults(keys, vals);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (o->val != NULL && strcmp(o->keyword, "options") != 0) {
            keys[k] = o->keyword;
            vals[k++] = o->val;
        }
    }
    /* JIT off unless the URL's own options turn it on (they come after):
     * peerflow's statements are short, and compiling them cost more than
     * it saved (reports.failed_provisioning over 100,000 requests: 410 ms
     * with JIT, 34 ms without; docs/performance.md) */
    snprintf(options, len, "-c jit=off %s%s-c role=%s", old, *old ? " " : "", target);
    keys[k] = "options";
    vals[k] = options;
    *out = PQconnectdbParams(keys, vals, 0); /* NULL only without memory: db_wrap says so */
    free(options);
    free(keys);
    free(vals);
    PQconninfoFree(opts);
    return PF_OK;
}

db_conn *db_connect_as(const char *conninfo, db_role role, pf_err *err)
{
    if (role == DB_ROLE_OWNER)
        return db_connect(conninfo, err);
    db_conn *c = db_connect(conninfo, err);
    if (c == NULL)
        return NULL;
    const char *target = role_name(role);
    role_facts f;
    if (read_facts(c->pg, target, &f, err) != PF_OK) {
        db_close(c);
        return NULL;
    }
    if (!f.target_exists) {
        db_close(c);
        pf_fail(err, PF_EINVALID, "schema_not_migrated", NULL,
                "the database has no role %s: run `peerflow migrate` first", target);
        return NULL;
    }
    const char *why = unsafe_reason(&f);
    if (strcmp(f.user, target) == 0 && why == NULL) {
        c->role = role;
        return c;
    }
    if (!f.member) {
        db_close(c);
        if (why != NULL)
            pf_fail(err, PF_EINVALID, "unsafe_database_role", "database_url",
                    "the database role %s %s, which would bypass row-level security, and "
                    "may not SET ROLE %s: connect as %s, or run GRANT %s TO \"%s\"",
                    f.user, why, target, target, target, f.user);
        else
            pf_fail(err, PF_EINVALID, "wrong_database_role", "database_url",
                    "the database role %s cannot act as %s: connect as %s%s, or run GRANT %s "
                    "TO \"%s\"",
                    f.user, target, target,
                    role == DB_ROLE_WORKER ? " (PEERFLOW_WORKER_DATABASE_URL)" : "", target,
                    f.user);
        return NULL;
    }
    db_close(c);
    PGconn *pg;
    if (connect_with_role(conninfo, target, &pg, err) != PF_OK)
        return NULL;
    c = db_wrap(pg, role, err);
    if (c == NULL)
        return NULL;
    /* the switch must have happened, and the role must itself be safe */
    if (read_facts(c->pg, target, &f, err) != PF_OK) {
        db_close(c);
        return NULL;
    }
    why = unsafe_reason(&f);
    if (strcmp(f.user, target) != 0 || why != NULL) {
        db_close(c);
        pf_fail(err, PF_EINVALID, "unsafe_database_role", "database_url",
                "the database role %s %s: revoke that from it (peerflow must not bypass "
                "row-level security)",
                f.user, why ? why : "could not be switched to");
        return NULL;
    }
    return c;
}
