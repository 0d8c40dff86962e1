/* wf_pdb: see peeringdb.h. */
#include "workflow/peeringdb.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "db/directory.h"
#include "db/peeringdb.h"
#include "workflow/validate.h"

const char *const wf_pdb_fields[WF_PDB_NFIELDS + 1] = {
    "name", "policy", "irr_as_set", "max_prefix4", "max_prefix6", "contacts", NULL};

#define DEFAULT_URL "https://www.peeringdb.com/api"
#define BATCH 150 /* ASNs or ids per request: PeeringDB's URLs stay short */

/* ------------------------------------------------------------- parse */

void wf_pdb_set_init(wf_pdb_set *s)
{
    memset(s, 0, sizeof *s);
    s->pocs = json_array();
    s->ixlan_ix = json_object();
    s->ix_asns = json_object();
    s->notes = json_array();
}

static void net_free(wf_pdb_net *n)
{
    free(n->name);
    free(n->irr_as_set);
    free(n->updated);
    for (int i = 0; i < n->n_contacts; i++)
        free(n->contacts[i]);
}

void wf_pdb_set_free(wf_pdb_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        net_free(&s->nets[i]);
    free(s->nets);
    json_decref(s->pocs);
    json_decref(s->ixlan_ix);
    json_decref(s->ix_asns);
    json_decref(s->notes);
    memset(s, 0, sizeof *s);
}

/* The entry for asn (a new one when there is none). */
static wf_pdb_net *net_slot(wf_pdb_set *s, long long asn)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->nets[i].asn == asn)
            return &s->nets[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        wf_pdb_net *v = realloc(s->nets, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        s->nets = v;
        s->cap = cap;
    }
    wf_pdb_net *n = &s->nets[s->n++];
    memset(n, 0, sizeof *n);
    n->asn = asn;
    return n;
}

void wf_pdb_stub(wf_pdb_set *s, long long asn, long long net_id)
{
    wf_pdb_net *n = net_slot(s, asn);
    if (n && n->net_id == 0)
        n->net_id = net_id;
}

const char *wf_pdb_kind_of(const char *name)
{
    static const char *const kinds[] = {"netixlan", "ixlan", "net", "poc", "ix", NULL};
    if (name == NULL)
        return NULL;
    const char *base = name;
    const char *q = strchr(name, '?');
    size_t len = q ? (size_t)(q - name) : strlen(name);
    for (size_t i = 0; i < len; i++)
        if (name[i] == '/')
            base = name + i + 1;
    size_t bl = (size_t)(name + len - base);
    for (int i = 0; kinds[i]; i++) {
        size_t kl = strlen(kinds[i]);
        /* "net", "net.json", "net-0.json" */
        if (bl >= kl && strncmp(base, kinds[i], kl) == 0 &&
            (bl == kl || base[kl] == '-' || base[kl] == '.'))
            return kinds[i];
    }
    return NULL;
}

static const char *policy_word(const char *pdb)
{
    static const char *const map[][2] = {
        {"Open", "open"}, {"Selective", "selective"}, {"Restrictive", "restrictive"}, {"No", "no"}};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(map[i][0], pdb) == 0)
            return map[i][1];
    return NULL;
}

/* The first AS-SET of PeeringDB's free text ("RIPE::AS-FOO AS-BAR"), as
 * peerflow stores one: NULL when it is unusable. */
static char *irr_first(const char *text)
{
    size_t skip = strspn(text, " \t,");
    size_t len = strcspn(text + skip, " \t,;");
    if (len == 0 || len > 100)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char ch = text[skip + i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == ':' || ch == '_' || ch == '.' || ch == '-';
        if (!ok)
            return NULL;
    }
    return strndup(text + skip, len);
}

static int prefixes(const json_t *v)
{
    long long n = json_is_integer(v) ? json_integer_value(v) : 0;
    return n >= 1 && n <= 10000000 ? (int)n : 0;
}

