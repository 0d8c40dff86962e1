/* wf_sm: the lifecycle table. See state_machine.h and docs/lifecycle.md. */
#include "state_machine.h"

#include <stddef.h>
#include <string.h>

#define R(x) (1u << (x))
#define SIDE(x) (1u << (x))
#define MEMBER_SIDES (SIDE(WF_SIDE_REQUESTER) | SIDE(WF_SIDE_PEER))

struct sm_row {
    wf_state from;
    wf_event ev;
    unsigned roles; /* bit set of wf_role allowed */
    unsigned sides; /* bit set of wf_side allowed */
    wf_state to;
};

/* The legal moves. A (state, event) may have several rows when different
 * roles take it from different sides. Operators and the system act with
 * WF_SIDE_NONE. */
static const struct sm_row table[] = {
    {WF_S_NONE, WF_EV_SUBMIT, R(WF_ROLE_ADMIN) | R(WF_ROLE_ENGINEER),
     SIDE(WF_SIDE_REQUESTER), WF_S_PENDING},

    {WF_S_PENDING, WF_EV_APPROVE,
     R(WF_ROLE_ADMIN) | R(WF_ROLE_CONTACT) | R(WF_ROLE_SYSTEM), MEMBER_SIDES,
     WF_S_PENDING},
    {WF_S_PENDING, WF_EV_APPROVE_FINAL,
     R(WF_ROLE_ADMIN) | R(WF_ROLE_CONTACT) | R(WF_ROLE_SYSTEM), MEMBER_SIDES,
     WF_S_APPROVED},
    {WF_S_PENDING, WF_EV_REJECT, R(WF_ROLE_ADMIN) | R(WF_ROLE_CONTACT),
     MEMBER_SIDES, WF_S_REJECTED},
    {WF_S_PENDING, WF_EV_CANCEL, R(WF_ROLE_ADMIN) | R(WF_ROLE_ENGINEER),
     SIDE(WF_SIDE_REQUESTER), WF_S_CANCELLED},
    {WF_S_PENDING, WF_EV_EXPIRE, R(WF_ROLE_SYSTEM), SIDE(WF_SIDE_NONE),
     WF_S_EXPIRED},

    {WF_S_APPROVED, WF_EV_PROV_START, R(WF_ROLE_SYSTEM), SIDE(WF_SIDE_NONE),
     WF_S_PROVISIONING},
    /* no link addresses left in the pools: fails in the approving
     * transaction (workflow/bgp.h) */
    {WF_S_APPROVED, WF_EV_PROV_FAILED, R(WF_ROLE_SYSTEM), SIDE(WF_SIDE_NONE),
     WF_S_FAILED},
    {WF_S_PROVISIONING, WF_EV_PROV_ACTIVE, R(WF_ROLE_SYSTEM),
     SIDE(WF_SIDE_NONE), WF_S_ACTIVE},
    {WF_S_PROVISIONING, WF_EV_PROV_FAILED, R(WF_ROLE_SYSTEM),
     SIDE(WF_SIDE_NONE), WF_S_FAILED},
    {WF_S_FAILED, WF_EV_RETRY, R(WF_ROLE_OPERATOR), SIDE(WF_SIDE_NONE),
     WF_S_PROVISIONING},

    /* Teardown: either member side, or an operator (a member leaving the
     * exchange). A failed circuit can be torn down too, to clear whatever
     * flows a partial install left. */
    {WF_S_ACTIVE, WF_EV_DECOMMISSION, R(WF_ROLE_ADMIN) | R(WF_ROLE_ENGINEER), MEMBER_SIDES,
     WF_S_DECOMMISSIONING},
    {WF_S_ACTIVE, WF_EV_DECOMMISSION, R(WF_ROLE_OPERATOR), SIDE(WF_SIDE_NONE),
     WF_S_DECOMMISSIONING},
    {WF_S_FAILED, WF_EV_DECOMMISSION, R(WF_ROLE_ADMIN) | R(WF_ROLE_ENGINEER), MEMBER_SIDES,
     WF_S_DECOMMISSIONING},
    {WF_S_FAILED, WF_EV_DECOMMISSION, R(WF_ROLE_OPERATOR), SIDE(WF_SIDE_NONE),
     WF_S_DECOMMISSIONING},
    {WF_S_DECOMMISSIONING, WF_EV_PROV_REMOVED, R(WF_ROLE_SYSTEM),
     SIDE(WF_SIDE_NONE), WF_S_DECOMMISSIONED},
};

enum { TABLE_LEN = sizeof table / sizeof table[0] };

static const char *const state_names[WF_S__COUNT] = {
    [WF_S_NONE] = "none",
    [WF_S_PENDING] = "pending",
    [WF_S_APPROVED] = "approved",
    [WF_S_PROVISIONING] = "provisioning",
    [WF_S_ACTIVE] = "active",
    [WF_S_FAILED] = "failed",
    [WF_S_DECOMMISSIONING] = "decommissioning",
    [WF_S_DECOMMISSIONED] = "decommissioned",
    [WF_S_REJECTED] = "rejected",
    [WF_S_CANCELLED] = "cancelled",
    [WF_S_EXPIRED] = "expired",
};

