/* db_bgp: the layer-3 side of a circuit (migrations/0010_bgp.sql,
 * docs/bgp.md): address pools and allocations, each network's routing
 * facts (max-prefix, AS-SET, registered prefixes) and the sealed TCP-MD5
 * secrets. All functions run inside the caller's transaction; prefixes
 * are canonical CIDR text (workflow/cidr.h checks them first). */
#ifndef DB_BGP_H
#define DB_BGP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* Pools (operators). An overlapping pool is PF_ECONFLICT "pool_overlaps";
 * removing one that holds allocations PF_ECONFLICT "pool_in_use". */
pf_kind db_pool_insert(db_conn *c, const char *cidr, long long *id, pf_err *err);
/* *removed = false when no pool has exactly that CIDR. */
pf_kind db_pool_delete(db_conn *c, const char *cidr, bool *removed, pf_err *err);
/* [{"cidr", "family", "allocated", "free"}] (caller decrefs *out). */
pf_kind db_pool_usage(db_conn *c, json_t **out, pf_err *err);

/* Allocates request id's link addresses, all or none (pf_bgp_allocate):
 * *out is {"ipv4": "100.64.0.0/31", "ipv6": ...} with the families
 * allocated (or held already), or {"exhausted": 4|6} having written
 * nothing. Caller decrefs *out. */
pf_kind db_bgp_allocate(db_conn *c, long long id, json_t **out, pf_err *err);
/* Releases them and the secret (the request is decommissioned); *out is
 * what was released ({} when nothing). Caller decrefs *out. */
pf_kind db_bgp_release(db_conn *c, long long id, json_t **out, pf_err *err);
/* Whether the request holds any address. */
pf_kind db_bgp_has_addresses(db_conn *c, long long id, bool *has, pf_err *err);

/* Sets why a request is failed (code NULL clears both). */
pf_kind db_request_set_failure(db_conn *c, long long id, const char *code,
                               const char *message, pf_err *err);

/* A network's routing facts, as the API shows them:
 * {"asn", "name", "policy", "max_prefix4", "max_prefix6", "irr_as_set",
 *  "prefixes": ["198.51.100.0/24", ...]}. PF_ENOTFOUND "unknown_asn". */
pf_kind db_network_facts(db_conn *c, long long asn, json_t **out, pf_err *err);
/* Sets them (0 / NULL store no value). */
pf_kind db_network_facts_set(db_conn *c, long long network_id, int max_prefix4,
                             int max_prefix6, const char *irr_as_set, pf_err *err);

/* Registers a prefix for network_id. *added = false when it was already
 * registered (nothing written). */
pf_kind db_prefix_insert(db_conn *c, long long network_id, const char *cidr, bool *added,
                         pf_err *err);
/* *removed = false when it was not registered. */
pf_kind db_prefix_delete(db_conn *c, long long network_id, const char *cidr, bool *removed,
                         pf_err *err);
/* The first prefix of another network overlapping cidr: fills asn and
 * prefix (64 bytes) and sets *found. Takes the registrations' lock first
 * (held to the end of the transaction), so a concurrent registration of
 * overlapping space is seen, never missed. */
pf_kind db_prefix_conflict(db_conn *c, long long network_id, const char *cidr, bool *found,
                           long long *asn, char prefix[64], pf_err *err);

/* The sealed secret of a request (libsodium secretbox: 24-byte nonce,
 * ciphertext with its tag). */
#define DB_BGP_SEALED_MAX 200
pf_kind db_bgp_secret_put(db_conn *c, long long id, const unsigned char nonce[24],
                          const unsigned char *sealed, size_t len, pf_err *err);
/* *found = false when the request has none. */
pf_kind db_bgp_secret_get(db_conn *c, long long id, unsigned char nonce[24],
                          unsigned char sealed[DB_BGP_SEALED_MAX], size_t *len, bool *found,
                          pf_err *err);

/* Everything one side's router configuration is made of, for the request
 * the transaction can see:
 * {"id", "state", "md5", "requester": FACTS, "peer": FACTS,
 *  "ipv4": "100.64.0.0/31" | null, "ipv6": ... | null}
 * where FACTS is db_network_facts' object plus "network_id".
 * PF_ENOTFOUND "unknown_request". Caller decrefs *out. */
pf_kind db_bgp_session(db_conn *c, long long id, json_t **out, pf_err *err);

#endif