static pf_kind parse_net(wf_pdb_set *s, const json_t *row, const char *source, size_t i,
                         pf_err *err)
{
    json_t *asn = json_object_get(row, "asn");
    json_t *id = json_object_get(row, "id");
    pf_err e = {0};
    if (!json_is_integer(asn))
        return pf_fail(err, PF_EINVALID, "missing_asn", "asn",
                       "%s: net row %zu (id %lld) has no asn: this is not a PeeringDB net "
                       "object (nothing was written)",
                       source, i, (long long)json_integer_value(id));
    if (wf_check_asn(json_integer_value(asn), "asn", &e))
        return pf_fail(err, PF_EINVALID, "bad_asn", "asn", "%s: net row %zu: %s", source, i,
                       e.message);
    const char *pol = json_string_value(json_object_get(row, "policy_general"));
    const char *mapped = NULL;
    if (pol && pol[0] && (mapped = policy_word(pol)) == NULL)
        return pf_fail(err, PF_EINVALID, "unknown_policy", "policy_general",
                       "%s: AS%lld has policy_general '%.40s': PeeringDB's words are Open, "
                       "Selective, Restrictive and No (nothing was written)",
                       source, (long long)json_integer_value(asn), pol);
    wf_pdb_net *n = net_slot(s, json_integer_value(asn));
    if (n == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    long long asn_v = n->asn;
    net_free(n);
    memset(n, 0, sizeof *n);
    n->asn = asn_v;
    n->net_id = json_is_integer(id) ? json_integer_value(id) : 0;
    const char *status = json_string_value(json_object_get(row, "status"));
    n->deleted = status && strcmp(status, "deleted") == 0;
    const char *name = json_string_value(json_object_get(row, "name"));
    if (name && wf_check_display_name(name, "name", 100, &e) == PF_OK)
        n->name = strdup(name);
    else if (name)
        json_array_append_new(s->notes, json_sprintf("AS%lld: name not used: %s", asn_v,
                                                     e.message));
    n->policy = mapped;
    const char *irr = json_string_value(json_object_get(row, "irr_as_set"));
    if (irr && irr[0]) {
        n->irr_as_set = irr_first(irr);
        if (n->irr_as_set == NULL)
            json_array_append_new(s->notes,
                                  json_sprintf("AS%lld: irr_as_set '%.60s' not used: peerflow "
                                               "keeps one AS-SET of letters, digits and :_.-",
                                               asn_v, irr));
    }
    n->max_prefix4 = prefixes(json_object_get(row, "info_prefixes4"));
    n->max_prefix6 = prefixes(json_object_get(row, "info_prefixes6"));
    const char *upd = json_string_value(json_object_get(row, "updated"));
    n->updated = upd ? strdup(upd) : NULL;
    return PF_OK;
}

static bool one_of(const char *s, const char *const *words)
{
    for (int i = 0; s && words[i]; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

static void parse_poc(wf_pdb_set *s, const json_t *row)
{
    static const char *const roles[] = {"Policy", "Technical", "NOC", NULL};
    static const char *const vis[] = {"Public", "Users", NULL};
    const char *role = json_string_value(json_object_get(row, "role"));
    const char *visible = json_string_value(json_object_get(row, "visible"));
    const char *status = json_string_value(json_object_get(row, "status"));
    const char *email = json_string_value(json_object_get(row, "email"));
    long long net_id = json_integer_value(json_object_get(row, "net_id"));
    if (!one_of(role, roles) || !one_of(visible, vis) || (status && strcmp(status, "ok") != 0) ||
        email == NULL || email[0] == '\0')
        return;
    if (!wf_email_valid(email)) {
        json_array_append_new(s->notes,
                              json_sprintf("net %lld: contact '%.80s' (%s) skipped: not an email "
                                           "address peerflow can send to",
                                           net_id, email, role));
        return;
    }
    json_array_append_new(s->pocs, json_pack("{sI,ss,ss}", "net_id", (json_int_t)net_id, "email",
                                             email, "role", role));
}

static void parse_netixlan(wf_pdb_set *s, const json_t *row)
{
    json_t *asn = json_object_get(row, "asn");
    json_t *ix = json_object_get(row, "ix_id");
    char key[40];
    if (!json_is_integer(asn))
        return;
    if (json_is_integer(ix))
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(ix));
    else
        snprintf(key, sizeof key, "ixlan:%lld",
                 (long long)json_integer_value(json_object_get(row, "ixlan_id")));
    json_t *list = json_object_get(s->ix_asns, key);
    if (list == NULL) {
        list = json_array();
        json_object_set_new(s->ix_asns, key, list);
    }
    json_array_append(list, asn);
}

/* What a row is when nobody said: by the fields only that kind has. */
static const char *row_kind(const json_t *row)
{
    if (json_object_get(row, "role") && json_object_get(row, "visible"))
        return "poc";
    if (json_object_get(row, "ixlan_id") && json_object_get(row, "asn"))
        return "netixlan";
    if (json_object_get(row, "ix_id") && !json_object_get(row, "asn"))
        return "ixlan";
    if (json_object_get(row, "asn") || json_object_get(row, "policy_general") ||
        json_object_get(row, "info_prefixes4") || json_object_get(row, "irr_as_set"))
        return "net";
    if (json_object_get(row, "ixf_net_count") || json_object_get(row, "org_id"))
        return "ix";
    return NULL;
}

static pf_kind parse_rows(wf_pdb_set *s, const json_t *data, const char *source,
                          const char *kind, pf_err *err)
{
    size_t i;
    json_t *row;
    json_array_foreach(data, i, row) {
        if (!json_is_object(row))
            return pf_fail(err, PF_EINVALID, "wrong_envelope", NULL,
                           "%s: row %zu of \"data\" is not an object (nothing was written)",
                           source, i);
        const char *k = kind ? kind : row_kind(row);
        if (k == NULL)
            return pf_fail(err, PF_EINVALID, "unknown_object", NULL,
                           "%s: row %zu is neither a net, poc, netixlan, ixlan nor ix object; "
                           "name the file after its kind (net-0.json) (nothing was written)",
                           source, i);
        if (strcmp(k, "net") == 0) {
            if (parse_net(s, row, source, i, err))
                return err->kind;
        } else if (strcmp(k, "poc") == 0) {
            parse_poc(s, row);
        } else if (strcmp(k, "netixlan") == 0) {
            parse_netixlan(s, row);
        } else if (strcmp(k, "ixlan") == 0) {
            json_t *id = json_object_get(row, "id"), *ix = json_object_get(row, "ix_id");
            if (json_is_integer(id) && json_is_integer(ix)) {
                char key[24];
                snprintf(key, sizeof key, "%lld", (long long)json_integer_value(id));
                json_object_set(s->ixlan_ix, key, ix);
            }
        } /* ix: nothing of it is needed */
    }
    return PF_OK;
}

pf_kind wf_pdb_parse(wf_pdb_set *s, const json_t *doc, const char *source, const char *kind,
                     pf_err *err)
{
    if (!json_is_object(doc))
        return pf_fail(err, PF_EINVALID, "wrong_envelope", NULL,
                       "%s is not PeeringDB's envelope {\"meta\": ..., \"data\": [...]} "
                       "(nothing was written)",
                       source);
    json_t *data = json_object_get(doc, "data");
    if (json_is_array(data))
        return parse_rows(s, data, source, kind, err);
    /* a combined dump: {"net": {"data": [...]}, "poc": {...}, ...} */
    static const char *const kinds[] = {"net", "poc", "netixlan", "ixlan", "ix", NULL};
    bool any = false;
    for (int i = 0; kinds[i]; i++) {
        json_t *part = json_object_get(doc, kinds[i]);
        json_t *rows = json_object_get(part, "data");
        if (part == NULL)
            continue;
        if (!json_is_array(rows))
            return pf_fail(err, PF_EINVALID, "wrong_envelope", NULL,
                           "%s: \"%s\" has no \"data\" list (nothing was written)", source,
                           kinds[i]);
        any = true;
        if (parse_rows(s, rows, source, kinds[i], err))
            return err->kind;
    }
    if (!any)
        return pf_fail(err, PF_EINVALID, "wrong_envelope", NULL,
                       "%s is not PeeringDB's envelope {\"meta\": ..., \"data\": [...]} "
                       "(nothing was written)",
                       source);
    return PF_OK;
}

pf_kind wf_pdb_parse_text(wf_pdb_set *s, const char *text, size_t len, const char *source,
                          const char *kind, pf_err *err)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, 0, &je);
    if (doc == NULL)
        return pf_fail(err, PF_EINVALID, "not_json", NULL,
                       "%s is not JSON (line %d: %s): nothing was written", source, je.line,
                       je.text);
    pf_kind k = wf_pdb_parse(s, doc, source, kind, err);
    json_decref(doc);
    return k;
}

