/* prov_fabric: see fabric.h and docs/fabric.md. */
#include "provisioner/fabric.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/audit.h"
#include "db/provision.h"
#include <stdarg.h>

/* snprintf for messages: truncating a long message is intended. */
static void msgf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void msgf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}


static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

struct ofp_flow *prov_flows_from_rows(const db_prov_flow *rows, size_t n, size_t *bad)
{
    struct ofp_flow *v = calloc(n ? n : 1, sizeof *v);
    *bad = 0;
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char why[128];
        if (prov_flow_from_json(rows[i].match, rows[i].actions, rows[i].table_id,
                                rows[i].priority, (uint64_t)rows[i].cookie, &v[i], why) != 0) {
            (*bad)++;
            /* an empty drop flow would be wrong to install: mark it */
            v[i].n_unknown = 1;
        }
    }
    return v;
}

/* A DELETE_STRICT of exactly this entry, restricted to its cookie. */
static void strict_delete(const struct ofp_flow *e, struct ofp_flow *d)
{
    ofp_flow_init(d);
    d->command = OFPFC_DELETE_STRICT;
    d->table_id = e->table_id;
    d->priority = e->priority;
    d->match = e->match;
    /* the codec keeps an exact vlan match exact */
    d->cookie = e->cookie;
    d->cookie_mask = PROV_COOKIE_ALL;
}

static void add_of(const struct ofp_flow *w, struct ofp_flow *a)
{
    *a = *w;
    a->command = OFPFC_ADD;
    a->cookie_mask = 0;
    a->buffer_id = OFP_NO_BUFFER;
    a->out_port = OFPP_ANY;
    a->out_group = OFPG_ANY;
}

bool prov_sync_cookie(prov_net *n, long long switch_id, uint64_t cookie,
                      const struct ofp_flow *want, size_t n_want, int timeout_ms,
                      prov_result *res, long *failed_want, size_t *sent)
{
    *failed_want = -1;
    *sent = 0;
    struct ofp_flow_stats_req req;
    ofp_flow_stats_req_init(&req);
    req.cookie = cookie;
    req.cookie_mask = PROV_COOKIE_ALL;
    struct ofp_flow_entry *have = NULL;
    size_t n_have = 0;
    if (!prov_net_dump(n, switch_id, &req, timeout_ms, &have, &n_have, res))
        return false;
    struct ofp_flow *mods = calloc(n_want + n_have + 1, sizeof *mods);
    long *origin = calloc(n_want + n_have + 1, sizeof *origin);
    if (mods == NULL || origin == NULL) {
        free(mods), free(origin), free(have);
        msgf(res->message, sizeof res->message, "out of memory");
        res->ok = false;
        return false;
    }
    size_t nm = 0;
    for (size_t i = 0; i < n_want; i++) {
        bool right = false;
        for (size_t j = 0; j < n_have && !right; j++)
            right = prov_flow_same(&want[i], &have[j].flow);
        if (!right) {
            origin[nm] = (long)i;
            add_of(&want[i], &mods[nm++]);
        }
    }
    for (size_t j = 0; j < n_have; j++) {
        bool wanted = false;
        for (size_t i = 0; i < n_want && !wanted; i++)
            wanted = prov_flow_same_entry(&want[i], &have[j].flow);
        if (!wanted && have[j].flow.n_unknown == 0) {
            origin[nm] = -1;
            strict_delete(&have[j].flow, &mods[nm++]);
        }
    }
    free(have);
    bool ok = prov_net_batch(n, switch_id, mods, nm, timeout_ms, res);
    if (!ok && res->failed_index >= 0 && (size_t)res->failed_index < nm)
        *failed_want = origin[res->failed_index];
    *sent = nm;
    free(mods);
    free(origin);
    return ok;
}

