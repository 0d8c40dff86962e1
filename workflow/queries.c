/* wf_queries: see queries.h. */
#include "workflow/queries.h"

#include <stdio.h>
#include <string.h>

#include "db/directory.h"
#include "db/reports.h"
#include "db/requests.h"
#include "workflow/state_machine.h"

struct get_ctx {
    long long id;
    const char *state;
    int limit;
    const char *name;
    json_t *json;
    pf_table *table;
};

static pf_kind get_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_request_get_json(c, x->id, &x->json, err);
}

static pf_kind list_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_request_list_json(c, x->state, x->limit, &x->json, err);
}

static pf_kind report_list_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_report_list(c, &x->table, err);
}

static pf_kind report_run_tx(db_conn *c, void *v, pf_err *err)
{
    struct get_ctx *x = v;
    return db_report_run(c, x->name, x->id, &x->table, err);
}

pf_kind wf_request_get(const wf_env *env, const wf_actor *who, long long id, json_t **out,
                       pf_err *err)
{
    struct get_ctx x = {.id = id};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &s, get_tx, &x, err);
    *out = k == PF_OK ? x.json : NULL;
    return k;
}

pf_kind wf_request_list(const wf_env *env, const wf_actor *who, const char *state, int limit,
                        json_t **out, pf_err *err)
{
    wf_state st;
    if (state != NULL && !wf_state_parse(state, &st))
        return pf_fail(err, PF_EINVALID, "bad_state", "state",
                       "unknown state '%.40s': use pending, approved, provisioning, active, "
                       "failed, decommissioning, decommissioned, rejected, cancelled or expired",
                       state);
    struct get_ctx x = {.state = state, .limit = limit > 0 ? limit : 100};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &s, list_tx, &x, err);
    *out = k == PF_OK ? x.json : NULL;
    return k;
}

pf_kind wf_report_list(const wf_env *env, const wf_actor *who, pf_table **out, pf_err *err)
{
    struct get_ctx x = {0};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &s, report_list_tx, &x, err);
    *out = k == PF_OK ? x.table : NULL;
    return k;
}

pf_kind wf_report_run(const wf_env *env, const wf_actor *who, const char *name,
                      long long request_id, pf_table **out, pf_err *err)
{
    struct get_ctx x = {.name = name, .id = request_id};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &s, report_run_tx, &x, err);
    *out = k == PF_OK ? x.table : NULL;
    return k;
}

pf_kind wf_audit_verify(const wf_env *env, const wf_actor *who, db_audit_verdict *v,
                        pf_err *err)
{
    if (who->role != WF_ROLE_OPERATOR && who->role != WF_ROLE_SYSTEM)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", NULL,
                       "only exchange operators may verify the audit log");
    return db_audit_verify(env->db, v, err);
}

struct user_ctx {
    const char *email;
    db_user u;
};

static pf_kind user_tx(db_conn *c, void *v, pf_err *err)
{
    struct user_ctx *x = v;
    return db_user_by_email(c, x->email, &x->u, err);
}

pf_kind wf_actor_for_user(const wf_env *env, const char *email, const char *via, wf_actor *out,
                          pf_err *err)
{
    struct user_ctx x = {.email = email};
    db_scope s = db_scope_system();
    if (db_run_tx(env->db, &s, user_tx, &x, err))
        return err->kind;
    if (x.u.disabled)
        return pf_fail(err, PF_EFORBIDDEN, "user_disabled", "email", "user %s is disabled", email);
    memset(out, 0, sizeof *out);
    if (!wf_role_parse(x.u.role, &out->role))
        return pf_fail(err, PF_EINTERNAL, "bad_role", NULL, "user %s has unknown role %s", email,
                       x.u.role);
    out->user_id = x.u.id;
    out->network_id = x.u.network_id;
    out->via = via;
    snprintf(out->label, sizeof out->label, "%s", x.u.email);
    return PF_OK;
}
