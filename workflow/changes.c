/* wf_changes: see changes.h. */
#include "workflow/changes.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "db/changes.h"
#include "db/provision.h"
#include "db/queue.h"
#include "db/requests.h"
#include "workflow/notify.h"
#include "workflow/validate.h"

static const char *side_name(const wf_actor *who, const db_request *r)
{
    if (who->network_id != 0 && who->network_id == r->requester_network_id)
        return "requester";
    if (who->network_id != 0 && who->network_id == r->peer_network_id)
        return "peer";
    return NULL;
}

static pf_kind audit_change(const wf_env *env, const wf_actor *who, long long request_id,
                            const char *action, json_t *before, json_t *after, pf_err *err)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", request_id);
    return wf_audit(env->db, who, action, "request", ids, request_id, before, after, err);
}

static json_t *change_json(const db_change *ch, const char *state)
{
    return json_pack("{sI,ss,ss,si,si}", "change", (json_int_t)ch->id, "state", state, "side",
                     ch->side, "old_bandwidth_mbps", ch->old_bandwidth_mbps, "bandwidth_mbps",
                     ch->bandwidth_mbps);
}

/* "AS64500 asks to change the cap from 100 to 200 Mbit/s." for mail. */
static void describe(const db_change *ch, const char *what, char *out, size_t n)
{
    snprintf(out, n, "Change %lld: the bandwidth cap from %d to %d Mbit/s, asked by the %s%s%s.",
             ch->id, ch->old_bandwidth_mbps, ch->bandwidth_mbps, ch->side, what ? " - " : "",
             what ? what : "");
}

/* The request locked and visible to the actor, with the actor's side. */
static pf_kind lock_request(const wf_env *env, const wf_actor *who, long long id, db_request *r,
                            const char **side, pf_err *err)
{
    if (db_request_lock(env->db, id, r, err))
        return err->kind;
    *side = side_name(who, r);
    if (*side == NULL && who->role != WF_ROLE_OPERATOR && who->role != WF_ROLE_SYSTEM)
        return pf_fail(err, PF_ENOTFOUND, "unknown_request", "id",
                       "no request %lld (or it is not visible to your network)", id);
    return PF_OK;
}

/* ----------------------------------------------------------------- open */

struct open_ctx {
    const wf_env *env;
    const wf_actor *who;
    long long id;
    const wf_change_input *in;
    long long change_id;
};

static pf_kind open_tx(db_conn *c, void *vctx, pf_err *err)
{
    (void)c;
    struct open_ctx *x = vctx;
    const wf_env *env = x->env;
    db_request r;
    const char *side;
    if (lock_request(env, x->who, x->id, &r, &side, err))
        return err->kind;
    if (side == NULL)
        return pf_fail(err, PF_EFORBIDDEN, "admins_only", NULL,
                       "a change is asked by an admin of one of the two networks");
    if (x->in->version != 0 && x->in->version != r.version)
        return pf_fail(err, PF_ECONFLICT, "stale_version", "version",
                       "request %lld changed since you loaded it (version %d, you sent %d): "
                       "reload it and ask again",
                       x->id, r.version, x->in->version);
    if (strcmp(r.state, "active") != 0)
        return pf_fail(err, PF_ECONFLICT, "not_active", NULL,
                       "request %lld is %s: only an active circuit can be changed", x->id,
                       r.state);
    if (r.bandwidth_mbps == 0)
        return pf_fail(err, PF_EINVALID, "no_cap", "bandwidth_mbps",
                       "circuit %lld has no bandwidth cap (it runs at port speed): a change "
                       "sets a new cap on a capped circuit; decommission and request it again "
                       "with a cap",
                       x->id);
    db_change ch = {.request_id = r.id,
                    .network_id = x->who->network_id,
                    .requested_by = x->who->user_id,
                    .old_bandwidth_mbps = r.bandwidth_mbps,
                    .bandwidth_mbps = x->in->bandwidth_mbps};
    snprintf(ch.side, sizeof ch.side, "%s", side);
    if (db_change_insert(env->db, &ch, &x->change_id, err))
        return err->kind;
    ch.id = x->change_id;
    /* touching the request bumps its version: a page holding the old one
     * learns that something moved */
    if (db_request_set_state(env->db, r.id, r.state, NULL, err) ||
        audit_change(env, x->who, r.id, "change.requested", NULL, change_json(&ch, "pending"),
                     err))
        return err->kind;
    char what[200];
    describe(&ch, NULL, what, sizeof what);
    return wf_notify_change(env, r.id, ch.id, "change_needed",
                            strcmp(side, "requester") == 0 ? WF_NOTIFY_PEER : WF_NOTIFY_REQUESTER,
                            what, err);
}