static int role_rank(const char *role)
{
    return strcmp(role, "Policy") == 0 ? 0 : strcmp(role, "NOC") == 0 ? 1 : 2;
}

void wf_pdb_finish(wf_pdb_set *s)
{
    /* contacts: Policy first, then NOC, then Technical; each once */
    for (int rank = 0; rank < 3; rank++) {
        size_t i;
        json_t *p;
        json_array_foreach(s->pocs, i, p) {
            if (role_rank(json_string_value(json_object_get(p, "role"))) != rank)
                continue;
            long long net_id = json_integer_value(json_object_get(p, "net_id"));
            const char *email = json_string_value(json_object_get(p, "email"));
            for (size_t k = 0; k < s->n; k++) {
                wf_pdb_net *n = &s->nets[k];
                if (n->net_id != net_id || n->deleted)
                    continue;
                bool dup = false;
                for (int c = 0; c < n->n_contacts && !dup; c++)
                    dup = strcasecmp(n->contacts[c], email) == 0;
                if (dup)
                    continue;
                if (n->n_contacts == WF_PDB_MAX_CONTACTS) {
                    json_array_append_new(s->notes,
                                          json_sprintf("AS%lld: contact '%s' skipped: at most %d "
                                                       "contacts per network",
                                                       n->asn, email, WF_PDB_MAX_CONTACTS));
                    continue;
                }
                n->contacts[n->n_contacts++] = strdup(email);
                n->has_contacts = true;
            }
        }
    }
    /* netixlan rows that named their ixlan only */
    const char *key;
    json_t *v, *tmp;
    json_object_foreach_safe(s->ix_asns, tmp, key, v) {
        if (strncmp(key, "ixlan:", 6) != 0)
            continue;
        json_t *ix = json_object_get(s->ixlan_ix, key + 6);
        if (json_is_integer(ix)) {
            char k2[24];
            snprintf(k2, sizeof k2, "%lld", (long long)json_integer_value(ix));
            json_t *list = json_object_get(s->ix_asns, k2);
            if (list == NULL) {
                list = json_array();
                json_object_set_new(s->ix_asns, k2, list);
            }
            json_array_extend(list, v);
        }
    }
}

