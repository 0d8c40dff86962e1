/* wf_traffic: see traffic.h. */
#include "workflow/traffic.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Counters beyond this are not a real reading (OVS reports UINT64_MAX for
 * a counter it does not keep); PostgreSQL's bigint also ends here. */
#define MAX_COUNTER ((uint64_t)INT64_MAX)

void wf_traffic_delta(const db_traffic_last *prev, const wf_traffic_reading *cur,
                      wf_traffic_step *out)
{
    memset(out, 0, sizeof *out);
    long long b = (long long)(cur->bytes > MAX_COUNTER ? 0 : cur->bytes);
    long long p = (long long)(cur->packets > MAX_COUNTER ? 0 : cur->packets);
    /* A flow's counters start at zero when it is installed: the first
     * reading is what crossed since then (a new circuit's first pings come
     * before the first poll). */
    if (!prev->exists) {
        out->first = true;
        out->bytes = b;
        out->packets = p;
        return;
    }
    /* A flow younger than the time since the last reading was added after
     * it: its counters started at zero inside this interval. */
    double expected_age = (double)prev->last_duration_s + prev->age_s - WF_TRAFFIC_AGE_SLACK_S;
    bool younger = (double)cur->duration_s < expected_age;
    if (b < prev->last_bytes || p < prev->last_packets || younger) {
        out->new_segment = true;
        out->bytes = b;
        out->packets = p;
        return;
    }
    out->bytes = b - prev->last_bytes;
    out->packets = p - prev->last_packets;
}

struct record_ctx {
    long long circuit_id;
    const wf_traffic_reading *r;
    double at;
    bool sampled;
};

static pf_kind record_tx(db_conn *c, void *v, pf_err *err)
{
    struct record_ctx *x = v;
    x->sampled = false;
    db_traffic_last last[2];
    pf_kind k = db_traffic_last_get(c, x->circuit_id, x->at, last, err);
    if (k)
        return k;
    long long d[4] = {0, 0, 0, 0};
    double seconds = 0;
    bool any = false;
    for (int dir = 0; dir < 2; dir++) {
        const wf_traffic_reading *r = &x->r[dir];
        if (!r->present)
            continue;
        wf_traffic_step s;
        wf_traffic_delta(&last[dir], r, &s);
        bool moved = s.bytes > 0 || s.packets > 0;
        /* Idle: the counter is where it was, nothing is written - not even
         * the reading's time. The next difference is then taken from the
         * last stored reading, which is the same number. */
        if (!moved && !s.first && !s.new_segment)
            continue;
        long long bytes = (long long)(r->bytes > MAX_COUNTER ? 0 : r->bytes);
        long long packets = (long long)(r->packets > MAX_COUNTER ? 0 : r->packets);
        k = db_traffic_put(c, x->circuit_id, dir, bytes, packets, (long long)r->duration_s,
                           s.bytes, s.packets, s.new_segment, x->at, err);
        if (k)
            return k;
        /* A flow found already old (peerflow started after the circuit):
         * its counter goes to the totals, but when it crossed is not
         * known, so it is no sample (it would be one absurd spike). */
        if (!moved || (s.first && r->duration_s > WF_TRAFFIC_FIRST_MAX_AGE_S))
            continue;
        d[dir * 2] = s.bytes;
        d[dir * 2 + 1] = s.packets;
        /* the time the difference was counted over: since the last stored
         * reading (idle polls in between wrote nothing), or the new flow's
         * age */
        double over = s.first ? (double)r->duration_s : last[dir].age_s;
        if (over > seconds)
            seconds = over;
        any = true;
    }
    if (!any)
        return PF_OK;
    if (seconds < 1)
        seconds = 1;
    k = db_traffic_sample(c, x->circuit_id, x->at, seconds, d, err);
    x->sampled = k == PF_OK;
    return k;
}

