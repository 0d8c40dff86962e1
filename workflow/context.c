/* wf_actor helpers: see context.h. */
#include "workflow/context.h"

#include <pwd.h>
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

db_scope wf_actor_scope(const wf_actor *a)
{
    if (a->role == WF_ROLE_OPERATOR || a->role == WF_ROLE_SYSTEM)
        return db_scope_system();
    return db_scope_network(a->network_id, a->user_id);
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