/* Whether asn is on PeeringDB ix ix_id by the set's netixlan rows (true
 * when the set has none, or no ix is configured). */
static bool on_ix(const wf_pdb_set *s, const char *ix_id, long long asn)
{
    if (ix_id == NULL || ix_id[0] == '\0' || json_object_size(s->ix_asns) == 0)
        return true;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(s->ix_asns, ix_id), i, a)
        if (json_integer_value(a) == asn)
            return true;
    return false;
}

/* ------------------------------------------------------------- apply */

struct apply_ctx {
    const wf_actor *who;
    const wf_pdb_set *s;
    const wf_pdb_apply_opts *o;
    wf_pdb_summary sum;
};

static bool pinned(const json_t *cur, const char *field)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(cur, "pinned"), i, p)
        if (strcmp(json_string_value(p), field) == 0)
            return true;
    return false;
}

/* One field: when PeeringDB gives a value (want, stolen) other than the
 * current one and the field is not pinned, it goes into now/was and the
 * line. */
static void field(json_t *cur, const char *name, json_t *want, json_t *was, json_t *now,
                  char *line, size_t cap, int *n_pinned)
{
    json_t *have = json_object_get(cur, name);
    if (want == NULL || json_equal(have, want) || (json_is_null(have) && json_is_null(want))) {
        json_decref(want);
        return;
    }
    if (pinned(cur, name)) {
        (*n_pinned)++;
        json_decref(want);
        return;
    }
    char *a = json_dumps(have ? have : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
    char *b = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
    size_t len = strlen(line);
    snprintf(line + len, cap - len, "%s%s %s -> %s", len && line[len - 1] == ':' ? " " : ", ",
             name, a ? a : "?", b ? b : "?");
    free(a);
    free(b);
    json_object_set(was, name, have ? have : json_null());
    json_object_set(now, name, want);
    json_object_set_new(cur, name, want);
}

/* What PeeringDB changes of cur (the network as stored; changed in
 * place): the fields into was/now, the line, pinned fields counted;
 * *auto_open when a policy is held back by auto-approve. */
static void diff_net(json_t *cur, const wf_pdb_net *n, char *line, size_t cap, json_t *was,
                     json_t *now, int *n_pinned, bool *auto_open)
{
    *auto_open = false;
    if (n->deleted) {
        /* deleted from PeeringDB: the network stays, its link goes */
        if (!json_is_null(json_object_get(cur, "peeringdb_net_id")))
            field(cur, "peeringdb_net_id", json_null(), was, now, line, cap, n_pinned);
        return;
    }
    field(cur, "name", n->name ? json_string(n->name) : NULL, was, now, line, cap, n_pinned);
    if (n->policy && json_is_true(json_object_get(cur, "auto_approve")) &&
        strcmp(n->policy, "open") != 0 &&
        strcmp(json_string_value(json_object_get(cur, "policy")), n->policy) != 0 &&
        !pinned(cur, "policy"))
        *auto_open = true; /* networks_auto_approve_open */
    else
        field(cur, "policy", n->policy ? json_string(n->policy) : NULL, was, now, line, cap,
              n_pinned);
    field(cur, "irr_as_set", n->irr_as_set ? json_string(n->irr_as_set) : NULL, was, now, line,
          cap, n_pinned);
    field(cur, "max_prefix4", n->max_prefix4 ? json_integer(n->max_prefix4) : NULL, was, now,
          line, cap, n_pinned);
    field(cur, "max_prefix6", n->max_prefix6 ? json_integer(n->max_prefix6) : NULL, was, now,
          line, cap, n_pinned);
    json_t *contacts = NULL;
    if (n->has_contacts) {
        contacts = json_array();
        for (int i = 0; i < n->n_contacts; i++)
            json_array_append_new(contacts, json_string(n->contacts[i]));
    }
    field(cur, "contacts", contacts, was, now, line, cap, n_pinned);
    field(cur, "peeringdb_net_id", n->net_id ? json_integer(n->net_id) : NULL, was, now, line,
          cap, n_pinned);
}

static pf_kind create_net(db_conn *c, struct apply_ctx *x, const wf_pdb_net *n, pf_err *err)
{
    db_network add = {.asn = n->asn};
    snprintf(add.name, sizeof add.name, "%s", n->name ? n->name : "");
    if (add.name[0] == '\0')
        snprintf(add.name, sizeof add.name, "AS%lld", n->asn);
    snprintf(add.policy, sizeof add.policy, "%s", n->policy ? n->policy : "selective");
    for (int i = 0; i < n->n_contacts && i < DB_MAX_CONTACTS; i++)
        snprintf(add.contacts[add.n_contacts++], sizeof add.contacts[0], "%s", n->contacts[i]);
    long long id;
    char ids[24];
    if (db_network_insert(c, &add, &id, err))
        return err->kind;
    snprintf(ids, sizeof ids, "%lld", n->asn);
    x->sum.networks_created++;
    return wf_audit(c, x->who, "network.peeringdb_created", "network", ids, 0, NULL,
                    json_pack("{sI,ss,ss}", "asn", (json_int_t)n->asn, "name", add.name, "policy",
                              add.policy),
                    err);
}

static pf_kind apply_net(db_conn *c, struct apply_ctx *x, const wf_pdb_net *n, pf_err *err)
{
    /* read without a lock first: a network PeeringDB does not change is
     * not touched at all (not even locked); one it changes is read again
     * FOR UPDATE and compared again, so a concurrent change is not lost */
    json_t *cur;
    bool locked = false, created = false;
    if (db_pdb_network(c, n->asn, false, &cur, err))
        return err->kind;
    if (cur == NULL) {
        if (n->deleted || !x->o->create || !on_ix(x->s, x->o->ix_id, n->asn))
            return PF_OK;
        if (create_net(c, x, n, err) || db_pdb_network(c, n->asn, true, &cur, err))
            return err->kind;
        created = locked = true;
    }
    char line[1200];
    json_t *was, *now;
    int n_pinned;
    bool auto_open;
    for (;;) {
        snprintf(line, sizeof line, "AS%lld%s:", n->asn, created ? " (created)" : "");
        was = json_object();
        now = json_object();
        n_pinned = 0;
        diff_net(cur, n, line, sizeof line, was, now, &n_pinned, &auto_open);
        if (locked || json_object_size(now) == 0)
            break;
        json_decref(was);
        json_decref(now);
        json_decref(cur);
        if (db_pdb_network(c, n->asn, true, &cur, err))
            return err->kind;
        if (cur == NULL)
            return PF_OK;
        locked = true;
    }
    x->sum.networks_seen++;
    if (auto_open) {
        json_array_append_new(x->sum.lines,
                              json_sprintf("AS%lld: policy %s not applied: the network approves "
                                           "automatically, which needs open (turn auto-approve "
                                           "off, or pin policy)",
                                           n->asn, n->policy));
        x->sum.skipped++;
    }
    pf_kind k = PF_OK;
    size_t changed = json_object_size(now);
    if (changed > 0) {
        char ids[24];
        snprintf(ids, sizeof ids, "%lld", n->asn);
        k = db_pdb_network_set(c, json_integer_value(json_object_get(cur, "id")), cur, err);
        if (k == PF_OK) {
            x->sum.networks_changed++;
            x->sum.fields_changed += (int)changed;
            if (n_pinned)
                snprintf(line + strlen(line), sizeof line - strlen(line),
                         " (%d pinned field%s kept)", n_pinned, n_pinned == 1 ? "" : "s");
            json_array_append_new(x->sum.lines, json_string(line));
            k = wf_audit(c, x->who, n->deleted ? "network.peeringdb_deleted"
                                               : "network.peeringdb_updated",
                         "network", ids, 0, was, now, err);
            was = now = NULL;
        }
    } else if (n_pinned) {
        json_array_append_new(x->sum.lines,
                              json_sprintf("AS%lld: unchanged (%d pinned field%s kept)", n->asn,
                                           n_pinned, n_pinned == 1 ? "" : "s"));
    }
    json_decref(was);
    json_decref(now);
    json_decref(cur);
    return k;
}

static pf_kind apply_tx(db_conn *c, void *v, pf_err *err)
{
    struct apply_ctx *x = v;
    /* a retried transaction starts from nothing */
    json_decref(x->sum.lines);
    memset(&x->sum, 0, sizeof x->sum);
    x->sum.lines = json_array();
    json_array_extend(x->sum.lines, x->s->notes);
    x->sum.skipped = (int)json_array_size(x->s->notes);
    for (size_t i = 0; i < x->s->n; i++)
        if (apply_net(c, x, &x->s->nets[i], err))
            return err->kind;
    if (x->o->set_since > 0 && db_pdb_since_set(c, x->o->set_since, err))
        return err->kind;
    return PF_OK;
}

pf_kind wf_pdb_apply(const wf_env *env, const wf_actor *who, const wf_pdb_set *s,
                     const wf_pdb_apply_opts *o, wf_pdb_summary *sum, pf_err *err)
{
    memset(sum, 0, sizeof *sum);
    if (who->role != WF_ROLE_OPERATOR && who->role != WF_ROLE_SYSTEM)
        return pf_fail(err, PF_EFORBIDDEN, "operators_only", NULL,
                       "only the exchange's operators import from PeeringDB");
    struct apply_ctx x = {.who = who, .s = s, .o = o};
    db_scope scope = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &scope, apply_tx, &x, err);
    *sum = x.sum;
    if (k != PF_OK) {
        /* nothing was written: no change to report */
        json_decref(sum->lines);
        memset(sum, 0, sizeof *sum);
    }
    return k;
}