bool prov_delete_cookie(prov_net *n, long long switch_id, uint64_t cookie,
                        const struct ofp_flow *known, size_t n_known, int timeout_ms,
                        prov_result *res)
{
    struct ofp_flow *mods = calloc(n_known + 1, sizeof *mods);
    if (mods == NULL) {
        memset(res, 0, sizeof *res);
        msgf(res->message, sizeof res->message, "out of memory");
        return false;
    }
    size_t nm = 0;
    for (size_t i = 0; i < n_known; i++)
        if (known[i].n_unknown == 0)
            strict_delete(&known[i], &mods[nm++]);
    /* and whatever else carries the cookie, in any table */
    struct ofp_flow *d = &mods[nm++];
    ofp_flow_init(d);
    d->command = OFPFC_DELETE;
    d->table_id = OFPTT_ALL;
    d->cookie = cookie;
    d->cookie_mask = PROV_COOKIE_ALL;
    /* not a bundle: each delete stands alone (see below) */
    prov_net_batch_plain(n, switch_id, mods, nm, timeout_ms, res);
    free(mods);
    /* The DELETE by cookie alone decides: a switch may refuse a strict
     * delete whose match it cannot represent (the flow was never
     * installed then), which leaves nothing behind. */
    if (!res->ok && !res->unreachable && res->failed_index >= 0 &&
        (size_t)res->failed_index < nm - 1) {
        res->ok = true;
    }
    return res->ok;
}

/* --------------------------------------------------------------- meters */

static void want_meter(const db_prov_meter *m, uint16_t command, struct ofp_meter *out)
{
    prov_meter_mod(command, (uint32_t)m->meter_id, (uint32_t)m->rate_kbps,
                   (uint32_t)m->burst_kbits, out);
}

static const struct ofp_meter *find_meter(const struct ofp_meter *have, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (have[i].meter_id == id)
            return &have[i];
    return NULL;
}

bool prov_sync_meters(prov_net *n, long long switch_id, const db_prov_meter *want,
                      size_t n_want, int timeout_ms, prov_result *res, long *failed_want)
{
    *failed_want = -1;
    size_t mine = 0;
    for (size_t i = 0; i < n_want; i++)
        mine += want[i].switch_id == switch_id;
    if (mine == 0) {
        /* an uncapped circuit (or a transit switch): no round trip, and a
         * switch without meters is never asked about them */
        memset(res, 0, sizeof *res);
        res->ok = true;
        res->failed_index = -1;
        return true;
    }
    struct ofp_meter *have = NULL;
    size_t n_have = 0;
    if (!prov_net_meter_dump(n, switch_id, timeout_ms, &have, &n_have, res))
        return false;
    struct ofp_meter *mods = calloc(n_want + 1, sizeof *mods);
    long *origin = calloc(n_want + 1, sizeof *origin);
    if (mods == NULL || origin == NULL) {
        free(mods), free(origin), free(have);
        memset(res, 0, sizeof *res);
        msgf(res->message, sizeof res->message, "out of memory");
        return false;
    }
    size_t nm = 0;
    for (size_t i = 0; i < n_want; i++) {
        if (want[i].switch_id != switch_id)
            continue;
        const struct ofp_meter *h = find_meter(have, n_have, (uint32_t)want[i].meter_id);
        struct ofp_meter w;
        want_meter(&want[i], h ? OFPMC_MODIFY : OFPMC_ADD, &w);
        if (h && ofp_meter_equal(h, &w))
            continue;
        origin[nm] = (long)i;
        mods[nm++] = w;
    }
    free(have);
    bool ok = true;
    if (nm > 0)
        ok = prov_net_meter_batch(n, switch_id, mods, nm, timeout_ms, res);
    if (!ok && res->failed_index >= 0 && (size_t)res->failed_index < nm)
        *failed_want = origin[res->failed_index];
    free(mods);
    free(origin);
    return ok;
}

