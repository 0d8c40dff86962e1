/* PostgreSQL errors -> pf_err. Constraint violations become messages a
 * person can act on; the constraint names are those of migrations/. */
#include "db/db_internal.h"

#include <stdio.h>
#include <string.h>

struct constraint_msg {
    const char *constraint;
    pf_kind kind;
    const char *code;
    const char *field;
    const char *message; /* NULL: use the server's own message (triggers
                            raise sentences written for people) */
};

static const struct constraint_msg constraints[] = {
    /* a remembered API token the database no longer confirms (0017) */
    {"api_token_check", PF_EAUTH, "token_check_failed", NULL,
     "the API token is unknown or revoked: create one on your account page"},
    {"networks_asn_key", PF_ECONFLICT, "asn_taken", "asn",
     "a network with this ASN already exists"},
    {"networks_asn_range", PF_EINVALID, "bad_asn", "asn",
     "ASN out of range: use 1..4294967294, not 23456 or 65535"},
    {"networks_name_key", PF_ECONFLICT, "name_taken", "name",
     "a network with this name already exists: choose another name"},
    {"networks_name_len", PF_EINVALID, "bad_name", "name",
     "a network name is 1 to 100 characters"},
    {"networks_policy", PF_EINVALID, "bad_policy", "policy",
     "policy must be open, selective, restrictive or no"},
    {"networks_auto_approve_open", PF_EINVALID, "auto_approve_needs_open", "auto_approve",
     "only a network with the open policy may auto-approve"},
    {"users_email_key", PF_ECONFLICT, "email_taken", "email",
     "a user with this email already exists"},
    {"users_email_format", PF_EINVALID, "bad_email", "email",
     "malformed email address: use name@domain.example"},
    {"users_role", PF_EINVALID, "bad_role", "role",
     "role must be admin, engineer or viewer (or an operator)"},
    {"users_operator_no_network", PF_EINVALID, "bad_role", "role",
     "operators belong to no network; every other user belongs to one"},
    {"api_tokens_token_hash_key", PF_ECONFLICT, "token_collision", NULL,
     "token collision, try again"},
    {"switches_name_key", PF_ECONFLICT, "switch_name_taken", "name",
     "a switch with this name already exists"},
    {"switches_dpid_key", PF_ECONFLICT, "dpid_taken", "dpid",
     "a switch with this datapath id already exists"},
    {"switches_name_format", PF_EINVALID, "bad_switch_name", "name",
     "a switch name is 1-63 letters, digits, '.', '_' or '-'"},
    {"switches_dpid_format", PF_EINVALID, "bad_dpid", "dpid",
     "a datapath id is up to 16 hex digits"},
    {"switches_endpoint_format", PF_EINVALID, "bad_endpoint", "endpoint",
     "endpoint must be tcp:HOST:PORT or unix:/PATH"},
    {"switch_port_uses_pkey", PF_ECONFLICT, "port_number_taken", "ofport",
     "that OpenFlow port number is already used on this switch (by a member port or a link)"},
    {"links_not_loop", PF_EINVALID, "link_loop", "b",
     "a link joins two different switches"},
    {"ports_network_name_key", PF_ECONFLICT, "port_name_taken", "name",
     "this network already has a port with that name"},
    {"ports_name_format", PF_EINVALID, "bad_port_name", "name",
     "a port name is 1-63 letters, digits, '.', '_', ':', '/' or '-'"},
    {"ofport_check", PF_EINVALID, "bad_ofport", "ofport",
     "an OpenFlow port number is 1..4294967040"},
    {"vlan_id_range", PF_EINVALID, "vlan_out_of_range", "vlan",
     "a VLAN id is 1..4094"},
    {"request_endpoints_pkey", PF_ECONFLICT, "endpoint_in_use", "vlan",
     "that port (and VLAN) is already used by another live request: pick another VLAN or port"},
    {"requests_not_self", PF_EINVALID, "peer_is_self", "peer_asn",
     "a network cannot peer with itself"},
    {"requests_bandwidth_positive", PF_EINVALID, "bad_bandwidth", "bandwidth_mbps",
     "bandwidth must be a positive number of Mbit/s"},
    {"requests_message_len", PF_EINVALID, "message_too_long", "message",
     "the message is at most 2000 characters"},
    {"requests_illegal_transition", PF_ECONFLICT, "illegal_transition", NULL, NULL},
    {"requests_immutable", PF_EINVALID, "immutable", NULL, NULL},
    {"requests_port_network", PF_EINVALID, "port_of_other_network", "port", NULL},
    {"requests_trunk_needs_vlan", PF_EINVALID, "vlan_required", "vlan", NULL},
    {"requests_access_no_vlan", PF_EINVALID, "vlan_not_allowed", "vlan", NULL},
    {"approvals_one_per_side", PF_ECONFLICT, "already_decided", NULL,
     "this side has already decided on the request"},
    {"requests_approval_incomplete", PF_ECONFLICT, "approval_incomplete", NULL, NULL},
    {"approvals_side_network", PF_EFORBIDDEN, "wrong_side", NULL,
     "a network decides only for its own side of a request"},
    {"operator_scope_refused", PF_EFORBIDDEN, "operators_only", NULL,
     "only an exchange operator, logged in or with an API token, acts as an operator"},
    {"link_vlans_pkey", PF_ECONFLICT, "transport_vlan_taken", NULL,
     "that transport VLAN is already used on the link"},
    {"circuit_meters_switch_meter_key", PF_ECONFLICT, "meter_id_taken", NULL,
     "that meter id is already used on the switch"},
    {"switches_cert_sha256_format", PF_EINVALID, "bad_cert_fingerprint", "cert",
     "a certificate fingerprint is 64 hex digits (SHA-256 of the DER certificate)"},
    {"jobs_one_open", PF_ECONFLICT, "job_open", NULL,
     "a job of this kind is already open for the request"},
    {"flows_cookie_is_circuit", PF_EINTERNAL, "bad_flow_cookie", NULL,
     "a flow's cookie must be the peerflow tag 0x5046 with its circuit id (docs/fabric.md)"},
    {"flows_unique_match", PF_ECONFLICT, "flow_entry_taken", NULL,
     "another circuit already has a flow with this match on the switch: the port (and VLAN) "
     "is in use"},
    {"address_pools_overlap", PF_ECONFLICT, "pool_overlaps", "cidr",
     "that pool overlaps a pool that exists already (peerflow pool list): choose space that "
     "does not overlap"},
    {"address_pools_size", PF_EINVALID, "pool_too_small", "cidr",
     "a pool holds at least two links: at most /30 for IPv4, /126 for IPv6"},
    {"circuit_addresses_pool", PF_ECONFLICT, "pool_in_use", "cidr",
     "circuits hold addresses of that pool: decommission them first (peerflow pool list shows "
     "how many)"},
    {"circuit_addresses_overlap", PF_ECONFLICT, "address_taken", NULL,
     "those link addresses are held by another circuit; try again"},
    {"bgp_allocate_state", PF_ECONFLICT, "not_approved", NULL, NULL},
    {"bgp_release_state", PF_ECONFLICT, "not_decommissioned", NULL, NULL},
    {"network_prefixes_length", PF_EINVALID, "bad_prefix_length", "cidr",
     "a registered prefix is /8 to /24 for IPv4 and /8 to /48 for IPv6: longer ones are "
     "not accepted between networks"},
    {"networks_max_prefix4", PF_EINVALID, "bad_max_prefix", "max_prefix4",
     "max-prefix is 1 to 10000000"},
    {"networks_max_prefix6", PF_EINVALID, "bad_max_prefix", "max_prefix6",
     "max-prefix is 1 to 10000000"},
    {"networks_irr_as_set", PF_EINVALID, "bad_irr_as_set", "irr_as_set",
     "an AS-SET is up to 100 letters, digits and ':_.-', e.g. AS-EXAMPLE or RIPE::AS-EXAMPLE"},
    {"requests_failure_message_len", PF_EINTERNAL, "failure_too_long", NULL,
     "the failure message is at most 2000 characters"},
    {"request_changes_one_open", PF_ECONFLICT, "change_open", NULL,
     "a change of this circuit is already open: it must be decided (and applied) first"},
    {"request_changes_differs", PF_EINVALID, "same_bandwidth", "bandwidth_mbps",
     "the circuit already has that cap: ask for another bandwidth"},
    {"request_changes_bandwidth", PF_EINVALID, "bad_bandwidth", "bandwidth_mbps",
     "bandwidth must be a positive number of Mbit/s"},
    {"request_changes_reason_len", PF_EINVALID, "reason_too_long", "reason",
     "the reason is at most 2000 characters"},
    {"request_changes_illegal_transition", PF_ECONFLICT, "illegal_transition", NULL, NULL},
    {"request_changes_immutable", PF_EINVALID, "immutable", NULL, NULL},
    {"circuits_id_fits_cookie", PF_EINTERNAL, "circuit_id_too_large", NULL,
     "circuit ids must fit the 48 bits of a flow cookie"},
};