/* ------------------------------------------------------------- fetch */

struct buf {
    char *p;
    size_t len;
    bool too_big;
};

#define MAX_BODY ((size_t)512 * 1024 * 1024)

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t add = size * n;
    if (b->len + add > MAX_BODY) {
        b->too_big = true;
        return 0;
    }
    char *p = realloc(b->p, b->len + add + 1);
    if (p == NULL)
        return 0;
    memcpy(p + b->len, data, add);
    b->p = p;
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

pf_kind wf_pdb_fetch(const char *url, const char *api_key, int max_backoff_s, char **body,
                     size_t *len, pf_err *err)
{
    *body = NULL;
    *len = 0;
    int cap = max_backoff_s > 0 ? max_backoff_s : 60;
    char auth[600] = "";
    if (api_key && api_key[0])
        snprintf(auth, sizeof auth, "Authorization: Api-Key %s", api_key);
    for (int attempt = 0;; attempt++) {
        CURL *h = curl_easy_init();
        if (h == NULL)
            return pf_fail(err, PF_EINTERNAL, "curl_init", NULL, "libcurl failed to start");
        struct buf b = {0};
        struct curl_slist *hdr = curl_slist_append(NULL, "Accept: application/json");
        if (auth[0])
            hdr = curl_slist_append(hdr, auth);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "peerflow");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_off_t retry = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(h);
        if (rc != CURLE_OK) {
            free(b.p);
            return pf_fail(err, PF_EUNAVAIL, "peeringdb_unreachable", "url", "%s: %s", url,
                           b.too_big ? "the answer is too large" : curl_easy_strerror(rc));
        }
        if (status == 429 && attempt < 6) {
            free(b.p);
            long wait = retry > 0 ? (long)retry : 1L << attempt;
            sleep((unsigned)(wait > cap ? cap : wait));
            continue;
        }
        if (status == 401 || status == 403) {
            free(b.p);
            return pf_fail(err, PF_EAUTH, "peeringdb_refused", "api_key",
                           "PeeringDB refused the request (HTTP %ld): check "
                           "PEERFLOW_PEERINGDB_API_KEY",
                           status);
        }
        if (status != 200) {
            free(b.p);
            return pf_fail(err, PF_EUNAVAIL, "peeringdb_http_error", "url",
                           "%s answered HTTP %ld%s", url, status,
                           status == 429 ? " after every retry: try again later" : "");
        }
        *body = b.p ? b.p : strdup("");
        *len = b.len;
        return PF_OK;
    }
}