bool prov_delete_meters(prov_net *n, long long switch_id, const db_prov_meter *known,
                        size_t n_known, int timeout_ms, prov_result *res)
{
    struct ofp_meter *mods = calloc(n_known + 1, sizeof *mods);
    memset(res, 0, sizeof *res);
    res->failed_index = -1;
    if (mods == NULL) {
        msgf(res->message, sizeof res->message, "out of memory");
        return false;
    }
    size_t nm = 0;
    for (size_t i = 0; i < n_known; i++)
        if (known[i].switch_id == switch_id)
            ofp_meter_init(&mods[nm++], OFPMC_DELETE, 0, (uint32_t)known[i].meter_id);
    bool ok = true;
    res->ok = true;
    if (nm)
        ok = prov_net_meter_batch(n, switch_id, mods, nm, timeout_ms, res);
    /* a meter already gone (unknown_meter) is what a delete wants */
    if (!ok && !res->unreachable && res->err_type == OFPET_METER_MOD_FAILED &&
        res->err_code == 3)
        ok = res->ok = true;
    free(mods);
    return ok;
}

/* ------------------------------------------------------------ reconcile */

static void add_example(json_t *arr, const char *what, const struct ofp_flow *f)
{
    if (json_array_size(arr) >= 10)
        return;
    char text[512];
    ofp_format_flow(f, text, sizeof text);
    json_array_append_new(arr, json_pack("{s:s, s:s}", "what", what, "flow", text));
}

struct audit_ctx {
    const char *actor;
    const char *switch_name;
    long long switch_id;
    const prov_drift *d;
    json_t *examples;
    json_t *meters;
};

static pf_kind audit_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct audit_ctx *x = vctx;
    json_t *after = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:O}", "switch",
                              x->switch_name, "desired", x->d->desired, "added", x->d->added,
                              "modified", x->d->modified, "removed", x->d->removed, "unchanged",
                              x->d->unchanged, "foreign", x->d->foreign, "flows", x->examples);
    if (json_array_size(x->meters) > 0)
        json_object_set_new(after, "meters",
                            json_pack("{s:i, s:i, s:i, s:i, s:O}", "added", x->d->meters_added,
                                      "modified", x->d->meters_modified, "removed",
                                      x->d->meters_removed, "foreign", x->d->meters_foreign,
                                      "changes", x->meters));
    char *a = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(after);
    char ids[24];
    msgf(ids, sizeof ids, "%lld", x->switch_id);
    db_audit_event ev = {.actor_kind = "system",
                         .actor_label = x->actor,
                         .action = "fabric.drift_repaired",
                         .object_type = "switch",
                         .object_id = ids,
                         .after = a};
    pf_kind k = db_audit_append(c, &ev, err);
    free(a);
    return k;
}

/* qsort has no context argument; the array being sorted is set just
 * before the (single-threaded per call) sort. */
static __thread const struct ofp_flow_entry *sort_have;

static int cmp_have(const void *a, const void *b)
{
    return prov_flow_entry_cmp(&sort_have[*(const size_t *)a].flow,
                               &sort_have[*(const size_t *)b].flow);
}