static const char *const event_names[WF_EV__COUNT] = {
    [WF_EV_SUBMIT] = "submit",
    [WF_EV_APPROVE] = "approve",
    [WF_EV_APPROVE_FINAL] = "approve",
    [WF_EV_REJECT] = "reject",
    [WF_EV_CANCEL] = "cancel",
    [WF_EV_EXPIRE] = "expire",
    [WF_EV_DECOMMISSION] = "decommission",
    [WF_EV_PROV_START] = "provision",
    [WF_EV_PROV_ACTIVE] = "activate",
    [WF_EV_PROV_FAILED] = "fail",
    [WF_EV_RETRY] = "retry",
    [WF_EV_PROV_REMOVED] = "remove",
};

static const char *const role_names[WF_ROLE__COUNT] = {
    [WF_ROLE_OPERATOR] = "operator", [WF_ROLE_ADMIN] = "admin",
    [WF_ROLE_ENGINEER] = "engineer", [WF_ROLE_VIEWER] = "viewer",
    [WF_ROLE_CONTACT] = "contact",   [WF_ROLE_SYSTEM] = "system",
};

wf_sm_result wf_sm_step(wf_state from, wf_event ev, wf_role role, wf_side side,
                        wf_state *to)
{
    if ((unsigned)from >= WF_S__COUNT || (unsigned)ev >= WF_EV__COUNT ||
        (unsigned)role >= WF_ROLE__COUNT || (unsigned)side >= WF_SIDE__COUNT)
        return WF_SM_E_INVALID;

    /* A role that may never take this event is told so whatever the state:
     * "viewers cannot approve" is more useful than "request is closed". */
    bool role_ever = false;
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (table[i].ev == ev && (table[i].roles & R(role)))
            role_ever = true;
    if (!role_ever)
        return WF_SM_E_ROLE;

    bool event_here = false, role_here = false;
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const struct sm_row *row = &table[i];
        if (row->from != from || row->ev != ev)
            continue;
        event_here = true;
        if (!(row->roles & R(role)))
            continue;
        role_here = true;
        if (row->sides & SIDE(side)) {
            *to = row->to;
            return WF_SM_OK;
        }
    }
    if (!event_here)
        return wf_state_is_terminal(from) ? WF_SM_E_TERMINAL : WF_SM_E_WRONG_STATE;
    return role_here ? WF_SM_E_SIDE : WF_SM_E_ROLE;
}

wf_event wf_sm_approve_event(bool other_side_approved)
{
    return other_side_approved ? WF_EV_APPROVE_FINAL : WF_EV_APPROVE;
}

bool wf_state_is_terminal(wf_state s)
{
    return s == WF_S_DECOMMISSIONED || s == WF_S_REJECTED ||
           s == WF_S_CANCELLED || s == WF_S_EXPIRED;
}

const char *wf_state_name(wf_state s)
{
    return (unsigned)s < WF_S__COUNT ? state_names[s] : "invalid";
}

bool wf_state_parse(const char *name, wf_state *out)
{
    for (int s = WF_S_PENDING; s < WF_S__COUNT; s++)
        if (name != NULL && strcmp(name, state_names[s]) == 0) {
            *out = (wf_state)s;
            return true;
        }
    return false;
}

const char *wf_event_name(wf_event ev)
{
    return (unsigned)ev < WF_EV__COUNT ? event_names[ev] : "invalid";
}

const char *wf_role_name(wf_role r)
{
    return (unsigned)r < WF_ROLE__COUNT ? role_names[r] : "invalid";
}

bool wf_role_parse(const char *name, wf_role *out)
{
    for (int r = 0; r < WF_ROLE__COUNT; r++)
        if (name != NULL && strcmp(name, role_names[r]) == 0) {
            *out = (wf_role)r;
            return true;
        }
    return false;
}

const char *wf_side_name(wf_side s)
{
    switch (s) {
    case WF_SIDE_REQUESTER: return "requester";
    case WF_SIDE_PEER: return "peer";
    default: return "none";
    }
}

const char *wf_sm_result_code(wf_sm_result r)
{
    switch (r) {
    case WF_SM_OK: return "ok";
    case WF_SM_E_ROLE: return "role_not_allowed";
    case WF_SM_E_TERMINAL: return "request_closed";
    case WF_SM_E_WRONG_STATE: return "illegal_transition";
    case WF_SM_E_SIDE: return "wrong_side";
    case WF_SM_E_INVALID: return "invalid_argument";
    }
    return "invalid_argument";
}

bool wf_sm_row(int i, wf_state *from, wf_event *ev, wf_state *to)
{
    if (i < 0 || (size_t)i >= TABLE_LEN)
        return false;
    *from = table[i].from;
    *ev = table[i].ev;
    *to = table[i].to;
    return true;
}