pf_kind wf_change_open(const wf_env *env, const wf_actor *who, long long request_id,
                       const wf_change_input *in, long long *change_id, pf_err *err)
{
    if (who->role != WF_ROLE_ADMIN)
        return pf_fail(err, PF_EFORBIDDEN, "admins_only", NULL,
                       "a change of a live circuit is asked by an admin of one of the two "
                       "networks");
    if (in->bandwidth_mbps <= 0)
        return pf_fail(err, PF_EINVALID, "bad_bandwidth", "bandwidth_mbps",
                       "bandwidth_mbps is required: the new cap in Mbit/s (a positive number)");
    struct open_ctx x = {.env = env, .who = who, .id = request_id, .in = in};
    db_scope scope = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &scope, open_tx, &x, err);
    if (k == PF_OK && change_id)
        *change_id = x.change_id;
    return k;
}

/* --------------------------------------------------------------- decide */

struct decide_ctx {
    const wf_env *env;
    const wf_actor *who;
    long long id, change_id;
    bool approve, cancel;
    const char *reason;
};

static pf_kind decide_tx(db_conn *c, void *vctx, pf_err *err)
{
    (void)c;
    struct decide_ctx *x = vctx;
    const wf_env *env = x->env;
    db_request r;
    db_change ch;
    const char *side;
    if (lock_request(env, x->who, x->id, &r, &side, err) ||
        db_change_lock(env->db, r.id, x->change_id, &ch, err))
        return err->kind;
    if (strcmp(ch.state, "pending") != 0)
        return pf_fail(err, PF_ECONFLICT, "change_decided", NULL,
                       "change %lld is %s, no longer waiting for a decision", ch.id, ch.state);
    bool own = side != NULL && strcmp(side, ch.side) == 0;
    if (x->cancel && !own)
        return pf_fail(err, PF_EFORBIDDEN, "not_your_change", NULL,
                       "only the side that asked for change %lld may withdraw it", ch.id);
    if (!x->cancel && own)
        return pf_fail(err, PF_EFORBIDDEN, "own_change", NULL,
                       "your network asked for change %lld: the other network decides it",
                       ch.id);
    if (!x->cancel && x->who->role != WF_ROLE_ADMIN && x->who->role != WF_ROLE_CONTACT)
        return pf_fail(err, PF_EFORBIDDEN, "admins_only", NULL,
                       "a change is decided by an admin of the other network (or its contact's "
                       "link)");
    if (!x->cancel && x->approve && strcmp(r.state, "active") != 0)
        return pf_fail(err, PF_ECONFLICT, "not_active", NULL,
                       "request %lld is %s: the change can no longer be applied", r.id, r.state);
    const char *to = x->cancel ? "cancelled" : x->approve ? "approved" : "rejected";
    if (db_change_set_state(env->db, ch.id, to, x->who->label, x->reason, NULL, err) ||
        db_request_set_state(env->db, r.id, r.state, NULL, err))
        return err->kind;
    json_t *after = change_json(&ch, to);
    json_object_set_new(after, "via", json_string(x->who->via ? x->who->via : "web"));
    if (x->reason)
        json_object_set_new(after, "reason", json_string(x->reason));
    const char *action = x->cancel ? "change.cancelled" : x->approve ? "change.approved"
                                                                     : "change.rejected";
    if (audit_change(env, x->who, r.id, action, change_json(&ch, "pending"), after, err))
        return err->kind;
    if (x->approve && !x->cancel && db_job_enqueue(env->db, "modify", r.id, err))
        return err->kind;
    char what[300];
    describe(&ch, x->reason, what, sizeof what);
    const char *mail = x->cancel ? "change_cancelled" : x->approve ? "change_approved"
                                                                   : "change_rejected";
    return wf_notify_change(env, r.id, ch.id, mail, WF_NOTIFY_BOTH, what, err);
}

pf_kind wf_change_decide_in_tx(const wf_env *env, const wf_actor *who, long long request_id,
                               long long change_id, bool approve, const char *reason,
                               pf_err *err)
{
    if (reason && strlen(reason) > WF_MESSAGE_MAX)
        return pf_fail(err, PF_EINVALID, "reason_too_long", "reason",
                       "the reason is at most %d characters", WF_MESSAGE_MAX);
    struct decide_ctx x = {.env = env, .who = who, .id = request_id, .change_id = change_id,
                           .approve = approve, .reason = reason && *reason ? reason : NULL};
    return decide_tx(env->db, &x, err);
}

static pf_kind decide_in_own_tx(db_conn *c, void *vctx, pf_err *err)
{
    return decide_tx(c, vctx, err);
}

pf_kind wf_change_decide(const wf_env *env, const wf_actor *who, long long request_id,
                         long long change_id, bool approve, const char *reason, pf_err *err)
{
    if (reason && strlen(reason) > WF_MESSAGE_MAX)
        return pf_fail(err, PF_EINVALID, "reason_too_long", "reason",
                       "the reason is at most %d characters", WF_MESSAGE_MAX);
    struct decide_ctx x = {.env = env, .who = who, .id = request_id, .change_id = change_id,
                           .approve = approve, .reason = reason && *reason ? reason : NULL};
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, decide_in_own_tx, &x, err);
}