pf_kind wf_traffic_record(const wf_env *env, long long circuit_id, const wf_traffic_reading r[2],
                          double at_epoch, bool *sampled, pf_err *err)
{
    struct record_ctx x = {.circuit_id = circuit_id, .r = r, .at = at_epoch};
    db_scope s = db_scope_system();
    pf_kind k = db_run_tx(env->db, &s, record_tx, &x, err);
    if (sampled)
        *sampled = k == PF_OK && x.sampled;
    return k;
}

struct drops_ctx {
    long long circuit_id;
    const wf_traffic_reading *r;
    const long long *meter_id;
    double at;
};

static pf_kind drops_tx(db_conn *c, void *v, pf_err *err)
{
    struct drops_ctx *x = v;
    db_traffic_drops last[2];
    pf_kind k = db_traffic_drops_get(c, x->circuit_id, x->at, last, err);
    if (k)
        return k;
    for (int dir = 0; dir < 2; dir++) {
        const wf_traffic_reading *r = &x->r[dir];
        /* a reading of a meter the circuit no longer has (re-planned or
         * removed meanwhile) counts for nothing */
        if (!r->present || !last[dir].metered || last[dir].meter_id != x->meter_id[dir])
            continue;
        /* the same rules as a flow's packets: a meter re-added (counter or
         * age went backwards) starts a new segment, so the total never
         * falls; an unchanged counter writes nothing */
        wf_traffic_step s;
        wf_traffic_delta(&last[dir].last, r, &s);
        if (s.packets == 0 && !s.first && !s.new_segment)
            continue;
        long long packets = (long long)(r->packets > MAX_COUNTER ? 0 : r->packets);
        k = db_traffic_drops_put(c, x->circuit_id, dir, x->meter_id[dir], packets,
                                 (long long)r->duration_s, s.packets, x->at, err);
        if (k)
            return k;
    }
    return PF_OK;
}

pf_kind wf_traffic_record_drops(const wf_env *env, long long circuit_id,
                                const wf_traffic_reading r[2], const long long meter_id[2],
                                double at_epoch, pf_err *err)
{
    struct drops_ctx x = {.circuit_id = circuit_id, .r = r, .meter_id = meter_id, .at = at_epoch};
    db_scope s = db_scope_system();
    return db_run_tx(env->db, &s, drops_tx, &x, err);
}

static pf_kind rollup_tx(db_conn *c, void *v, pf_err *err)
{
    return db_traffic_rollup(c, *(double *)v, err);
}

pf_kind wf_traffic_rollup(const wf_env *env, double at_epoch, pf_err *err)
{
    db_scope s = db_scope_system();
    return db_run_tx(env->db, &s, rollup_tx, &at_epoch, err);
}

/* ------------------------------------------------------------ the query */

#define DAY (24 * 3600LL)
#define MAX_POINTS 2000
#define DEFAULT_POINTS 288
#define RAW_KEPT (48 * 3600LL)
#define FIVE_MIN_KEPT (90 * DAY)
#define MAX_SPAN (2 * 366 * DAY)

static bool parse_time(const char *s, long long *out)
{
    char *end;
    errno = 0;
    if (*s && isdigit((unsigned char)*s)) {
        long long v = strtoll(s, &end, 10);
        if (errno == 0 && *end == '\0' && v >= 0) {
            *out = v;
            return true;
        }
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M", &tm);
    if (rest == NULL)
        return false;
    if (*rest == ':') {
        rest = strptime(rest, ":%S", &tm);
        if (rest == NULL)
            return false;
    }
    if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
        return false;
    *out = (long long)timegm(&tm);
    return true;
}

/* "300", "5m", "1h", "1d" -> seconds; 0 when malformed. */
static long long parse_span(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || v <= 0 || end == s)
        return 0;
    long long mul = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mul = 60, end++;
    else if (*end == 'h')
        mul = 3600, end++;
    else if (*end == 'd')
        mul = DAY, end++;
    if (*end != '\0' || v > MAX_SPAN / mul)
        return 0;
    return v * mul;
}

