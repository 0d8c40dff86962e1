/* prov_counters: see counters.h. */
#include "provisioner/counters.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/traffic.h"
#include "provisioner/plan.h"
#include "workflow/traffic.h"

struct sw_flows {
    long long switch_id;
    bool ok;
    struct ofp_flow_entry *e;
    size_t n;
    bool metered, mok; /* holds a meter of a capped circuit; its stats read */
    struct ofp_meter_stats_entry *m;
    size_t nm;
};

static struct sw_flows *find_sw(struct sw_flows *v, size_t n, long long id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].switch_id == id)
            return &v[i];
    return NULL;
}

/* The ingress flow of one end: the circuit's cookie, matching its port. */
static void reading_of(const struct sw_flows *sw, uint64_t cookie, long long ofport,
                       wf_traffic_reading *r)
{
    memset(r, 0, sizeof *r);
    if (sw == NULL || !sw->ok)
        return;
    for (size_t i = 0; i < sw->n; i++) {
        const struct ofp_flow *f = &sw->e[i].flow;
        if (f->cookie == cookie && f->match.has_in_port && (long long)f->match.in_port == ofport) {
            r->present = true;
            r->bytes = sw->e[i].byte_count;
            r->packets = sw->e[i].packet_count;
            r->duration_s = sw->e[i].duration_sec;
            return;
        }
    }
}

/* The drops of one meter: its drop band's packets (peerflow's meters have
 * one band; every band is summed so a second one would count too). */
static void drops_of(const struct sw_flows *sw, long long meter_id, wf_traffic_reading *r)
{
    memset(r, 0, sizeof *r);
    if (sw == NULL || !sw->mok || meter_id == 0)
        return;
    for (size_t i = 0; i < sw->nm; i++) {
        const struct ofp_meter_stats_entry *m = &sw->m[i];
        if ((long long)m->meter_id != meter_id)
            continue;
        r->present = true;
        for (size_t b = 0; b < m->n_bands; b++)
            r->packets += m->bands[b].packets;
        r->duration_s = m->duration_sec;
        return;
    }
}

static pf_kind circuits_tx(db_conn *c, void *v, pf_err *err)
{
    void **a = v;
    return db_traffic_circuits(c, (db_traffic_circuit **)a[0], (size_t *)a[1], err);
}

