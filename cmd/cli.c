/* cli: see cli.h. */
#include "cmd/cli.h"

#include "workflow/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t len)
{
    for (const cli_opt *o = opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

pf_kind cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, cli_args *out,
                  pf_err *err)
{
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (out->npos == CLI_MAX_ARGS)
                return pf_fail(err, PF_EINVALID, "too_many_arguments", NULL,
                               "too many arguments for '%s'", cmd);
            out->pos[out->npos++] = arg;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = find_opt(opts, name, len);
        if (o == NULL)
            return pf_fail(err, PF_EINVALID, "unknown_option", NULL,
                           "unknown option --%.*s for '%s' (see: peerflow help)", (int)len, name,
                           cmd);
        const char *value = NULL;
        if (o->has_value) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return pf_fail(err, PF_EINVALID, "missing_value", o->name,
                               "--%s needs a value", o->name);
        } else if (eq) {
            return pf_fail(err, PF_EINVALID, "unexpected_value", o->name,
                           "--%s takes no value", o->name);
        }
        if (!o->multi && cli_has(out, o->name))
            return pf_fail(err, PF_EINVALID, "repeated_option", o->name,
                           "--%s is given twice", o->name);
        if (out->n == CLI_MAX_ARGS)
            return pf_fail(err, PF_EINVALID, "too_many_arguments", NULL,
                           "too many options for '%s'", cmd);
        out->names[out->n] = o->name;
        out->values[out->n++] = value;
    }
    return PF_OK;
}

const char *cli_get(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0)
            return a->values[i];
    return NULL;
}

bool cli_has(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0)
            return true;
    return false;
}

int cli_all(const cli_args *a, const char *name, const char **out, int max)
{
    int n = 0;
    for (int i = 0; i < a->n && n < max; i++)
        if (strcmp(a->names[i], name) == 0)
            out[n++] = a->values[i];
    return n;
}

pf_kind cli_require(const cli_args *a, const char *name, pf_err *err)
{
    const char *v = cli_get(a, name);
    if (v == NULL || *v == '\0')
        return pf_fail(err, PF_EINVALID, "missing_option", name, "--%s is required for '%s'",
                       name, a->cmd);
    return PF_OK;
}

int cli_fail(const pf_err *err)
{
    fprintf(stderr, "peerflow: %s\n", err->message);
    return pf_kind_exit_status(err->kind);
}

/* A positive number 1..max from the environment; 0 when unset. */
static pf_kind env_limit(const char *value, const char *name, long long max, int *out,
                         pf_err *err)
{
    long long v = 0;
    *out = 0;
    if (value == NULL)
        return PF_OK;
    if (wf_parse_int(value, name, 1, max, &v, err) != PF_OK)
        return pf_fail(err, PF_EINVALID, "bad_limit", name,
                       "%s must be a whole number 1..%lld, not '%.40s'", name, max, value);
    *out = (int)v;
    return PF_OK;
}

pf_kind cli_limits(const cli_config *cfg, int *max_open, int *max_hour, pf_err *err)
{
    if (env_limit(cfg->max_open_requests, "PEERFLOW_MAX_OPEN_REQUESTS", 1000000, max_open,
                  err) ||
        env_limit(cfg->max_submissions_per_hour, "PEERFLOW_MAX_SUBMISSIONS_PER_HOUR", 1000000,
                  max_hour, err))
        return err->kind;
    return PF_OK;
}

pf_kind cli_mail_max_attempts(const cli_config *cfg, int *out, pf_err *err)
{
    return env_limit(cfg->mail_max_attempts, "PEERFLOW_MAIL_MAX_ATTEMPTS", 1000, out, err);
}

pf_kind cli_counter_interval(const cli_config *cfg, int *out, pf_err *err)
{
    return env_limit(cfg->counter_interval, "PEERFLOW_COUNTER_INTERVAL", 3600, out, err);
}

pf_kind cli_master_lease(const cli_config *cfg, int *out, pf_err *err)
{
    return env_limit(cfg->master_lease, "PEERFLOW_MASTER_LEASE", 300, out, err);
}

db_conn *cli_connect(const cli_config *cfg, const char *url, wf_env *env, pf_err *err)
{
    memset(env, 0, sizeof *env);
    int mail_attempts;
    if (cli_limits(cfg, &env->max_open_requests, &env->max_submissions_per_hour, err) ||
        cli_mail_max_attempts(cfg, &mail_attempts, err))
        return NULL;
    /* the CLI and the workers are the system: peerflow_worker */
    db_conn *c = url ? db_connect(url, err)
                     : db_connect_as(cfg->worker_database_url, DB_ROLE_WORKER, err);
    if (c == NULL)
        return NULL;
    static char base[512];
    if (cfg->base_url)
        snprintf(base, sizeof base, "%s", cfg->base_url);
    else
        snprintf(base, sizeof base, "http://%s", cfg->listen);
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        base[--n] = '\0';
    const char *at = strrchr(cfg->mail_from, '@');
    env->db = c;
    env->base_url = base;
    env->mail_domain = at && at[1] ? at + 1 : "localhost";
    env->request_ttl_seconds = WF_DEFAULT_TTL_SECONDS;
    env->key_dir = cfg->key_dir;
    return c;
}

db_conn *cli_connect_for(const cli_config *cfg, const char *cmd, const cli_args *a, wf_env *env,
                         pf_err *err)
{
    if (a->npos > 0) {
        pf_fail(err, PF_EINVALID, "unexpected_argument", NULL, "unexpected argument '%s' for '%s'",
                a->pos[0], cmd);
        return NULL;
    }
    return cli_connect(cfg, NULL, env, err);
}