static int tier_res(db_traffic_tier t)
{
    return t == DB_TRAFFIC_1H ? 3600 : t == DB_TRAFFIC_5M ? 300 : 10;
}

pf_kind wf_traffic_query_parse(const char *from, const char *to, const char *step,
                               const char *range, long long now, wf_traffic_query *q,
                               pf_err *err)
{
    memset(q, 0, sizeof *q);
    q->to = now;
    q->from = now - DAY;
    if (range) {
        if (from || to)
            return pf_fail(err, PF_EINVALID, "range_and_from", "range",
                           "give either range or from/to, not both");
        long long span = 0;
        if (strcmp(range, "1h") == 0 || strcmp(range, "24h") == 0 || strcmp(range, "7d") == 0 ||
            strcmp(range, "30d") == 0)
            span = parse_span(range);
        if (span == 0)
            return pf_fail(err, PF_EINVALID, "bad_range", "range",
                           "range must be 1h, 24h, 7d or 30d");
        q->from = now - span;
    }
    if (to && !parse_time(to, &q->to))
        return pf_fail(err, PF_EINVALID, "bad_time", "to",
                       "to must be Unix seconds or UTC like 2026-12-01T08:15Z");
    if (from && !parse_time(from, &q->from))
        return pf_fail(err, PF_EINVALID, "bad_time", "from",
                       "from must be Unix seconds or UTC like 2026-12-01T08:15Z");
    if (from == NULL && to != NULL && range == NULL)
        q->from = q->to - DAY;
    if (q->from >= q->to)
        return pf_fail(err, PF_EINVALID, "empty_range", "from", "from must be before to");
    if (q->to - q->from > MAX_SPAN)
        return pf_fail(err, PF_EINVALID, "range_too_long", "from",
                       "at most 2 years at once (hourly data are kept 2 years)");
    long long span = q->to - q->from;
    long long want = 0;
    if (step) {
        want = parse_span(step);
        if (want == 0)
            return pf_fail(err, PF_EINVALID, "bad_step", "step",
                           "step must be seconds, or like 5m, 1h, 1d");
    } else {
        want = (span + DEFAULT_POINTS - 1) / DEFAULT_POINTS;
    }
    /* The finest tier that still holds data for `from`, and no finer than
     * the step asks for. */
    if (want < 300 && q->from >= now - RAW_KEPT)
        q->tier = DB_TRAFFIC_RAW;
    else if (want < 3600 && q->from >= now - FIVE_MIN_KEPT)
        q->tier = DB_TRAFFIC_5M;
    else
        q->tier = DB_TRAFFIC_1H;
    long long res = tier_res(q->tier);
    want = (want + res - 1) / res * res;
    if (span / want > MAX_POINTS)
        return pf_fail(err, PF_EINVALID, "too_many_points", "step",
                       "at most %d points: use a step of at least %llds", MAX_POINTS,
                       (span + MAX_POINTS - 1) / MAX_POINTS);
    q->step = (int)want;
    /* whole buckets, so each point sums the same length of time */
    q->from = q->from / q->step * q->step;
    return PF_OK;
}

static const char *tier_name(db_traffic_tier t)
{
    return t == DB_TRAFFIC_1H ? "1h" : t == DB_TRAFFIC_5M ? "5m" : "raw";
}

struct series_ctx {
    long long id;
    const wf_traffic_query *q;
    json_t *req;
    db_traffic_point *pts;
    size_t n;
};

static pf_kind series_tx(db_conn *c, void *v, pf_err *err)
{
    struct series_ctx *x = v;
    pf_kind k = db_traffic_request_json(c, x->id, &x->req, err);
    if (k)
        return k;
    return db_traffic_series(c, x->id, x->q->tier, x->q->from, x->q->to, x->q->step, &x->pts,
                             &x->n, err);
}

