/* wf_actor helpers: see context.h. */
#include "workflow/context.h"

#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

wf_actor wf_actor_system(const char *what)
{
    wf_actor a = {.role = WF_ROLE_SYSTEM, .via = "system"};
    snprintf(a.label, sizeof a.label, "%s", what);
    return a;
}

wf_actor wf_actor_cli(void)
{
    wf_actor a = {.role = WF_ROLE_OPERATOR, .via = "cli"};
    const struct passwd *pw = getpwuid(geteuid());
    snprintf(a.label, sizeof a.label, "cli:%s", pw ? pw->pw_name : "unknown");
    return a;
}

static db_scope actor_scope(const wf_actor *a)
{
    if (a->role == WF_ROLE_OPERATOR || a->role == WF_ROLE_SYSTEM) {
        db_scope s = db_scope_system();
        s.user_id = a->user_id;
        if (a->role == WF_ROLE_OPERATOR && a->has_credential) {
            s.has_credential = true;
            memcpy(s.credential, a->credential, sizeof s.credential);
        }
        return s;
    }
    return db_scope_network(a->network_id, a->user_id);
}

db_scope wf_actor_scope(const wf_actor *a)
{
    db_scope s = actor_scope(a);
    if (a->check_token && a->has_credential) {
        s.check_token = true;
        memcpy(s.token_hash, a->credential, sizeof s.token_hash);
        s.token_user = a->user_id;
        s.token_network = a->network_id;
        snprintf(s.token_role, sizeof s.token_role, "%s", wf_role_name(a->role));
    }
    return s;
}

void wf_actor_audit(const wf_actor *a, db_audit_event *ev)
{
    if (a->role == WF_ROLE_CONTACT)
        ev->actor_kind = "email";
    else if (a->role == WF_ROLE_SYSTEM)
        ev->actor_kind = "system";
    else if (a->via != NULL && strcmp(a->via, "cli") == 0)
        ev->actor_kind = "cli";
    else
        ev->actor_kind = "user";
    ev->actor_user_id = a->user_id;
    ev->actor_label = a->label;
    ev->network_id = a->network_id;
}

pf_kind wf_audit(db_conn *c, const wf_actor *who, const char *action, const char *object_type,
                 const char *object_id, long long request_id, json_t *before, json_t *after,
                 pf_err *err)
{
    char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *a = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    bool lost = (before && !b) || (after && !a);
    json_decref(before);
    json_decref(after);
    pf_kind k;
    if (lost) {
        k = pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    } else {
        db_audit_event ev = {.action = action, .object_type = object_type,
                             .object_id = object_id, .request_id = request_id,
                             .before = b, .after = a};
        wf_actor_audit(who, &ev);
        k = db_audit_append(c, &ev, err);
    }
    free(b);
    free(a);
    return k;
}