pf_kind wf_change_cancel(const wf_env *env, const wf_actor *who, long long request_id,
                         long long change_id, pf_err *err)
{
    if (who->role != WF_ROLE_ADMIN)
        return pf_fail(err, PF_EFORBIDDEN, "admins_only", NULL,
                       "a change is withdrawn by an admin of the network that asked for it");
    struct decide_ctx x = {.env = env, .who = who, .id = request_id, .change_id = change_id,
                           .cancel = true};
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, decide_in_own_tx, &x, err);
}

pf_kind wf_change_cancel_open(const wf_env *env, const wf_actor *who, long long request_id,
                              pf_err *err)
{
    db_change ch;
    bool found;
    if (db_change_open_of(env->db, request_id, &ch, &found, err))
        return err->kind;
    if (!found)
        return PF_OK;
    if (db_change_set_state(env->db, ch.id, "cancelled", who->label, NULL,
                            "the circuit is being torn down", err) ||
        audit_change(env, who, request_id, "change.cancelled", change_json(&ch, ch.state),
                     change_json(&ch, "cancelled"), err))
        return err->kind;
    char what[200];
    describe(&ch, "withdrawn: the circuit is being torn down", what, sizeof what);
    return wf_notify_change(env, request_id, ch.id, "change_cancelled", WF_NOTIFY_BOTH, what,
                            err);
}

/* --------------------------------------------------------- provisioner */

struct apply_ctx {
    const wf_env *env;
    const wf_actor *who;
    long long id;
    bool ok;
    const char *detail;
    long long job_id;
    const char *worker;
    bool found;
    long long change_id;
    int mbps;
};

static pf_kind to_apply_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct apply_ctx *x = vctx;
    db_change ch;
    if (db_change_open_of(c, x->id, &ch, &x->found, err))
        return err->kind;
    x->found = x->found && strcmp(ch.state, "approved") == 0;
    if (x->found) {
        x->change_id = ch.id;
        x->mbps = ch.bandwidth_mbps;
    }
    return PF_OK;
}

pf_kind wf_change_to_apply(const wf_env *env, const wf_actor *who, long long request_id,
                           bool *found, long long *change_id, int *mbps, pf_err *err)
{
    struct apply_ctx x = {.env = env, .who = who, .id = request_id};
    db_scope scope = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &scope, to_apply_tx, &x, err);
    *found = k == PF_OK && x.found;
    *change_id = x.change_id;
    *mbps = x.mbps;
    return k;
}

static pf_kind applied_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct apply_ctx *x = vctx;
    const wf_env *env = x->env;
    db_request r;
    db_change ch;
    bool found;
    if (db_request_lock(c, x->id, &r, err) || db_change_open_of(c, r.id, &ch, &found, err))
        return err->kind;
    if (x->job_id) {
        bool owned = false;
        if (db_prov_job_finish(c, x->job_id, x->worker, x->ok, x->ok ? NULL : x->detail, &owned,
                               err))
            return err->kind;
        if (!owned)
            return pf_fail(err, PF_ECONFLICT, "job_not_owned", NULL,
                           "job %lld is no longer held by %s: its result is not recorded",
                           x->job_id, x->worker);
    }
    if (!found || strcmp(ch.state, "approved") != 0)
        return PF_OK; /* cancelled meanwhile (teardown): nothing to record */
    const char *to = x->ok ? "applied" : "failed";
    if (db_change_set_state(c, ch.id, to, NULL, NULL, x->ok ? NULL : x->detail, err) ||
        (x->ok && db_request_set_bandwidth(c, r.id, ch.bandwidth_mbps, err)) ||
        db_request_set_state(c, r.id, r.state, NULL, err))
        return err->kind;
    json_t *after = change_json(&ch, to);
    if (!x->ok && x->detail)
        json_object_set_new(after, "detail", json_string(x->detail));
    if (audit_change(env, x->who, r.id, x->ok ? "change.applied" : "change.failed",
                     change_json(&ch, "approved"), after, err))
        return err->kind;
    char what[600];
    describe(&ch, x->ok ? NULL : x->detail, what, sizeof what);
    return wf_notify_change(env, r.id, ch.id, x->ok ? "change_applied" : "change_failed",
                            WF_NOTIFY_BOTH, what, err);
}

pf_kind wf_change_applied(const wf_env *env, const wf_actor *who, long long request_id, bool ok,
                          const char *detail, long long job_id, const char *worker, pf_err *err)
{
    struct apply_ctx x = {.env = env, .who = who, .id = request_id, .ok = ok, .detail = detail,
                          .job_id = job_id, .worker = worker};
    db_scope scope = wf_actor_scope(who);
    return db_run_tx(env->db, &scope, applied_tx, &x, err);
}
