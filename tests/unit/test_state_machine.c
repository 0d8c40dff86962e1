/* Unit tests of workflow/state_machine.c: every (state, event, role,
 * side) combination is checked against an independently written list of
 * the legal moves of PRODUCT.md's lifecycle; everything not on the list
 * must be refused with its named error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "workflow/state_machine.h"

/* "from event role side -> to", written by hand from PRODUCT.md. */
static const char *const legal[] = {
    "none submit admin requester -> pending",
    "none submit engineer requester -> pending",
    "pending approve admin requester -> pending",
    "pending approve admin peer -> pending",
    "pending approve contact requester -> pending",
    "pending approve contact peer -> pending",
    "pending approve system requester -> pending",
    "pending approve system peer -> pending",
    "pending approve_final admin requester -> approved",
    "pending approve_final admin peer -> approved",
    "pending approve_final contact requester -> approved",
    "pending approve_final contact peer -> approved",
    "pending approve_final system requester -> approved",
    "pending approve_final system peer -> approved",
    "pending reject admin requester -> rejected",
    "pending reject admin peer -> rejected",
    "pending reject contact requester -> rejected",
    "pending reject contact peer -> rejected",
    "pending cancel admin requester -> cancelled",
    "pending cancel engineer requester -> cancelled",
    "pending expire system none -> expired",
    "approved provision system none -> provisioning",
    "approved fail system none -> failed",
    "provisioning activate system none -> active",
    "provisioning fail system none -> failed",
    "failed retry operator none -> provisioning",
    "active decommission admin requester -> decommissioning",
    "active decommission admin peer -> decommissioning",
    "active decommission engineer requester -> decommissioning",
    "active decommission engineer peer -> decommissioning",
    "active decommission operator none -> decommissioning",
    "failed decommission admin requester -> decommissioning",
    "failed decommission admin peer -> decommissioning",
    "failed decommission engineer requester -> decommissioning",
    "failed decommission engineer peer -> decommissioning",
    "failed decommission operator none -> decommissioning",
    "decommissioning remove system none -> decommissioned",
};

static const char *const ev_words[WF_EV__COUNT] = {
    [WF_EV_SUBMIT] = "submit",       [WF_EV_APPROVE] = "approve",
    [WF_EV_APPROVE_FINAL] = "approve_final", [WF_EV_REJECT] = "reject",
    [WF_EV_CANCEL] = "cancel",       [WF_EV_EXPIRE] = "expire",
    [WF_EV_DECOMMISSION] = "decommission",   [WF_EV_PROV_START] = "provision",
    [WF_EV_PROV_ACTIVE] = "activate", [WF_EV_PROV_FAILED] = "fail",
    [WF_EV_RETRY] = "retry",          [WF_EV_PROV_REMOVED] = "remove",
};

static const char *const side_words[WF_SIDE__COUNT] = {"none", "requester", "peer"};

/* Looks (s, e, r, d) up in the list; returns the target name or NULL. */
static const char *legal_target(wf_state s, wf_event e, wf_role r, wf_side d)
{
    char key[128];
    snprintf(key, sizeof key, "%s %s %s %s -> ", wf_state_name(s), ev_words[e], wf_role_name(r),
             side_words[d]);
    for (size_t i = 0; i < sizeof legal / sizeof legal[0]; i++)
        if (strncmp(legal[i], key, strlen(key)) == 0)
            return legal[i] + strlen(key);
    return NULL;
}

static bool any_legal(wf_event e, wf_role r)
{
    for (int s = 0; s < WF_S__COUNT; s++)
        for (int d = 0; d < WF_SIDE__COUNT; d++)
            if (legal_target((wf_state)s, e, r, (wf_side)d))
                return true;
    return false;
}

static bool state_has_event(wf_state s, wf_event e)
{
    for (int r = 0; r < WF_ROLE__COUNT; r++)
        for (int d = 0; d < WF_SIDE__COUNT; d++)
            if (legal_target(s, e, (wf_role)r, (wf_side)d))
                return true;
    return false;
}

static bool role_allowed_here(wf_state s, wf_event e, wf_role r)
{
    for (int d = 0; d < WF_SIDE__COUNT; d++)
        if (legal_target(s, e, r, (wf_side)d))
            return true;
    return false;
}

