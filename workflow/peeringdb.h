/* wf_pdb: networks' facts from PeeringDB (docs/peeringdb.md).
 *
 *   parse   PeeringDB JSON - the API's {"meta", "data": [...]} envelope of
 *           net, poc, netixlan, ixlan or ix rows, a public dump file
 *           (net-0.json, ...) or a combined dump {"net": {"data": ...}} -
 *           into a wf_pdb_set (pure: no I/O, unit-tested);
 *   apply   for every network of the set known here (or every one with
 *           create), the name, policy, AS-SET, max-prefix and peering
 *           contacts, except the fields its admins pinned; one audit
 *           event per changed network, everything in one transaction,
 *           nothing written when nothing changed;
 *   sync    fetch from the PeeringDB API (libcurl) what changed since the
 *           last sync, for the networks here, and apply it.
 * A bad row (no asn, an unknown policy word) refuses the whole input; a
 * contact whose email fails peerflow's check is skipped and named. */
#ifndef WF_PEERINGDB_H
#define WF_PEERINGDB_H

#include <jansson.h>
#include <stdbool.h>

#include "workflow/context.h"

/* The fields an import sets, which an admin may pin. */
#define WF_PDB_NFIELDS 6
#define WF_PDB_FIELD_NAMES "name, policy, irr_as_set, max_prefix4, max_prefix6, contacts"
extern const char *const wf_pdb_fields[WF_PDB_NFIELDS + 1];

#define WF_PDB_MAX_CONTACTS 8

typedef struct {
    long long asn;
    long long net_id;      /* PeeringDB's net.id (0: unknown) */
    bool deleted;          /* status "deleted" */
    char *name;            /* NULL: not given */
    const char *policy;    /* peerflow's word, NULL: not given */
    char *irr_as_set;      /* NULL: not given or unusable (see notes) */
    int max_prefix4, max_prefix6; /* 0: not given */
    char *updated;         /* PeeringDB's "updated", NULL: not given */
    char *contacts[WF_PDB_MAX_CONTACTS];
    int n_contacts;
    bool has_contacts;     /* poc rows were read for this network */
} wf_pdb_net;

typedef struct {
    wf_pdb_net *nets;
    size_t n, cap;
    /* poc rows waiting for their network (by net_id), and the ASNs seen
     * on ix ids (netixlan, ixlan), kept as JSON */
    json_t *pocs;       /* [{"net_id", "email", "role"}] */
    json_t *ixlan_ix;   /* {"ixlan_id": ix_id} */
    json_t *ix_asns;    /* {"ix_id": [asn, ...]} */
    json_t *notes;      /* ["contact x of AS1 skipped: ..."] */
} wf_pdb_set;

void wf_pdb_set_init(wf_pdb_set *s);
void wf_pdb_set_free(wf_pdb_set *s);

/* Adds one document to s. source names it in errors ("net-0.json",
 * a URL). kind is "net", "poc", ... when known (a dump file's name or
 * the API path), else NULL: told from the rows. PF_EINVALID with a
 * message naming source and row when the document is not usable; then s
 * must not be applied. */
pf_kind wf_pdb_parse(wf_pdb_set *s, const json_t *doc, const char *source, const char *kind,
                     pf_err *err);
/* Like wf_pdb_parse from text (not JSON: PF_EINVALID "not_json"). */
pf_kind wf_pdb_parse_text(wf_pdb_set *s, const char *text, size_t len, const char *source,
                          const char *kind, pf_err *err);
/* Joins the poc rows onto their networks (call once after parsing). */
void wf_pdb_finish(wf_pdb_set *s);

/* The kind a file name or URL path says ("net-0.json" -> "net",
 * ".../api/poc?..." -> "poc"), NULL when it says none. */
const char *wf_pdb_kind_of(const char *name);

/* Adds a network known only by asn and PeeringDB id (the sync, for the
 * contacts of a network whose net row did not change). */
void wf_pdb_stub(wf_pdb_set *s, long long asn, long long net_id);

typedef struct {
    bool create;          /* add the networks not known here */
    const char *ix_id;    /* with create: only networks on this PeeringDB ix (when the
                           * set has netixlan rows) */
    long long set_since;  /* > 0: move the sync's cursor in the same transaction */
} wf_pdb_apply_opts;

typedef struct {
    int networks_seen, networks_changed, networks_created, fields_changed, skipped;
    json_t *lines; /* what changed, a line per network, and the notes; caller decrefs */
} wf_pdb_summary;

/* Applies s in one transaction (operators and the system only). */
pf_kind wf_pdb_apply(const wf_env *env, const wf_actor *who, const wf_pdb_set *s,
                     const wf_pdb_apply_opts *o, wf_pdb_summary *sum, pf_err *err);

typedef struct {
    const char *url;       /* API base, default https://www.peeringdb.com/api */
    const char *api_key;   /* Authorization: Api-Key ... (may be NULL) */
    int pause_ms;          /* between requests; 0 = 2000 */
    int max_backoff_s;     /* cap of the 429 backoff; 0 = 60 */
} wf_pdb_sync_opts;

/* One sync: the networks here, in batches of at most 150 ASNs, net rows
 * changed since the last sync (all on the first), the peering contacts of
 * the networks concerned, applied; the cursor moves only when everything
 * was fetched and applied. */
pf_kind wf_pdb_sync(const wf_env *env, const wf_actor *who, const wf_pdb_sync_opts *o,
                    wf_pdb_summary *sum, pf_err *err);

/* Fetches url into *body (malloc'd, NUL-terminated): the Api-Key header
 * when api_key is set, HTTP 429 retried after Retry-After (or a doubling
 * backoff), capped. For import of a URL too. */
pf_kind wf_pdb_fetch(const char *url, const char *api_key, int max_backoff_s, char **body,
                     size_t *len, pf_err *err);

/* A network's pins: {"asn", "pinned": [...], "fields": [all]}; anyone
 * logged in may read them. */
pf_kind wf_peeringdb_pins_get(const wf_env *env, const wf_actor *who, const char *asn,
                              json_t **out, pf_err *err);
/* Replaces the pins (its admins and operators), audited as
 * network.peeringdb_pinned. */
pf_kind wf_peeringdb_pins_set(const wf_env *env, const wf_actor *who, const char *asn,
                              const char *const *fields, size_t n, pf_err *err);

#endif