/* ------------------------------------------------------------- sync */

/* Fetches base/path and parses it into s as kind. */
static pf_kind fetch_into(const wf_pdb_sync_opts *o, const char *url, const char *kind,
                          wf_pdb_set *s, bool *first, pf_err *err)
{
    if (!*first)
        usleep((useconds_t)(o->pause_ms > 0 ? o->pause_ms : 2000) * 1000);
    *first = false;
    char *body;
    size_t len;
    if (wf_pdb_fetch(url, o->api_key, o->max_backoff_s, &body, &len, err))
        return err->kind;
    pf_kind k = wf_pdb_parse_text(s, body, len, url, kind, err);
    free(body);
    return k;
}

struct nets_ctx {
    json_t *nets;
    long long since;
};

static pf_kind nets_tx(db_conn *c, void *v, pf_err *err)
{
    struct nets_ctx *x = v;
    json_decref(x->nets);
    x->nets = NULL;
    return db_pdb_since(c, &x->since, err) ? err->kind : db_pdb_networks(c, &x->nets, err);
}

/* Appends "a,b,c" of the integers list[from .. from+BATCH) to url. */
static void add_list(char *url, size_t cap, const json_t *list, size_t from)
{
    for (size_t i = from; i < json_array_size(list) && i < from + BATCH; i++) {
        size_t len = strlen(url);
        snprintf(url + len, cap - len, "%s%lld", i == from ? "" : ",",
                 (long long)json_integer_value(json_array_get(list, i)));
    }
}

