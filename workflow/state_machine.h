/* wf_sm: the peering request lifecycle as a pure function.
 *
 *   (state, event, actor role, actor side) -> next state | named error
 *
 * Table-driven (state_machine.c), no I/O, no libpq: the request service
 * (workflow/requests.c) asks it before every write, and the database keeps
 * its own copy of the legal (from, to) pairs in request_transitions
 * (migrations/0001_core.sql) so that neither layer alone can corrupt a
 * request. tests/integration checks the two copies agree.
 */
#ifndef WF_STATE_MACHINE_H
#define WF_STATE_MACHINE_H

#include <stdbool.h>

typedef enum {
    WF_S_NONE = 0, /* before submit */
    WF_S_PENDING,
    WF_S_APPROVED,
    WF_S_PROVISIONING,
    WF_S_ACTIVE,
    WF_S_FAILED,
    WF_S_DECOMMISSIONING,
    WF_S_DECOMMISSIONED,
    WF_S_REJECTED,
    WF_S_CANCELLED,
    WF_S_EXPIRED,
    WF_S__COUNT
} wf_state;

typedef enum {
    WF_EV_SUBMIT = 0,
    WF_EV_APPROVE,       /* a side approves, the other side has not yet */
    WF_EV_APPROVE_FINAL, /* a side approves, the other side already has */
    WF_EV_REJECT,
    WF_EV_CANCEL,
    WF_EV_EXPIRE,
    WF_EV_DECOMMISSION,  /* either side (or an operator) asks for teardown */
    WF_EV_PROV_START,    /* provisioner picked the job up */
    WF_EV_PROV_ACTIVE,   /* every switch confirmed by barrier */
    WF_EV_PROV_FAILED,   /* switch error, or unreachable after retries */
    WF_EV_RETRY,         /* operator retries a failed circuit */
    WF_EV_PROV_REMOVED,  /* flows removed, VLANs released */
    WF_EV__COUNT
} wf_event;

typedef enum {
    WF_ROLE_OPERATOR = 0,
    WF_ROLE_ADMIN,
    WF_ROLE_ENGINEER,
    WF_ROLE_VIEWER,
    WF_ROLE_CONTACT, /* a peering contact holding a signed email link */
    WF_ROLE_SYSTEM,  /* provisioner, expiry sweep, auto-approve policy */
    WF_ROLE__COUNT
} wf_role;

/* Which party of the request the actor speaks for. */
typedef enum {
    WF_SIDE_NONE = 0, /* operators and the system */
    WF_SIDE_REQUESTER,
    WF_SIDE_PEER,
    WF_SIDE__COUNT
} wf_side;

typedef enum {
    WF_SM_OK = 0,
    WF_SM_E_ROLE,        /* this role may never do this event */
    WF_SM_E_TERMINAL,    /* the request is closed */
    WF_SM_E_WRONG_STATE, /* not possible in the current state */
    WF_SM_E_SIDE,        /* the actor's side may not do this */
    WF_SM_E_INVALID      /* out-of-range argument (a bug in the caller) */
} wf_sm_result;

/* The transition for (from, ev) done by (role, side). On WF_SM_OK sets
 * *to; otherwise *to is left alone. */
wf_sm_result wf_sm_step(wf_state from, wf_event ev, wf_role role, wf_side side,
                        wf_state *to);

/* The approve event for a side, given whether the other side approved. */
wf_event wf_sm_approve_event(bool other_side_approved);

/* True for rejected, cancelled, expired, decommissioned. */
bool wf_state_is_terminal(wf_state s);

/* Names as stored in the database ("pending", ...) and back.
 * wf_state_parse returns false for an unknown name. */
const char *wf_state_name(wf_state s);
bool wf_state_parse(const char *name, wf_state *out);
const char *wf_event_name(wf_event ev);
const char *wf_role_name(wf_role r);
bool wf_role_parse(const char *name, wf_role *out);
const char *wf_side_name(wf_side s);

/* Stable error code ("illegal_transition", ...) and a sentence. */
const char *wf_sm_result_code(wf_sm_result r);

/* Iterate the table, for docs and for the test that compares it with the
 * database: returns false past the end. */
bool wf_sm_row(int i, wf_state *from, wf_event *ev, wf_state *to);

#endif