/* The index in have of the entry of w, or -1; order sorts have. */
static long find_entry(const struct ofp_flow *w, const struct ofp_flow_entry *have,
                       const size_t *order, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = prov_flow_entry_cmp(&have[order[mid]].flow, w);
        if (c == 0)
            return (long)order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Mods are pushed to the switch in pieces of this many; a reconcile with
 * fewer to send goes as one batch at the end (prov_net_batch). */
#define REC_PIECE 512

/* The state of a reconcile while the desired flows stream in. */
struct rec_ctx {
    prov_net *n;
    long long switch_id;
    const struct ofp_flow_entry *have;
    size_t n_have;
    size_t *order;  /* have, sorted by entry */
    bool *matched;  /* have[j] is desired */
    prov_drift *out;
    json_t *examples;
    size_t n_desired, bad;
    struct ofp_flow *mods;
    size_t nm, cap_mods;
    prov_stream *stream; /* NULL until the first piece (or when the switch
                            does not take bundles: one batch at the end) */
    bool no_stream;
    size_t pushed;
    bool oom;
};

/* Room for one more mod (mods[x->nm]), or NULL (x->oom). */
static struct ofp_flow *rec_mod(struct rec_ctx *x)
{
    if (x->nm == x->cap_mods) {
        size_t cap = x->cap_mods ? x->cap_mods * 2 : 256;
        struct ofp_flow *m = realloc(x->mods, cap * sizeof *m);
        if (m == NULL) {
            x->oom = true;
            return NULL;
        }
        x->mods = m;
        x->cap_mods = cap;
    }
    return &x->mods[x->nm];
}

/* One desired flow: unchanged, or a mod to send (added or modified). */
static void rec_flow(struct rec_ctx *x, const struct ofp_flow *w)
{
    x->n_desired++;
    if (w->n_unknown)
        return; /* a row that does not parse: never install a guess */
    long entry = find_entry(w, x->have, x->order, x->n_have);
    if (entry >= 0) {
        x->matched[entry] = true;
        if (prov_flow_same(w, &x->have[entry].flow)) {
            x->out->unchanged++;
            return;
        }
        x->out->modified++;
        add_example(x->examples, "modified", w);
    } else {
        x->out->added++;
        add_example(x->examples, "added", w);
    }
    struct ofp_flow *m = rec_mod(x);
    if (m == NULL)
        return;
    add_of(w, m);
    x->nm++;
    if (x->nm - x->pushed < REC_PIECE || x->no_stream)
        return;
    if (x->stream == NULL && (x->stream = prov_net_stream_open(x->n, x->switch_id)) == NULL) {
        x->no_stream = true; /* prov_net_batch at the end says why */
        return;
    }
    /* a failed stream is told by prov_net_stream_finish */
    if (prov_net_stream_push(x->stream, x->mods, x->nm))
        x->pushed = x->nm;
    else
        x->no_stream = true;
}

static int rec_row(void *arg, const db_prov_flow *row)
{
    struct rec_ctx *x = arg;
    struct ofp_flow w;
    size_t bad = 0;
    char why[128];
    if (prov_flow_from_json(row->match, row->actions, row->table_id, row->priority,
                            (uint64_t)row->cookie, &w, why) != 0) {
        bad = 1;
        w.n_unknown = 1; /* as prov_flows_from_rows marks it */
    }
    x->bad += bad;
    rec_flow(x, &w);
    return x->oom ? -1 : 0;
}

pf_kind prov_reconcile_switch(prov_net *n, db_conn *db, long long switch_id,
                              const char *switch_name, const char *actor, int timeout_ms,
                              prov_drift *out, pf_err *err)
{
    memset(out, 0, sizeof *out);
    double t0 = mono_ms();
    prov_result res;
    struct ofp_flow_stats_req req;
    ofp_flow_stats_req_init(&req);
    struct ofp_flow_entry *have = NULL;
    size_t n_have = 0;
    if (!prov_net_dump(n, switch_id, &req, timeout_ms, &have, &n_have, &res))
        return pf_fail(err, res.unreachable ? PF_EUNAVAIL : PF_ECONFLICT,
                       res.unreachable ? "switch_unreachable" : "openflow_error", NULL,
                       "cannot read the flows of %s: %s", switch_name, res.message);
    struct ofp_meter *mhave = NULL;
    size_t n_mhave = 0;
    if (!prov_net_meter_dump(n, switch_id, timeout_ms, &mhave, &n_mhave, &res)) {
        if (res.unreachable) {
            free(have);
            return pf_fail(err, PF_EUNAVAIL, "switch_unreachable", NULL,
                           "cannot read the meters of %s: %s", switch_name, res.message);
        }
        /* a switch without meters refuses the request: its flows are
         * still reconciled (a capped circuit's meter adds then fail) */
        mhave = NULL;
        n_mhave = 0;
    }
    /* the desired meters and flows, read after the dumps (see fabric.h),
     * in one transaction: the meters first, their mods sent and
     * confirmed before any flow that uses them; then the flows, streamed
     * (below) */
    db_prov_meter *mwant = NULL;
    size_t n_mwant = 0;
    db_scope scope = db_scope_system();
    pf_kind k = db_begin(db, &scope, err);
    if (k == PF_OK) {
        k = db_prov_desired_meters(db, switch_id, &mwant, &n_mwant, err);
        if (k != PF_OK)
            db_rollback(db);
    }
    if (k != PF_OK) {
        free(have), free(mhave), free(mwant);
        return k;
    }
    /* Meters before flows: a flow whose meter is missing is refused, and
     * a meter deleted takes its flows with it, so additions and rate
     * fixes go first and the deletion of orphans last. */
    struct ofp_meter *mmods = calloc(n_mwant + n_mhave + 1, sizeof *mmods);
    size_t n_madd = 0, n_mdel = 0;
    json_t *mexamples = json_array();
    if (mmods == NULL) {
        db_rollback(db);
        free(have), free(mhave), free(mwant);
        json_decref(mexamples);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (size_t i = 0; i < n_mwant; i++) {
        const struct ofp_meter *h = find_meter(mhave, n_mhave, (uint32_t)mwant[i].meter_id);
        struct ofp_meter w;
        want_meter(&mwant[i], h ? OFPMC_MODIFY : OFPMC_ADD, &w);
        if (h && ofp_meter_equal(h, &w)) {
            out->meters_unchanged++;
            continue;
        }
        char text[200];
        ofp_format_meter(&w, text, sizeof text);
        if (json_array_size(mexamples) < 10)
            json_array_append_new(mexamples, json_pack("{s:s, s:s}", "what",
                                                       h ? "modified" : "added", "meter", text));
        if (h)
            out->meters_modified++;
        else
            out->meters_added++;
        mmods[n_madd++] = w;
    }
    for (size_t j = 0; j < n_mhave; j++) {
        bool wanted = false;
        for (size_t i = 0; i < n_mwant && !wanted; i++)
            wanted = (uint32_t)mwant[i].meter_id == mhave[j].meter_id;
        if (wanted)
            continue;
        if (((long long)mhave[j].meter_id & DB_PROV_METER_TAG_MASK) != DB_PROV_METER_TAG) {
            out->meters_foreign++;
            continue;
        }
        out->meters_removed++;
        char text[200];
        ofp_format_meter(&mhave[j], text, sizeof text);
        if (json_array_size(mexamples) < 10)
            json_array_append_new(mexamples,
                                  json_pack("{s:s, s:s}", "what", "removed", "meter", text));
        ofp_meter_init(&mmods[n_madd + n_mdel++], OFPMC_DELETE, 0, mhave[j].meter_id);
    }
    free(mhave);
    free(mwant);
    if (n_madd > 0 && !prov_net_meter_batch(n, switch_id, mmods, n_madd, timeout_ms, &res)) {
        db_rollback(db);
        free(have), free(mmods);
        json_decref(mexamples);
        return pf_fail(err, res.unreachable ? PF_EUNAVAIL : PF_ECONFLICT,
                       res.unreachable ? "switch_unreachable" : "openflow_error", NULL,
                       "reconciling the meters of %s: %s", switch_name, res.message);
    }

    /* The switch's flows sorted by entry: each desired flow is found by
     * binary search, so a healthy switch of N flows costs N log N. */
    struct rec_ctx rc = {.n = n, .switch_id = switch_id, .have = have, .n_have = n_have,
                        .out = out, .examples = json_array()};
    rc.order = malloc((n_have + 1) * sizeof *rc.order);
    rc.matched = calloc(n_have + 1, sizeof *rc.matched);
    if (rc.order == NULL || rc.matched == NULL || rc.examples == NULL) {
        db_rollback(db);
        free(rc.order), free(rc.matched), free(have), free(mmods);
        json_decref(rc.examples), json_decref(mexamples);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    for (size_t j = 0; j < n_have; j++)
        rc.order[j] = j;
    sort_have = have;
    qsort(rc.order, n_have, sizeof *rc.order, cmp_have);
    /* Each desired flow is compared as its row arrives, and what is to be
     * sent goes out in pieces: the switch checks the first mods of the
     * bundle while PostgreSQL still sends the rest (a big switch's
     * install costs the longer of the two, not their sum). */
    k = db_prov_desired_flows_each(db, switch_id, rec_row, &rc, err);
    db_rollback(db);
    if (k == PF_OK && rc.oom)
        k = pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    if (k == PF_OK) {
        /* the table-miss flow, last as it always was */
        struct ofp_flow miss;
        prov_table_miss(&miss);
        rec_flow(&rc, &miss);
        for (size_t j = 0; j < n_have; j++) {
            if (rc.matched[j])
                continue;
            if (!prov_cookie_owned(have[j].flow.cookie) || have[j].flow.n_unknown) {
                out->foreign++;
                continue;
            }
            out->removed++;
            add_example(rc.examples, "removed", &have[j].flow);
            struct ofp_flow *d = rec_mod(&rc);
            if (d == NULL)
                break;
            strict_delete(&have[j].flow, d);
            rc.nm++;
        }
        if (rc.oom)
            k = pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    out->desired = (int)(rc.n_desired - rc.bad);
    out->found = (int)n_have;
    free(have);
    free(rc.matched);
    free(rc.order);
    if (k != PF_OK) {
        prov_net_stream_abort(rc.stream);
        free(rc.mods), free(mmods);
        json_decref(rc.examples), json_decref(mexamples);
        return k;
    }
    bool sent = true;
    if (rc.stream)
        sent = prov_net_stream_finish(rc.stream, rc.mods, rc.nm, timeout_ms, &res);
    else if (rc.nm > 0)
        sent = prov_net_batch(n, switch_id, rc.mods, rc.nm, timeout_ms, &res);
    if (!sent) {
        char text[256] = "";
        if (res.failed_index >= 0 && (size_t)res.failed_index < rc.nm)
            ofp_format_flow(&rc.mods[res.failed_index], text, sizeof text);
        k = pf_fail(err, res.unreachable ? PF_EUNAVAIL : PF_ECONFLICT,
                    res.unreachable ? "switch_unreachable" : "openflow_error", NULL,
                    "reconciling %s: %s%s%s", switch_name, res.message, text[0] ? " on flow " : "",
                    text);
    }
    free(rc.mods);
    if (k == PF_OK && n_mdel > 0 &&
        !prov_net_meter_batch(n, switch_id, mmods + n_madd, n_mdel, timeout_ms, &res))
        k = pf_fail(err, res.unreachable ? PF_EUNAVAIL : PF_ECONFLICT,
                    res.unreachable ? "switch_unreachable" : "openflow_error", NULL,
                    "deleting orphan meters on %s: %s", switch_name, res.message);
    free(mmods);
    out->ms = mono_ms() - t0;
    if (out->added + out->modified + out->removed + out->meters_added + out->meters_modified +
            out->meters_removed >
        0) {
        struct audit_ctx x = {.actor = actor ? actor : "provisioner",
                              .switch_name = switch_name,
                              .switch_id = switch_id,
                              .d = out,
                              .examples = rc.examples,
                              .meters = mexamples};
        pf_err aerr;
        pf_kind ak = db_run_tx(db, &scope, audit_tx, &x, &aerr);
        if (k == PF_OK && ak != PF_OK) {
            *err = aerr;
            k = ak;
        }
    }
    json_decref(rc.examples);
    json_decref(mexamples);
    return k;
}