static void iso(long long t, char buf[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

pf_kind wf_traffic_series(const wf_env *env, const wf_actor *who, long long request_id,
                          const wf_traffic_query *q, json_t **out, pf_err *err)
{
    *out = NULL;
    struct series_ctx x = {.id = request_id, .q = q};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, series_tx, &x, err);
    if (k) {
        json_decref(x.req);
        free(x.pts);
        return k;
    }
    json_t *points = json_array();
    double max_bps = 0;
    size_t j = 0;
    /* Before the first reading nothing is known (null); after it, a step
     * without a sample is one where no counter moved (zero). */
    json_t *since_j = json_object_get(x.req, "counted_since");
    long long since = json_is_integer(since_j) ? (long long)json_integer_value(since_j) : LLONG_MAX;
    for (long long t = q->from; t < q->to; t += q->step) {
        while (j < x.n && x.pts[j].t < t)
            j++;
        char at[32];
        iso(t, at);
        json_t *p = json_pack("{sIss}", "t", (json_int_t)t, "at", at);
        if (j < x.n && x.pts[j].t == t) {
            double ab = (double)x.pts[j].v[0] * 8.0 / q->step;
            double ba = (double)x.pts[j].v[2] * 8.0 / q->step;
            json_object_set_new(p, "a_to_b_bps", json_real(ab));
            json_object_set_new(p, "b_to_a_bps", json_real(ba));
            json_object_set_new(p, "a_to_b_pps", json_real((double)x.pts[j].v[1] / q->step));
            json_object_set_new(p, "b_to_a_pps", json_real((double)x.pts[j].v[3] / q->step));
            if (ab > max_bps)
                max_bps = ab;
            if (ba > max_bps)
                max_bps = ba;
        } else if (since != LLONG_MAX && t + q->step > since) {
            json_object_set_new(p, "a_to_b_bps", json_real(0));
            json_object_set_new(p, "b_to_a_bps", json_real(0));
            json_object_set_new(p, "a_to_b_pps", json_real(0));
            json_object_set_new(p, "b_to_a_pps", json_real(0));
        } else {
            json_object_set_new(p, "a_to_b_bps", json_null());
            json_object_set_new(p, "b_to_a_bps", json_null());
            json_object_set_new(p, "a_to_b_pps", json_null());
            json_object_set_new(p, "b_to_a_pps", json_null());
        }
        json_array_append_new(points, p);
    }
    free(x.pts);
    char f[32], t[32], cs[32];
    iso(q->from, f);
    iso(q->to, t);
    if (since != LLONG_MAX)
        iso(since, cs);
    json_t *a = json_object_get(x.req, "a"), *b = json_object_get(x.req, "b");
    *out = json_pack("{sOsssssisssssfsosOsOso}", "request_id",
                     json_object_get(x.req, "request_id"), "from", f, "to", t, "step", q->step,
                     "tier", tier_name(q->tier), "unit", "bits_per_second", "max_bps", max_bps,
                     "points", points, "a", a ? a : json_null(), "b", b ? b : json_null(),
                     "counted_since", since != LLONG_MAX ? json_string(cs) : json_null());
    json_decref(x.req);
    return PF_OK;
}

struct req_ctx {
    long long id;
    json_t *json;
};

static pf_kind req_tx(db_conn *c, void *v, pf_err *err)
{
    struct req_ctx *x = v;
    return db_traffic_request_json(c, x->id, &x->json, err);
}

pf_kind wf_traffic_request(const wf_env *env, const wf_actor *who, long long request_id,
                           json_t **out, pf_err *err)
{
    struct req_ctx x = {.id = request_id};
    db_scope s = wf_actor_scope(who);
    pf_kind k = db_run_read(env->db, &s, req_tx, &x, err);
    *out = k == PF_OK ? x.json : NULL;
    return k;
}