pf_kind wf_pdb_sync(const wf_env *env, const wf_actor *who, const wf_pdb_sync_opts *o,
                    wf_pdb_summary *sum, pf_err *err)
{
    memset(sum, 0, sizeof *sum);
    const char *base = o->url && o->url[0] ? o->url : DEFAULT_URL;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    struct nets_ctx x = {0};
    db_scope scope = wf_actor_scope(who);
    if (db_run_read(env->db, &scope, nets_tx, &x, err))
        return err->kind;
    long long started = (long long)time(NULL);
    json_t *asns = json_array(), *linked = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(x.nets, i, n) {
        json_array_append(asns, json_object_get(n, "asn"));
        if (json_is_integer(json_object_get(n, "net_id")))
            json_array_append(linked, json_object_get(n, "net_id"));
    }
    wf_pdb_set s, changed;
    wf_pdb_set_init(&s);
    wf_pdb_set_init(&changed);
    bool first = true;
    pf_kind k = PF_OK;
    char since[40] = "";
    if (x.since > 0)
        snprintf(since, sizeof since, "&since=%lld", x.since);
    char url[8192]; /* 150 ids of at most 20 digits, and the base */
    for (size_t at = 0; k == PF_OK && at < json_array_size(asns); at += BATCH) {
        snprintf(url, sizeof url, "%.*s/net?asn__in=", (int)bl, base);
        add_list(url, sizeof url, asns, at);
        snprintf(url + strlen(url), sizeof url - strlen(url), "%s", since);
        k = fetch_into(o, url, "net", &s, &first, err);
    }
    /* the networks whose contacts to read: those whose net row came, and
     * (incrementally) those whose poc rows changed */
    json_t *want = json_array();
    for (size_t j = 0; j < s.n; j++)
        if (!s.nets[j].deleted && s.nets[j].net_id)
            json_array_append_new(want, json_integer(s.nets[j].net_id));
    for (size_t at = 0; k == PF_OK && x.since > 0 && at < json_array_size(linked); at += BATCH) {
        snprintf(url, sizeof url, "%.*s/poc?net_id__in=", (int)bl, base);
        add_list(url, sizeof url, linked, at);
        snprintf(url + strlen(url), sizeof url - strlen(url), "%s", since);
        /* deleted or hidden contacts count as a change of the network too */
        char *body;
        size_t len;
        if (!first)
            usleep((useconds_t)(o->pause_ms > 0 ? o->pause_ms : 2000) * 1000);
        first = false;
        k = wf_pdb_fetch(url, o->api_key, o->max_backoff_s, &body, &len, err);
        if (k == PF_OK) {
            json_error_t je;
            json_t *doc = json_loadb(body, len, 0, &je);
            json_t *row;
            size_t r;
            if (!json_is_array(json_object_get(doc, "data")))
                k = pf_fail(err, PF_EINVALID, "wrong_envelope", NULL,
                            "%s is not PeeringDB's envelope (nothing was written)", url);
            json_array_foreach(json_object_get(doc, "data"), r, row) {
                long long id = json_integer_value(json_object_get(row, "net_id"));
                bool have = false;
                size_t w;
                json_t *e;
                json_array_foreach(want, w, e) have |= json_integer_value(e) == id;
                if (!have && id) {
                    json_array_append_new(want, json_integer(id));
                    /* its net row did not change: known here by net_id */
                    json_array_foreach(x.nets, w, e)
                        if (json_integer_value(json_object_get(e, "net_id")) == id)
                            wf_pdb_stub(&s, json_integer_value(json_object_get(e, "asn")), id);
                }
            }
            json_decref(doc);
            free(body);
        }
    }
    for (size_t at = 0; k == PF_OK && at < json_array_size(want); at += BATCH) {
        snprintf(url, sizeof url, "%.*s/poc?net_id__in=", (int)bl, base);
        add_list(url, sizeof url, want, at);
        k = fetch_into(o, url, "poc", &s, &first, err);
    }
    if (k == PF_OK) {
        wf_pdb_finish(&s);
        wf_pdb_apply_opts ao = {.set_since = started};
        k = wf_pdb_apply(env, who, &s, &ao, sum, err);
    }
    json_decref(want);
    json_decref(asns);
    json_decref(linked);
    json_decref(x.nets);
    wf_pdb_set_free(&s);
    wf_pdb_set_free(&changed);
    return k;
}