static void first_line(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
    dst[strcspn(dst, "\n")] = '\0';
}

pf_kind db_error_from_result(const PGresult *res, pf_err *err)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char msg[300];
    first_line(msg, sizeof msg, primary ? primary : PQresultErrorMessage(res));
    if (state == NULL)
        state = "";

    if (cons != NULL) {
        for (size_t i = 0; i < sizeof constraints / sizeof constraints[0]; i++) {
            const struct constraint_msg *m = &constraints[i];
            if (strcmp(m->constraint, cons) == 0)
                return pf_fail(err, m->kind, m->code, m->field, "%s",
                               m->message ? m->message : msg);
        }
    }
    if (strcmp(state, "40001") == 0)
        return pf_fail(err, PF_ECONFLICT, "serialization_failure", NULL,
                       "a concurrent change conflicted with this one; try again");
    if (strcmp(state, "40P01") == 0)
        return pf_fail(err, PF_ECONFLICT, "deadlock", NULL,
                       "a concurrent change conflicted with this one; try again");
    if (strcmp(state, "23505") == 0)
        return pf_fail(err, PF_ECONFLICT, "duplicate", NULL, "%s", msg);
    if (strncmp(state, "23", 2) == 0 || strcmp(state, "22001") == 0 ||
        strcmp(state, "22003") == 0 || strcmp(state, "22P02") == 0)
        return pf_fail(err, PF_EINVALID, "invalid", NULL, "%s", msg);
    if (strcmp(state, "42501") == 0)
        return pf_fail(err, PF_EFORBIDDEN, "db_permission_denied", NULL, "%s", msg);
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0)
        return pf_fail(err, PF_EUNAVAIL, "database_unavailable", NULL,
                       "lost the connection to PostgreSQL (%s); try again", msg);
    return pf_fail(err, PF_EINTERNAL, "database_error", NULL, "database error %s: %s",
                   state, msg);
}