static void every_combination(void **state)
{
    (void)state;
    int n_legal = 0, n_refused = 0;
    for (int s = 0; s < WF_S__COUNT; s++)
        for (int e = 0; e < WF_EV__COUNT; e++)
            for (int r = 0; r < WF_ROLE__COUNT; r++)
                for (int d = 0; d < WF_SIDE__COUNT; d++) {
                    wf_state to = WF_S__COUNT;
                    wf_sm_result got = wf_sm_step((wf_state)s, (wf_event)e, (wf_role)r,
                                                  (wf_side)d, &to);
                    const char *want = legal_target((wf_state)s, (wf_event)e, (wf_role)r,
                                                    (wf_side)d);
                    char what[160];
                    snprintf(what, sizeof what, "%s %s %s %s", wf_state_name((wf_state)s),
                             ev_words[e], wf_role_name((wf_role)r), side_words[d]);
                    if (want) {
                        if (got != WF_SM_OK || strcmp(wf_state_name(to), want) != 0)
                            fail_msg("%s: want -> %s, got %s", what, want,
                                     wf_sm_result_code(got));
                        n_legal++;
                        continue;
                    }
                    wf_sm_result expect;
                    if (!any_legal((wf_event)e, (wf_role)r))
                        expect = WF_SM_E_ROLE;
                    else if (!state_has_event((wf_state)s, (wf_event)e))
                        expect = wf_state_is_terminal((wf_state)s) ? WF_SM_E_TERMINAL
                                                                   : WF_SM_E_WRONG_STATE;
                    else if (!role_allowed_here((wf_state)s, (wf_event)e, (wf_role)r))
                        expect = WF_SM_E_ROLE;
                    else
                        expect = WF_SM_E_SIDE;
                    if (got != expect)
                        fail_msg("%s: want %s, got %s", what, wf_sm_result_code(expect),
                                 wf_sm_result_code(got));
                    if (to != WF_S__COUNT)
                        fail_msg("%s: refused but wrote a target state", what);
                    n_refused++;
                }
    assert_int_equal(n_legal, (int)(sizeof legal / sizeof legal[0]));
    assert_true(n_refused > 1000);
}

static void named_examples(void **state)
{
    (void)state;
    wf_state to;
    /* the sentences users will meet */
    assert_int_equal(wf_sm_step(WF_S_PENDING, WF_EV_APPROVE, WF_ROLE_ENGINEER, WF_SIDE_PEER, &to),
                     WF_SM_E_ROLE);
    assert_int_equal(wf_sm_step(WF_S_PENDING, WF_EV_SUBMIT, WF_ROLE_VIEWER, WF_SIDE_REQUESTER, &to),
                     WF_SM_E_ROLE);
    assert_int_equal(wf_sm_step(WF_S_CANCELLED, WF_EV_APPROVE, WF_ROLE_ADMIN, WF_SIDE_PEER, &to),
                     WF_SM_E_TERMINAL);
    assert_int_equal(wf_sm_step(WF_S_ACTIVE, WF_EV_CANCEL, WF_ROLE_ADMIN, WF_SIDE_REQUESTER, &to),
                     WF_SM_E_WRONG_STATE);
    assert_int_equal(wf_sm_step(WF_S_PENDING, WF_EV_CANCEL, WF_ROLE_ADMIN, WF_SIDE_PEER, &to),
                     WF_SM_E_SIDE);
    assert_string_equal(wf_sm_result_code(WF_SM_E_WRONG_STATE), "illegal_transition");
    assert_int_equal(wf_sm_step((wf_state)99, WF_EV_SUBMIT, WF_ROLE_ADMIN, WF_SIDE_NONE, &to),
                     WF_SM_E_INVALID);
}

static void names_round_trip(void **state)
{
    (void)state;
    for (int s = WF_S_PENDING; s < WF_S__COUNT; s++) {
        wf_state back;
        assert_true(wf_state_parse(wf_state_name((wf_state)s), &back));
        assert_int_equal(back, s);
    }
    wf_state x;
    assert_false(wf_state_parse("none", &x));
    assert_false(wf_state_parse("Pending", &x));
    assert_false(wf_state_parse(NULL, &x));
    wf_role r;
    assert_true(wf_role_parse("engineer", &r));
    assert_int_equal(r, WF_ROLE_ENGINEER);
    assert_false(wf_role_parse("root", &r));
    assert_int_equal(wf_sm_approve_event(false), WF_EV_APPROVE);
    assert_int_equal(wf_sm_approve_event(true), WF_EV_APPROVE_FINAL);
    assert_true(wf_state_is_terminal(WF_S_EXPIRED));
    assert_false(wf_state_is_terminal(WF_S_FAILED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_combination),
        cmocka_unit_test(named_examples),
        cmocka_unit_test(names_round_trip),
    };
    return cmocka_run_group_tests_name("state_machine", tests, NULL, NULL);
}