/* -------------------------------------------------------------- pins */

struct pins_ctx {
    const wf_actor *who;
    long long asn;
    json_t *pins; /* to set, or NULL */
    json_t *out;
};

static pf_kind pins_tx(db_conn *c, void *v, pf_err *err)
{
    struct pins_ctx *x = v;
    json_t *cur;
    json_decref(x->out);
    x->out = NULL;
    if (db_pdb_network(c, x->asn, x->pins != NULL, &cur, err))
        return err->kind;
    if (cur == NULL)
        return pf_fail(err, PF_ENOTFOUND, "unknown_asn", "asn",
                       "no network with ASN %lld is on this exchange", x->asn);
    long long id = json_integer_value(json_object_get(cur, "id"));
    if (x->pins) {
        const wf_actor *w = x->who;
        if (w->role != WF_ROLE_OPERATOR && w->role != WF_ROLE_SYSTEM &&
            !(w->role == WF_ROLE_ADMIN && w->network_id == id)) {
            json_decref(cur);
            return pf_fail(err, PF_EFORBIDDEN, "role_not_allowed", NULL,
                           "only the network's admins and the operators pin its fields");
        }
        char ids[24];
        snprintf(ids, sizeof ids, "%lld", x->asn);
        json_t *was = json_pack("{sO}", "pinned", json_object_get(cur, "pinned"));
        if (db_pdb_pins_set(c, id, x->pins, err) ||
            wf_audit(c, w, "network.peeringdb_pinned", "network", ids, 0, was,
                     json_pack("{sO}", "pinned", x->pins), err)) {
            json_decref(cur);
            return err->kind;
        }
        json_object_set(cur, "pinned", x->pins);
    }
    json_t *all = json_array();
    for (int i = 0; wf_pdb_fields[i]; i++)
        json_array_append_new(all, json_string(wf_pdb_fields[i]));
    x->out = json_pack("{sIsOso}", "asn", (json_int_t)x->asn, "pinned",
                       json_object_get(cur, "pinned"), "fields", all);
    json_decref(cur);
    return PF_OK;
}

pf_kind wf_peeringdb_pins_get(const wf_env *env, const wf_actor *who, const char *asn,
                              json_t **out, pf_err *err)
{
    struct pins_ctx x = {.who = who};
    *out = NULL;
    if (wf_parse_asn(asn, "asn", &x.asn, err))
        return err->kind;
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, pins_tx, &x, err);
    *out = x.out;
    return k;
}

pf_kind wf_peeringdb_pins_set(const wf_env *env, const wf_actor *who, const char *asn,
                              const char *const *fields, size_t n, pf_err *err)
{
    struct pins_ctx x = {.who = who};
    if (wf_parse_asn(asn, "asn", &x.asn, err))
        return err->kind;
    x.pins = json_array();
    for (size_t i = 0; i < n; i++) {
        bool known = false;
        for (int f = 0; wf_pdb_fields[f] && !known; f++)
            known = strcmp(wf_pdb_fields[f], fields[i]) == 0;
        if (!known) {
            json_decref(x.pins);
            return pf_fail(err, PF_EINVALID, "unknown_field", "pinned",
                           "'%.40s' is not a field PeeringDB sets: pin any of " WF_PDB_FIELD_NAMES,
                           fields[i]);
        }
        bool dup = false;
        size_t j;
        json_t *p;
        json_array_foreach(x.pins, j, p) dup |= strcmp(json_string_value(p), fields[i]) == 0;
        if (!dup)
            json_array_append_new(x.pins, json_string(fields[i]));
    }
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_tx(env->db, &s, pins_tx, &x, err);
    json_decref(x.pins);
    json_decref(x.out);
    return k;
}