pf_kind prov_counters_poll(prov_net *n, db_conn *db, int timeout_ms,
                           prov_counters_report *rep, pf_err *err)
{
    memset(rep, 0, sizeof *rep);
    db_traffic_circuit *cs = NULL;
    size_t nc = 0;
    void *args[2] = {&cs, &nc};
    db_scope scope = db_scope_system();
    pf_kind k = db_run_read(db, &scope, circuits_tx, args, err);
    if (k)
        return k;
    rep->circuits = (int)nc;
    struct sw_flows *sw = calloc(2 * nc + 1, sizeof *sw);
    if (sw == NULL) {
        free(cs);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    size_t ns = 0;
    for (size_t i = 0; i < nc; i++) {
        long long ids[2] = {cs[i].a_switch, cs[i].b_switch};
        for (int j = 0; j < 2; j++)
            if (find_sw(sw, ns, ids[j]) == NULL)
                sw[ns++].switch_id = ids[j];
        /* a meter sits on its end's switch, which is already in the list */
        long long ms[2] = {cs[i].a_meter ? cs[i].a_meter_switch : 0,
                           cs[i].b_meter ? cs[i].b_meter_switch : 0};
        for (int j = 0; j < 2; j++) {
            struct sw_flows *f = ms[j] ? find_sw(sw, ns, ms[j]) : NULL;
            if (f != NULL)
                f->metered = true;
        }
    }
    /* one dump per switch: every flow of peerflow's (cookie tag) */
    struct ofp_flow_stats_req req;
    ofp_flow_stats_req_init(&req);
    req.cookie = PROV_COOKIE_TAG;
    req.cookie_mask = PROV_COOKIE_TAG_MASK;
    for (size_t i = 0; i < ns; i++) {
        rep->switches++;
        prov_result res;
        /* the master only: two provisioners would record each reading twice */
        if (!prov_net_is_master(n, sw[i].switch_id) ||
            !prov_net_dump(n, sw[i].switch_id, &req, timeout_ms, &sw[i].e, &sw[i].n, &res)) {
            rep->unreachable++;
            continue;
        }
        sw[i].ok = true;
        /* meter stats only where a capped circuit has a meter: one more
         * round trip on those switches, none on the others */
        if (sw[i].metered)
            sw[i].mok = prov_net_meter_stats(n, sw[i].switch_id, timeout_ms, &sw[i].m,
                                             &sw[i].nm, &res);
    }
    wf_env env = {.db = db};
    k = PF_OK;
    for (size_t i = 0; i < nc && k == PF_OK; i++) {
        uint64_t cookie = prov_cookie(cs[i].circuit_id);
        wf_traffic_reading r[2];
        reading_of(find_sw(sw, ns, cs[i].a_switch), cookie, cs[i].a_ofport, &r[DB_TRAFFIC_AB]);
        reading_of(find_sw(sw, ns, cs[i].b_switch), cookie, cs[i].b_ofport, &r[DB_TRAFFIC_BA]);
        if (r[0].present || r[1].present) {
            k = wf_traffic_record(&env, cs[i].circuit_id, r, 0, NULL, err);
            /* a circuit removed meanwhile (foreign key) is not a failure */
            if (k == PF_ECONFLICT || k == PF_EINVALID || k == PF_ENOTFOUND)
                k = PF_OK;
            else if (k == PF_OK)
                rep->sampled++;
        }
        if (k != PF_OK || (cs[i].a_meter == 0 && cs[i].b_meter == 0))
            continue;
        wf_traffic_reading d[2];
        drops_of(find_sw(sw, ns, cs[i].a_meter_switch), cs[i].a_meter, &d[DB_TRAFFIC_AB]);
        drops_of(find_sw(sw, ns, cs[i].b_meter_switch), cs[i].b_meter, &d[DB_TRAFFIC_BA]);
        if (!d[0].present && !d[1].present)
            continue;
        long long mid[2] = {cs[i].a_meter, cs[i].b_meter};
        k = wf_traffic_record_drops(&env, cs[i].circuit_id, d, mid, 0, err);
        if (k == PF_ECONFLICT || k == PF_EINVALID || k == PF_ENOTFOUND)
            k = PF_OK;
        else if (k == PF_OK)
            rep->metered++;
    }
    for (size_t i = 0; i < ns; i++) {
        free(sw[i].e);
        free(sw[i].m);
    }
    free(sw);
    free(cs);
    return k;
}

struct prov_counters {
    prov_net *net;
    char *database_url;
    int interval_ms, timeout_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    unsigned long polls;
};

static void *poller_main(void *arg)
{
    prov_counters *c = arg;
    db_conn *db = NULL;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
        pf_err err;
        if (db == NULL)
            db = db_connect_as(c->database_url, DB_ROLE_WORKER, &err);
        if (db != NULL) {
            prov_counters_report rep;
            prov_counters_poll(c->net, db, c->timeout_ms, &rep, &err);
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += c->interval_ms / 1000;
        ts.tv_nsec += (long)(c->interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_mutex_lock(&c->mu);
        c->polls++;
        pthread_cond_broadcast(&c->cv);
        while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0)
            ;
        pthread_mutex_unlock(&c->mu);
    }
    db_close(db);
    return NULL;
}

prov_counters *prov_counters_start(prov_net *n, const char *database_url, int interval_ms,
                                   int timeout_ms, pf_err *err)
{
    prov_counters *c = calloc(1, sizeof *c);
    if (c == NULL || (c->database_url = strdup(database_url)) == NULL) {
        free(c);
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        return NULL;
    }
    c->net = n;
    c->interval_ms = interval_ms > 0 ? interval_ms : PROV_COUNTER_INTERVAL_MS;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&c->thread, NULL, poller_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c->database_url);
        free(c);
        pf_fail(err, PF_EINTERNAL, "thread_failed", NULL, "could not start the counter poller");
        return NULL;
    }
    return c;
}

void prov_counters_stop(prov_counters *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->database_url);
    free(c);
}

unsigned long prov_counters_polls(prov_counters *c)
{
    pthread_mutex_lock(&c->mu);
    unsigned long p = c->polls;
    pthread_mutex_unlock(&c->mu);
    return p;
}
