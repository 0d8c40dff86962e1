/* prov_service: job workers, reconciler, and `peerflow reconcile`.
 * See prov.h and docs/fabric.md ("Jobs and leases"). */
#include "provisioner/prov.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/audit.h"
#include "db/mastership.h"
#include "db/provision.h"
#include "db/queue.h"
#include "provisioner/counters.h"
#include "workflow/changes.h"
#include "workflow/requests.h"
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


#define SW_LOCKS 64

struct worker {
    struct prov_service *svc;
    int index;
    pthread_t thread;
    char me[200];     /* jobs.locked_by */
    long long job_id; /* the job it works on, 0 when idle (under svc->mu) */
    bool lost;        /* the heartbeat found the job no longer ours (svc->mu) */
};

struct prov_service {
    prov_config cfg;
    char *database_url, *openflow_listen, *base_url, *mail_domain;
    char worker_name[160];
    prov_net *net;
    struct worker *workers;
    int n_workers;
    pthread_t reconciler;
    bool has_reconciler;
    pthread_t heartbeat;
    bool has_heartbeat;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    long long *pending;
    size_t n_pending, cap_pending;
    bool pending_all;
    unsigned long reconciles;
    pthread_mutex_t sw_locks[SW_LOCKS];
    prov_counters *counters; /* NULL when not polled */
    pthread_t master;
    bool has_master;
    bool standby; /* under mu: another process masters the fabric */
    bool master_stop; /* under mu: set once the workers are joined */
};

/* One switch's flows are changed by one thread of one process at a time:
 * a mutex between the threads of this process, an advisory lock in
 * PostgreSQL between processes (on the thread's own connection). If the
 * database is unreachable the work goes on with the mutex alone: the next
 * reconciliation repairs what an interleaving might leave. */
static void sw_lock(struct prov_service *s, db_conn *db, long long id)
{
    pthread_mutex_lock(&s->sw_locks[(unsigned long long)id % SW_LOCKS]);
    pf_err err;
    if (db)
        db_prov_switch_lock(db, id, &err);
}

static void sw_unlock(struct prov_service *s, db_conn *db, long long id)
{
    pf_err err;
    if (db)
        db_prov_switch_unlock(db, id, &err);
    pthread_mutex_unlock(&s->sw_locks[(unsigned long long)id % SW_LOCKS]);
}

/* Sleeps up to ms unless the service stops; returns whether it stops. */
static bool nap(struct prov_service *s, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000)
        ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_mutex_lock(&s->mu);
    while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT) {
    }
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static bool stopping(struct prov_service *s)
{
    pthread_mutex_lock(&s->mu);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* ------------------------------------------------------------ the jobs */

enum outcome_kind { O_DONE, O_FAILED, O_DEFER };

typedef struct {
    enum outcome_kind kind;
    int delay_ms;
    char msg[400];
    bool closed; /* the job row was ended with the request's last event */
} outcome;

struct job_ctx {
    struct prov_service *svc;
    struct worker *w;
    db_conn *db;
    wf_env env;
    wf_actor sys;
    const db_prov_job *job;
    char me[200];
};

struct claim_ctx {
    const char *me;
    int lease_s;
    db_prov_job *job;
};

static pf_kind claim_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct claim_ctx *x = vctx;
    return db_prov_job_claim(c, x->me, x->lease_s, x->job, err);
}

struct get_ctx {
    long long id;
    db_prov_request *r;
};

static pf_kind get_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct get_ctx *x = vctx;
    return db_prov_request_get(c, x->id, x->r, err);
}

static pf_kind request_state(struct job_ctx *j, db_prov_request *r, pf_err *err)
{
    struct get_ctx g = {j->job->request_id, r};
    db_scope scope = db_scope_system();
    return db_run_tx(j->db, &scope, get_tx, &g, err);
}

/* ---- planning: circuit, path, transport VLANs and flows, one transaction */

struct plan_ctx {
    long long request_id;
    const char *actor;
    db_prov_circuit circuit;
    db_prov_flow *flows;
    size_t n_flows;
    db_prov_meter *meters; /* the circuit's meters (a cap), or none */
    size_t n_meters;
    char plan_error[400]; /* a permanent problem: the circuit fails */
};

static json_t *path_json(const db_prov_request *r, const prov_hop *h, size_t n)
{
    json_t *p = json_array();
    for (size_t i = 0; i <= n; i++) {
        json_t *hop = json_object();
        json_object_set_new(hop, "switch_id",
                            json_integer(i == 0 ? r->a.switch_id : h[i - 1].to_switch));
        json_object_set_new(hop, "in_port",
                            json_integer(i == 0 ? r->a.ofport : h[i - 1].to_port));
        json_object_set_new(hop, "out_port", json_integer(i == n ? r->b.ofport : h[i].from_port));
        if (i < n) {
            json_object_set_new(hop, "link_id", json_integer(h[i].link_id));
            json_object_set_new(hop, "transport_vlan", json_integer(h[i].vlan));
        }
        json_array_append_new(p, hop);
    }
    return p;
}

static pf_kind plan_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct plan_ctx *x = vctx;
    x->plan_error[0] = '\0';
    db_prov_flows_free(x->flows, x->n_flows);
    x->flows = NULL;
    x->n_flows = 0;
    free(x->meters);
    x->meters = NULL;
    x->n_meters = 0;
    if (db_prov_circuit_lock(c, x->request_id, true, &x->circuit, err))
        return err->kind;
    if (strcmp(x->circuit.state, "failed") == 0 && x->circuit.n_flows > 0) {
        /* an operator's retry after a failure: plan afresh, so a port or
         * link the operator fixed meanwhile is taken into account (a
         * re-run of an attempt in flight keeps its plan, see below) */
        if (db_prov_release(c, x->circuit.id, err))
            return err->kind;
        x->circuit.n_flows = 0;
    }
    if (x->circuit.n_flows == 0) {
        db_prov_request r;
        if (db_prov_request_get(c, x->request_id, &r, err))
            return err->kind;
        if (r.b.port_id == 0) {
            msgf(x->plan_error, sizeof x->plan_error,
                     "the peer has not chosen its port: nothing to connect to");
            return PF_OK;
        }
        db_prov_link *links = NULL;
        size_t n_links = 0;
        if (db_prov_links(c, &links, &n_links, err))
            return err->kind;
        prov_hop hops[PROV_MAX_HOPS];
        size_t n_hops = 0;
        int rc = prov_path(links, n_links, r.a.switch_id, r.b.switch_id, hops, PROV_MAX_HOPS,
                           &n_hops);
        free(links);
        if (rc != 0) {
            msgf(x->plan_error, sizeof x->plan_error,
                     "no path between the switches of ports %s and %s over the inter-switch "
                     "links: add a link",
                     r.a.name, r.b.name);
            return PF_OK;
        }
        for (size_t i = 0; i < n_hops; i++) {
            pf_kind k = db_prov_link_vlan(c, hops[i].link_id, x->circuit.id, &hops[i].vlan, err);
            if (k != PF_OK) {
                if (strcmp(err->code, "link_full") == 0) {
                    msgf(x->plan_error, sizeof x->plan_error, "%s", err->message);
                    return PF_OK;
                }
                return k;
            }
        }
        prov_end a = {r.a.switch_id, r.a.ofport, r.a.trunk ? r.a.vlan : 0};
        prov_end b = {r.b.switch_id, r.b.ofport, r.b.trunk ? r.b.vlan : 0};
        prov_flow planned[2 * (PROV_MAX_HOPS + 1)];
        size_t n_planned = 0;
        if (prov_plan(&a, &b, hops, n_hops, prov_cookie(x->circuit.id), planned,
                      sizeof planned / sizeof planned[0], &n_planned) != 0) {
            msgf(x->plan_error, sizeof x->plan_error,
                     "cannot plan flows: a port number or VLAN is out of range");
            return PF_OK;
        }
        if (r.bandwidth_mbps > 0) {
            /* the cap: a meter per end, on the end's switch, on the flow
             * that takes the end's traffic in (docs/fabric.md) */
            uint32_t rate = (uint32_t)r.bandwidth_mbps * 1000u;
            uint32_t burst = prov_meter_burst_kbits(rate);
            db_prov_meter ma, mb;
            pf_kind mk = db_prov_meter_claim(c, x->circuit.id, 'a', r.a.switch_id, rate, burst,
                                             &ma, err);
            if (mk == PF_OK)
                mk = db_prov_meter_claim(c, x->circuit.id, 'b', r.b.switch_id, rate, burst, &mb,
                                         err);
            if (mk != PF_OK) {
                if (strcmp(err->code, "meters_full") == 0) {
                    msgf(x->plan_error, sizeof x->plan_error, "%s", err->message);
                    return PF_OK;
                }
                return mk;
            }
            prov_plan_meters(planned, n_planned, n_hops, (uint32_t)ma.meter_id,
                             (uint32_t)mb.meter_id);
        }
        for (size_t i = 0; i < n_planned; i++) {
            db_prov_flow row = {.circuit_id = x->circuit.id,
                                .switch_id = planned[i].switch_id,
                                .cookie = (long long)planned[i].flow.cookie,
                                .table_id = planned[i].flow.table_id,
                                .priority = planned[i].flow.priority};
            if (prov_flow_to_json(&planned[i].flow, &row.match, &row.actions) != 0)
                return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
            pf_kind k = db_prov_flow_insert(c, &row, err);
            free(row.match);
            free(row.actions);
            if (k != PF_OK)
                return k;
        }
        json_t *p = path_json(&r, hops, n_hops);
        char *ptext = json_dumps(p, JSON_COMPACT);
        json_decref(p);
        pf_kind k = db_prov_circuit_set(c, x->circuit.id, "installing", ptext, NULL, err);
        if (k == PF_OK) {
            char ids[24], after[600];
            msgf(ids, sizeof ids, "%lld", x->circuit.id);
            msgf(after, sizeof after,
                     "{\"circuit\":%lld,\"cookie\":\"0x%016llx\",\"flows\":%zu,\"path\":%s}",
                     x->circuit.id, (unsigned long long)prov_cookie(x->circuit.id), n_planned,
                     strlen(ptext) < 400 ? ptext : "\"(long)\"");
            db_audit_event ev = {.actor_kind = "system",
                                 .actor_label = x->actor,
                                 .action = "circuit.planned",
                                 .object_type = "circuit",
                                 .object_id = ids,
                                 .request_id = x->request_id,
                                 .after = after};
            k = db_audit_append(c, &ev, err);
        }
        free(ptext);
        if (k != PF_OK)
            return k;
    } else if (strcmp(x->circuit.state, "installing") != 0) {
        /* a retry, or a re-run: the same flows, installed again */
        if (db_prov_circuit_set(c, x->circuit.id, "installing", NULL, NULL, err))
            return err->kind;
    }
    if (db_prov_flows_of_circuit(c, x->circuit.id, &x->flows, &x->n_flows, err))
        return err->kind;
    return db_prov_meters_of_circuit(c, x->circuit.id, &x->meters, &x->n_meters, err);
}

struct circuit_set_ctx {
    long long circuit_id;
    const char *state;
    const char *error;
    bool release;
};

static pf_kind circuit_set_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct circuit_set_ctx *x = vctx;
    if (x->release && db_prov_release(c, x->circuit_id, err))
        return err->kind;
    return db_prov_circuit_set(c, x->circuit_id, x->state, NULL, x->error, err);
}

static pf_kind set_circuit(struct job_ctx *j, long long id, const char *state, const char *error,
                           bool release, pf_err *err)
{
    struct circuit_set_ctx x = {id, state, error, release};
    db_scope scope = db_scope_system();
    return db_run_tx(j->db, &scope, circuit_set_tx, &x, err);
}

/* Reports an event; a request already past it is fine (a re-run). */
static pf_kind report(struct job_ctx *j, wf_event ev, const char *detail, const char *want_after,
                      pf_err *err)
{
    pf_kind k = wf_request_provision_event(&j->env, &j->sys, j->job->request_id, ev, detail, err);
    if (k == PF_ECONFLICT) {
        db_prov_request r;
        pf_err e2;
        if (request_state(j, &r, &e2) == PF_OK && strcmp(r.state, want_after) == 0)
            return PF_OK;
    }
    return k;
}

/* Reports the event that ends the job (active, failed, removed) and ends
 * the job row in the same transaction (wf_request_provision_job_event), so
 * the request is never failed while its job is open and an operator's
 * retry cannot fall between the two. A request already past the event (a
 * re-run) is fine: the job is then ended by finish_tx. PF_ECONFLICT
 * "job_not_owned": another worker or a retry has the job now. */
static pf_kind report_final(struct job_ctx *j, wf_event ev, const char *detail,
                            const char *want_after, outcome *o, pf_err *err)
{
    pf_kind k = wf_request_provision_job_event(&j->env, &j->sys, j->job->request_id, ev, detail,
                                               j->job->id, j->me, err);
    if (k == PF_OK) {
        o->closed = true;
        return PF_OK;
    }
    if (k == PF_ECONFLICT && strcmp(err->code, "job_not_owned") != 0) {
        db_prov_request r;
        pf_err e2;
        if (request_state(j, &r, &e2) == PF_OK && strcmp(r.state, want_after) == 0)
            return PF_OK;
    }
    return k;
}

/* Whether the heartbeat found that the job is no longer this worker's
 * (its lease was taken over, or a retry re-queued it): then the worker
 * stops at once and records nothing (docs/fabric.md). */
static bool gave_up(struct job_ctx *j, outcome *o)
{
    pthread_mutex_lock(&j->svc->mu);
    bool lost = j->w->lost;
    pthread_mutex_unlock(&j->svc->mu);
    if (lost) {
        o->kind = O_DEFER;
        o->delay_ms = 0;
        msgf(o->msg, sizeof o->msg, "gave up: the job is no longer held by %s", j->me);
    }
    return lost;
}

/* The distinct switches of a flow list, in order of first appearance. */
static size_t switches_of(const db_prov_flow *f, size_t n, long long *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t m = 0; m < k; m++)
            seen = seen || out[m] == f[i].switch_id;
        if (!seen)
            out[k++] = f[i].switch_id;
    }
    return k;
}

static void switch_name(struct job_ctx *j, long long id, char *buf, size_t cap)
{
    db_prov_switch *v = NULL;
    size_t n = 0;
    pf_err err;
    msgf(buf, cap, "%lld", id);
    db_scope scope = db_scope_system();
    if (db_begin(j->db, &scope, &err) != PF_OK)
        return;
    if (db_prov_switches(j->db, &v, &n, &err) == PF_OK)
        for (size_t i = 0; i < n; i++)
            if (v[i].id == id)
                msgf(buf, cap, "%s", v[i].name);
    db_rollback(j->db);
    free(v);
}

/* Removes a circuit's flows from the switches, best effort. */
struct meters_ctx {
    long long circuit_id;
    db_prov_meter *meters;
    size_t n;
};

static pf_kind meters_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct meters_ctx *x = vctx;
    free(x->meters);
    x->meters = NULL;
    x->n = 0;
    return db_prov_meters_of_circuit(c, x->circuit_id, &x->meters, &x->n, err);
}

static void remove_flows_best_effort(struct job_ctx *j, long long circuit_id,
                                     const db_prov_flow *rows, size_t n_rows)
{
    struct meters_ctx mx = {.circuit_id = circuit_id};
    pf_err merr;
    db_scope mscope = db_scope_system();
    db_run_tx(j->db, &mscope, meters_tx, &mx, &merr);
    long long sws[2 * (PROV_MAX_HOPS + 1)];
    size_t n_sw = switches_of(rows, n_rows, sws);
    size_t bad;
    struct ofp_flow *fl = prov_flows_from_rows(rows, n_rows, &bad);
    for (size_t s = 0; s < n_sw && fl; s++) {
        struct ofp_flow mine[2 * (PROV_MAX_HOPS + 1)];
        size_t nm = 0;
        for (size_t i = 0; i < n_rows && nm < sizeof mine / sizeof mine[0]; i++)
            if (rows[i].switch_id == sws[s])
                mine[nm++] = fl[i];
        prov_result res;
        sw_lock(j->svc, j->db, sws[s]);
        /* flows before meters: a meter deleted takes its flows along */
        if (prov_delete_cookie(j->svc->net, sws[s], prov_cookie(circuit_id), mine, nm,
                               j->svc->cfg.barrier_timeout_ms, &res))
            prov_delete_meters(j->svc->net, sws[s], mx.meters, mx.n,
                               j->svc->cfg.barrier_timeout_ms, &res);
        sw_unlock(j->svc, j->db, sws[s]);
    }
    free(fl);
    free(mx.meters);
}

static void fail_circuit(struct job_ctx *j, const db_prov_circuit *c, const db_prov_flow *rows,
                         size_t n_rows, const char *why, outcome *o)
{
    pf_err err;
    if (gave_up(j, o))
        return;
    if (c->id && set_circuit(j, c->id, "failed", why, false, &err) != PF_OK) {
        o->kind = O_DEFER;
        o->delay_ms = 1000;
        msgf(o->msg, sizeof o->msg, "recording the failure: %s", err.message);
        return;
    }
    if (c->id && n_rows)
        remove_flows_best_effort(j, c->id, rows, n_rows);
    if (report_final(j, WF_EV_PROV_FAILED, why, "failed", o, &err) != PF_OK) {
        o->kind = O_DEFER;
        o->delay_ms = 1000;
        msgf(o->msg, sizeof o->msg, "reporting the failure: %s", err.message);
        return;
    }
    o->kind = O_FAILED;
    msgf(o->msg, sizeof o->msg, "%s", why);
}

static int backoff_ms(struct job_ctx *j)
{
    int a = j->job->attempts < 1 ? 1 : j->job->attempts;
    long d = 250L << (a > 10 ? 10 : a - 1);
    return d > j->svc->cfg.retry_max_ms ? j->svc->cfg.retry_max_ms : (int)d;
}

static void run_provision(struct job_ctx *j, outcome *o)
{
    pf_err err;
    db_prov_request r;
    if (request_state(j, &r, &err) != PF_OK) {
        o->kind = err.kind == PF_ENOTFOUND ? O_FAILED : O_DEFER;
        o->delay_ms = 1000;
        msgf(o->msg, sizeof o->msg, "%s", err.message);
        return;
    }
    if (strcmp(r.state, "approved") == 0) {
        if (report(j, WF_EV_PROV_START, NULL, "provisioning", &err) != PF_OK) {
            o->kind = O_DEFER;
            o->delay_ms = 1000;
            msgf(o->msg, sizeof o->msg, "%s", err.message);
            return;
        }
    } else if (strcmp(r.state, "provisioning") != 0) {
        o->kind = O_DONE;
        msgf(o->msg, sizeof o->msg, "nothing to do: the request is %s", r.state);
        return;
    }
    if (gave_up(j, o))
        return;
    /* plan (or re-read the plan): retried when two planners raced for a VLAN */
    struct plan_ctx p = {.request_id = j->job->request_id, .actor = "provisioner"};
    db_scope scope = db_scope_system();
    pf_kind k = PF_OK;
    for (int attempt = 0; attempt < 8; attempt++) {
        k = db_run_tx(j->db, &scope, plan_tx, &p, &err);
        if (k == PF_OK || (strcmp(err.code, "transport_vlan_taken") != 0 &&
                           strcmp(err.code, "meter_id_taken") != 0))
            break;
    }
    if (k != PF_OK) {
        o->kind = O_DEFER;
        o->delay_ms = backoff_ms(j);
        msgf(o->msg, sizeof o->msg, "planning: %s", err.message);
        db_prov_flows_free(p.flows, p.n_flows), free(p.meters);
        return;
    }
    if (p.plan_error[0]) {
        fail_circuit(j, &p.circuit, NULL, 0, p.plan_error, o);
        db_prov_flows_free(p.flows, p.n_flows), free(p.meters);
        return;
    }
    /* install, one switch at a time, each batch confirmed by BARRIER */
    size_t bad = 0;
    struct ofp_flow *fl = prov_flows_from_rows(p.flows, p.n_flows, &bad);
    long long sws[2 * (PROV_MAX_HOPS + 1)];
    size_t n_sw = switches_of(p.flows, p.n_flows, sws);
    char problem[400] = "";
    bool unreachable = false;
    /* The rule for a job that spans switches: it runs only in a process
     * that is master of every switch of the path, else it waits (as for a
     * switch out of reach), so no switch of a circuit is half written by
     * one master and half by another (docs/fabric.md). */
    for (size_t s = 0; s < n_sw && j->svc->has_master && !problem[0]; s++) {
        if (prov_net_is_master(j->svc->net, sws[s]))
            continue;
        char name[64];
        switch_name(j, sws[s], name, sizeof name);
        unreachable = true;
        msgf(problem, sizeof problem,
             "switch %s unreachable: this provisioner (%s) is not its OpenFlow master", name,
             j->svc->worker_name);
    }
    for (size_t s = 0; s < n_sw && fl && !problem[0]; s++) {
        if (gave_up(j, o)) {
            free(fl);
            db_prov_flows_free(p.flows, p.n_flows), free(p.meters);
            return;
        }
        struct ofp_flow mine[2 * (PROV_MAX_HOPS + 1)];
        size_t idx[2 * (PROV_MAX_HOPS + 1)], nm = 0;
        for (size_t i = 0; i < p.n_flows; i++)
            if (p.flows[i].switch_id == sws[s] && nm < sizeof mine / sizeof mine[0])
                idx[nm] = i, mine[nm++] = fl[i];
        prov_result res;
        long failed = -1, failed_meter = -1;
        size_t sent = 0;
        sw_lock(j->svc, j->db, sws[s]);
        /* meters first: a flow that names a missing meter is refused */
        bool ok = prov_sync_meters(j->svc->net, sws[s], p.meters, p.n_meters,
                                   j->svc->cfg.barrier_timeout_ms, &res, &failed_meter);
        if (ok)
            ok = prov_sync_cookie(j->svc->net, sws[s], prov_cookie(p.circuit.id), mine, nm,
                                  j->svc->cfg.barrier_timeout_ms, &res, &failed, &sent);
        sw_unlock(j->svc, j->db, sws[s]);
        if (ok)
            continue;
        char name[64];
        switch_name(j, sws[s], name, sizeof name);
        if (failed_meter >= 0 && !res.unreachable) {
            msgf(problem, sizeof problem, "switch %s refused meter %lld (%lld kbit/s): %s", name,
                 p.meters[failed_meter].meter_id, p.meters[failed_meter].rate_kbps, res.message);
        } else if (res.unreachable) {
            unreachable = true;
            msgf(problem, sizeof problem, "switch %s unreachable: %s", name, res.message);
        } else if (failed >= 0) {
            char text[256];
            ofp_format_flow(&mine[failed], text, sizeof text);
            msgf(problem, sizeof problem, "switch %s refused flow %lld (%s): %s", name,
                     p.flows[idx[failed]].id, text, res.message);
        } else {
            msgf(problem, sizeof problem, "switch %s: %s", name, res.message);
        }
    }
    free(fl);
    if (fl == NULL && !problem[0])
        msgf(problem, sizeof problem, "out of memory");
    if (problem[0] && unreachable && j->job->age_ms < j->svc->cfg.unreachable_fail_ms) {
        o->kind = O_DEFER;
        o->delay_ms = backoff_ms(j);
        msgf(o->msg, sizeof o->msg, "%s", problem);
        db_prov_flows_free(p.flows, p.n_flows), free(p.meters);
        return;
    }
    if (problem[0]) {
        if (unreachable) {
            char why[400];
            msgf(why, sizeof why, "gave up after %lld s: %s", j->job->age_ms / 1000, problem);
            fail_circuit(j, &p.circuit, p.flows, p.n_flows, why, o);
        } else {
            fail_circuit(j, &p.circuit, p.flows, p.n_flows, problem, o);
        }
        db_prov_flows_free(p.flows, p.n_flows), free(p.meters);
        return;
    }
    db_prov_flows_free(p.flows, p.n_flows), free(p.meters);
    if (gave_up(j, o))
        return;
    /* every switch confirmed: active */
    if (set_circuit(j, p.circuit.id, "installed", NULL, false, &err) != PF_OK ||
        report_final(j, WF_EV_PROV_ACTIVE, NULL, "active", o, &err) != PF_OK) {
        o->kind = O_DEFER;
        o->delay_ms = 1000;
        msgf(o->msg, sizeof o->msg, "%s", err.message);
        return;
    }
    o->kind = O_DONE;
    msgf(o->msg, sizeof o->msg, "active");
}

struct teardown_ctx {
    long long request_id;
    db_prov_circuit circuit;
    db_prov_flow *flows;
    size_t n_flows;
    db_prov_meter *meters;
    size_t n_meters;
};

static pf_kind teardown_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct teardown_ctx *x = vctx;
    db_prov_flows_free(x->flows, x->n_flows);
    x->flows = NULL;
    x->n_flows = 0;
    if (db_prov_circuit_lock(c, x->request_id, false, &x->circuit, err))
        return err->kind;
    if (x->circuit.id == 0)
        return PF_OK;
    /* from now on no reconciler wants these flows */
    if (strcmp(x->circuit.state, "removing") != 0 && strcmp(x->circuit.state, "removed") != 0 &&
        db_prov_circuit_set(c, x->circuit.id, "removing", NULL, NULL, err))
        return err->kind;
    if (db_prov_flows_of_circuit(c, x->circuit.id, &x->flows, &x->n_flows, err))
        return err->kind;
    free(x->meters);
    x->meters = NULL;
    x->n_meters = 0;
    return db_prov_meters_of_circuit(c, x->circuit.id, &x->meters, &x->n_meters, err);
}

static void run_teardown(struct job_ctx *j, outcome *o)
{
    pf_err err;
    db_prov_request r;
    if (request_state(j, &r, &err) != PF_OK) {
        o->kind = err.kind == PF_ENOTFOUND ? O_FAILED : O_DEFER;
        o->delay_ms = 1000;
        msgf(o->msg, sizeof o->msg, "%s", err.message);
        return;
    }
    if (strcmp(r.state, "decommissioning") != 0) {
        o->kind = O_DONE;
        msgf(o->msg, sizeof o->msg, "nothing to do: the request is %s", r.state);
        return;
    }
    struct teardown_ctx t = {.request_id = j->job->request_id};
    db_scope scope = db_scope_system();
    if (db_run_tx(j->db, &scope, teardown_tx, &t, &err) != PF_OK) {
        o->kind = O_DEFER;
        o->delay_ms = backoff_ms(j);
        msgf(o->msg, sizeof o->msg, "%s", err.message);
        return;
    }
    char problem[400] = "";
    if (t.circuit.id) {
        long long sws[2 * (PROV_MAX_HOPS + 1)];
        size_t n_sw = switches_of(t.flows, t.n_flows, sws);
        size_t bad;
        struct ofp_flow *fl = prov_flows_from_rows(t.flows, t.n_flows, &bad);
        for (size_t s = 0; s < n_sw && fl && !gave_up(j, o); s++) {
            struct ofp_flow mine[2 * (PROV_MAX_HOPS + 1)];
            size_t nm = 0;
            for (size_t i = 0; i < t.n_flows && nm < sizeof mine / sizeof mine[0]; i++)
                if (t.flows[i].switch_id == sws[s])
                    mine[nm++] = fl[i];
            prov_result res;
            sw_lock(j->svc, j->db, sws[s]);
            bool ok = prov_delete_cookie(j->svc->net, sws[s], prov_cookie(t.circuit.id), mine, nm,
                                         j->svc->cfg.barrier_timeout_ms, &res);
            /* flows before meters: a meter deleted takes its flows along */
            if (ok)
                ok = prov_delete_meters(j->svc->net, sws[s], t.meters, t.n_meters,
                                        j->svc->cfg.barrier_timeout_ms, &res);
            sw_unlock(j->svc, j->db, sws[s]);
            if (!ok && !problem[0]) {
                char name[64];
                switch_name(j, sws[s], name, sizeof name);
                msgf(problem, sizeof problem, "switch %s: %s", name, res.message);
            }
        }
        free(fl);
    }
    db_prov_flows_free(t.flows, t.n_flows);
    free(t.meters);
    if (gave_up(j, o))
        return;
    /* A switch that stays unreachable past the deadline does not hold the
     * teardown forever: its flows are no longer desired, so the
     * reconciliation on its reconnect deletes them (docs/fabric.md). */
    if (problem[0] && j->job->age_ms < j->svc->cfg.unreachable_fail_ms) {
        o->kind = O_DEFER;
        o->delay_ms = backoff_ms(j);
        msgf(o->msg, sizeof o->msg, "%s", problem);
        return;
    }
    if ((t.circuit.id && set_circuit(j, t.circuit.id, "removed", problem[0] ? problem : NULL,
                                     true, &err) != PF_OK) ||
        report_final(j, WF_EV_PROV_REMOVED, problem[0] ? problem : NULL, "decommissioned", o,
                     &err) != PF_OK) {
        o->kind = O_DEFER;
        o->delay_ms = 1000;
        msgf(o->msg, sizeof o->msg, "%s", err.message);
        return;
    }
    o->kind = O_DONE;
    msgf(o->msg, sizeof o->msg, "%s", problem[0] ? problem : "removed");
}

/* ------------------------------------------------------ modify (a cap) */

struct rerate_ctx {
    long long request_id;
    int want_mbps; /* the rate to set; 0 = the request's own cap */
    db_prov_circuit circuit;
    int bandwidth_mbps;
    db_prov_meter meters[2];
    size_t n;
};

static pf_kind rerate_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct rerate_ctx *x = vctx;
    x->n = 0;
    db_prov_request r;
    if (db_prov_request_get(c, x->request_id, &r, err))
        return err->kind;
    x->bandwidth_mbps = x->want_mbps > 0 && r.bandwidth_mbps > 0 ? x->want_mbps : r.bandwidth_mbps;
    if (db_prov_circuit_lock(c, x->request_id, false, &x->circuit, err))
        return err->kind;
    if (x->circuit.id == 0 || x->bandwidth_mbps <= 0)
        return PF_OK;
    uint32_t rate = (uint32_t)x->bandwidth_mbps * 1000u;
    return db_prov_meter_rerate(c, x->circuit.id, rate, prov_meter_burst_kbits(rate), x->meters,
                                2, &x->n, err);
}

pf_kind prov_meter_modify(prov_net *n, db_conn *db, long long request_id, int mbps,
                          int timeout_ms, prov_modify_report *rep, pf_err *err)
{
    memset(rep, 0, sizeof *rep);
    struct rerate_ctx x = {.request_id = request_id, .want_mbps = mbps};
    db_scope scope = db_scope_system();
    if (db_run_tx(db, &scope, rerate_tx, &x, err) != PF_OK)
        return err->kind;
    rep->bandwidth_mbps = x.bandwidth_mbps;
    if (x.circuit.id == 0)
        return pf_fail(err, PF_ECONFLICT, "no_circuit", NULL,
                       "request %lld has no circuit: only a provisioned circuit's cap is changed "
                       "in place",
                       request_id);
    if (x.bandwidth_mbps <= 0 || x.n == 0)
        return pf_fail(err, PF_ECONFLICT, "cap_not_in_place", "bandwidth_mbps",
                       "circuit %lld %s: adding or removing a cap re-plans the circuit's flows, "
                       "which a change in place does not do; decommission and request again",
                       x.circuit.id, x.n == 0 ? "has no cap" : "would lose its cap");
    for (size_t i = 0; i < x.n; i++) {
        struct ofp_meter m;
        prov_meter_mod(OFPMC_MODIFY, (uint32_t)x.meters[i].meter_id,
                       (uint32_t)x.meters[i].rate_kbps, (uint32_t)x.meters[i].burst_kbits, &m);
        prov_result res;
        if (!prov_net_meter_batch(n, x.meters[i].switch_id, &m, 1, timeout_ms, &res))
            return pf_fail(err, res.unreachable ? PF_EUNAVAIL : PF_ECONFLICT,
                           res.unreachable ? "switch_unreachable" : "openflow_error", NULL,
                           "modifying meter %lld of circuit %lld: %s", x.meters[i].meter_id,
                           x.circuit.id, res.message);
        rep->modified++;
    }
    return PF_OK;
}

/* A job of kind "modify": apply the request's approved change
 * (workflow/changes.h). The meters in the database are re-rated to the
 * change's rate, then each switch gets OFPMC_MODIFY + BARRIER: the flows
 * are not touched, the circuit stays active and no packet is lost. The
 * change is recorded applied in the transaction that ends the job. While
 * a switch is unreachable the job is retried with backoff (the database
 * already holds the new rate, and the reconciler repairs a switch that
 * comes back); when it fails for good, the meters go back to the
 * request's cap and the change is recorded failed. */
static void run_modify(struct job_ctx *j, outcome *o)
{
    pf_err err;
    long long id = j->job->request_id, change = 0;
    bool found = false;
    int mbps = 0;
    if (wf_change_to_apply(&j->env, &j->sys, id, &found, &change, &mbps, &err) != PF_OK) {
        o->kind = O_DEFER;
        o->delay_ms = backoff_ms(j);
        msgf(o->msg, sizeof o->msg, "%s", err.message);
        return;
    }
    if (!found) { /* withdrawn (a teardown) or already applied by an earlier run */
        o->kind = O_DONE;
        msgf(o->msg, sizeof o->msg, "no approved change of request %lld to apply", id);
        return;
    }
    prov_modify_report rep;
    pf_kind k = prov_meter_modify(j->svc->net, j->db, id, mbps, j->svc->cfg.barrier_timeout_ms,
                                  &rep, &err);
    bool retry = k == PF_EUNAVAIL && j->job->age_ms < j->svc->cfg.unreachable_fail_ms;
    if (k != PF_OK && (retry || k == PF_EINTERNAL)) {
        o->kind = O_DEFER;
        o->delay_ms = backoff_ms(j);
        msgf(o->msg, sizeof o->msg, "%s", err.message);
        return;
    }
    char detail[400];
    msgf(detail, sizeof detail, "%s", k == PF_OK ? "" : err.message);
    if (k != PF_OK) { /* back to the request's cap, on the switches too (best effort) */
        prov_modify_report back;
        pf_err e2;
        prov_meter_modify(j->svc->net, j->db, id, 0, j->svc->cfg.barrier_timeout_ms, &back, &e2);
    }
    pf_err e3;
    if (wf_change_applied(&j->env, &j->sys, id, k == PF_OK, k == PF_OK ? NULL : detail,
                          j->job->id, j->me, &e3) == PF_OK) {
        o->closed = true;
        o->kind = k == PF_OK ? O_DONE : O_FAILED;
        msgf(o->msg, sizeof o->msg, "change %lld: %d meter%s at %d Mbit/s", change, rep.modified,
             rep.modified == 1 ? "" : "s", mbps);
        return;
    }
    o->kind = O_DEFER;
    o->delay_ms = backoff_ms(j);
    msgf(o->msg, sizeof o->msg, "recording change %lld: %s", change, e3.message);
}

struct finish_ctx {
    const db_prov_job *job;
    const char *me;
    const outcome *o;
    bool owned;
};

static pf_kind finish_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct finish_ctx *x = vctx;
    if (x->o->kind == O_DEFER)
        return db_prov_job_defer(c, x->job->id, x->me, x->o->delay_ms, x->o->msg, &x->owned, err);
    return db_prov_job_finish(c, x->job->id, x->me, x->o->kind == O_DONE,
                              x->o->kind == O_DONE ? NULL : x->o->msg, &x->owned, err);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct prov_service *s = w->svc;
    struct job_ctx j = {.svc = s, .w = w};
    msgf(j.me, sizeof j.me, "%s", w->me);
    j.sys = wf_actor_system("provisioner");
    pf_err err;
    while (!stopping(s)) {
        if (j.db == NULL) {
            j.db = db_connect_as(s->database_url, DB_ROLE_WORKER, &err);
            if (j.db == NULL) {
                nap(s, 1000);
                continue;
            }
            j.env = (wf_env){.db = j.db,
                             .base_url = s->base_url,
                             .mail_domain = s->mail_domain,
                             .request_ttl_seconds = WF_DEFAULT_TTL_SECONDS};
            /* woken by the NOTIFY of a new job; polling stays as the
             * fallback for jobs whose time comes (retries, leases) */
            db_listen(j.db, DB_JOBS_CHANNEL, &err);
        }
        pthread_mutex_lock(&s->mu);
        bool standby = s->standby;
        pthread_mutex_unlock(&s->mu);
        if (standby) { /* another process masters the fabric: its jobs */
            nap(s, s->cfg.poll_ms);
            continue;
        }
        db_prov_job job;
        struct claim_ctx cc = {j.me, s->cfg.lease_s, &job};
        db_scope scope = db_scope_system();
        if (db_run_tx(j.db, &scope, claim_tx, &cc, &err) != PF_OK) {
            nap(s, s->cfg.poll_ms);
            continue;
        }
        if (job.id == 0) {
            db_wait_notify(j.db, s->cfg.poll_ms);
            continue;
        }
        j.job = &job;
        pthread_mutex_lock(&s->mu);
        w->job_id = job.id; /* the heartbeat renews its lease from now on */
        w->lost = false;
        pthread_mutex_unlock(&s->mu);
        outcome o = {.kind = O_DONE};
        if (strcmp(job.kind, "provision") == 0) {
            run_provision(&j, &o);
        } else if (strcmp(job.kind, "modify") == 0) {
            run_modify(&j, &o);
        } else if (strcmp(job.kind, "teardown") == 0) {
            run_teardown(&j, &o);
        } else {
            /* a kind this provisioner does not know is never taken for a
             * teardown: the job fails and says why */
            o.kind = O_FAILED;
            msgf(o.msg, sizeof o.msg, "this provisioner has no handler for %s jobs", job.kind);
        }
        /* The request's last event ended the job row in its own
         * transaction (report_final); otherwise (nothing to do, a defer, a
         * re-run that found the request moved on) the job row is ended
         * here. A crash before this leaves the job running until its
         * lease expires, and the re-run finds the request already moved
         * on and does nothing (docs/fabric.md). */
        if (!o.closed) {
            struct finish_ctx fc = {&job, j.me, &o, false};
            db_run_tx(j.db, &scope, finish_tx, &fc, &err);
        }
        pthread_mutex_lock(&s->mu);
        w->job_id = 0;
        w->lost = false;
        pthread_mutex_unlock(&s->mu);
        j.job = NULL;
    }
    db_close(j.db);
    return NULL;
}

/* ----------------------------------------------------------- heartbeat */

struct renew_ctx {
    long long job_id;
    const char *me;
    bool owned;
};

static pf_kind renew_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct renew_ctx *x = vctx;
    return db_prov_job_renew(c, x->job_id, x->me, &x->owned, err);
}

/* Renews the lease of every job this process's workers hold, three times
 * per lease, on a connection of its own (a worker may be blocked in a
 * switch batch or on a switch lock for longer than a lease). A renewal
 * that finds the job no longer the worker's marks it lost; the worker
 * gives the job up at its next step. */
static void *heartbeat_main(void *arg)
{
    struct prov_service *s = arg;
    db_conn *db = NULL;
    pf_err err;
    int every = s->cfg.lease_s * 1000 / 3;
    if (every < 100)
        every = 100;
    while (!nap(s, every)) {
        if (db == NULL && (db = db_connect_as(s->database_url, DB_ROLE_WORKER, &err)) == NULL)
            continue;
        for (int i = 0; i < s->n_workers; i++) {
            struct worker *w = &s->workers[i];
            pthread_mutex_lock(&s->mu);
            long long id = w->job_id;
            pthread_mutex_unlock(&s->mu);
            if (id == 0)
                continue;
            struct renew_ctx r = {id, w->me, true};
            db_scope scope = db_scope_system();
            if (db_run_tx(db, &scope, renew_tx, &r, &err) != PF_OK || r.owned)
                continue; /* renewed; or try again next time */
            pthread_mutex_lock(&s->mu);
            if (w->job_id == id)
                w->lost = true;
            pthread_mutex_unlock(&s->mu);
        }
    }
    db_close(db);
    return NULL;
}

/* ---------------------------------------------------------- mastership */

static int64_t mono_now(void);

struct round_ctx {
    const char *me;
    int lease_ms;
    const long long *reach;
    size_t n_reach;
    db_master_row *rows;
    size_t n_rows;
    db_master_stats stats;
};

static pf_kind round_tx(db_conn *c, void *vctx, pf_err *err)
{
    struct round_ctx *x = vctx;
    free(x->rows);
    x->rows = NULL;
    return db_master_round(c, x->me, x->lease_ms, x->reach, x->n_reach, &x->rows, &x->n_rows,
                           &x->stats, err);
}

static pf_kind release_tx(db_conn *c, void *vctx, pf_err *err)
{
    return db_master_release(c, vctx, err);
}

/* Every lease/3: renews or takes this process's mastership leases of the
 * switches it is connected to, and tells each switch its role. A process
 * that cannot reach the database keeps no lease: its local validity (from
 * before the round's transaction, so never past the database's expiry)
 * runs out and it stops writing; by then another process may have taken
 * the lease with a newer generation id, which the switch enforces. */
/* As nap, for the mastership thread: it runs until master_stop, after
 * the workers have finished, so they never write past a released lease. */
static bool master_nap(struct prov_service *s, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000)
        ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_mutex_lock(&s->mu);
    while (!s->master_stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT) {
    }
    bool stop = s->master_stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static void *master_main(void *arg)
{
    struct prov_service *s = arg;
    db_conn *db = NULL;
    pf_err err;
    int lease = s->cfg.master_lease_ms;
    int every = lease / 3 < 1000 ? lease / 3 : 1000;
    if (every < 50)
        every = 50;
    long long reach[1024], last[1024];
    size_t n_last = 0;
    int64_t next_round = 0;
    for (;;) {
        /* a round every `every`, and at once when the set of connected
         * switches changes (a switch that connects gets its role, and a
         * new master reconciles it, without waiting for the period) */
        size_t n_reach = prov_net_connected_ids(s->net, reach, 1024);
        bool changed = n_reach != n_last || memcmp(reach, last, n_reach * sizeof *reach) != 0;
        if (!changed && mono_now() < next_round) {
            if (master_nap(s, 100))
                break;
            continue;
        }
        next_round = mono_now() + every;
        if (db == NULL && (db = db_connect_as(s->database_url, DB_ROLE_WORKER, &err)) == NULL)
            continue;
        memcpy(last, reach, n_reach * sizeof *reach);
        n_last = n_reach;
        int64_t t0 = mono_now();
        struct round_ctx x = {s->worker_name, lease, reach, n_reach, NULL, 0, {0}};
        db_scope scope = db_scope_system();
        if (db_run_tx(db, &scope, round_tx, &x, &err) != PF_OK) {
            free(x.rows); /* db reconnects by itself (db/db.h) */
            continue;
        }
        for (size_t i = 0; i < x.n_rows; i++) {
            const db_master_row *r = &x.rows[i];
            bool mine = strcmp(r->worker, s->worker_name) == 0 && r->expires_ms > 0;
            int valid = (int)(t0 + lease - mono_now());
            if (mine && valid > 0)
                prov_net_set_role(s->net, r->switch_id, true, (uint64_t)r->generation, valid);
            else if (r->generation > 0)
                prov_net_set_role(s->net, r->switch_id, false, (uint64_t)r->generation, 0);
            if (r->taken && s->cfg.log) {
                char line[400];
                msgf(line, sizeof line,
                     "%s is now OpenFlow master of switch id %lld (generation %lld)%s",
                     s->worker_name, r->switch_id, r->generation,
                     x.stats.requeued ? "; the jobs of the provisioner it took over from are "
                                        "back in the queue"
                                      : "");
                s->cfg.log(s->cfg.log_arg, line);
            }
        }
        pthread_mutex_lock(&s->mu);
        s->standby = x.stats.standby;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        free(x.rows);
    }
    /* a clean stop hands the switches over at the others' next round */
    if (db) {
        db_scope scope = db_scope_system();
        db_run_tx(db, &scope, release_tx, s->worker_name, &err);
    }
    db_close(db);
    return NULL;
}

bool prov_service_standby(prov_service *s)
{
    pthread_mutex_lock(&s->mu);
    bool v = s->standby;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* ---------------------------------------------------------- reconciler */

static void on_connect(void *arg, long long switch_id)
{
    prov_service_request_reconcile(arg, switch_id);
}

void prov_service_request_reconcile(prov_service *s, long long switch_id)
{
    pthread_mutex_lock(&s->mu);
    if (switch_id == 0) {
        s->pending_all = true;
    } else {
        if (s->n_pending == s->cap_pending) {
            size_t cap = s->cap_pending ? s->cap_pending * 2 : 16;
            long long *p = realloc(s->pending, cap * sizeof *p);
            if (p) {
                s->pending = p;
                s->cap_pending = cap;
            }
        }
        if (s->n_pending < s->cap_pending)
            s->pending[s->n_pending++] = switch_id;
        else
            s->pending_all = true;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

unsigned long prov_service_counter_polls(prov_service *s)
{
    return s->counters ? prov_counters_polls(s->counters) : 0;
}

unsigned long prov_service_reconciles(prov_service *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned long n = s->reconciles;
    pthread_mutex_unlock(&s->mu);
    return n;
}

prov_net *prov_service_net(prov_service *s)
{
    return s->net;
}

static int64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *reconciler_main(void *arg)
{
    struct prov_service *s = arg;
    db_conn *db = NULL;
    pf_err err;
    int64_t next_all = mono_now() + s->cfg.reconcile_interval_ms;
    while (!stopping(s)) {
        if (db == NULL && (db = db_connect_as(s->database_url, DB_ROLE_WORKER, &err)) == NULL) {
            nap(s, 1000);
            continue;
        }
        /* wait for work: a (re)connect, a request, the period, or 1 s to
         * look at switches.reconcile_requested_at */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_mutex_lock(&s->mu);
        if (!s->stop && s->n_pending == 0 && !s->pending_all && mono_now() < next_all)
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        bool all = s->pending_all || mono_now() >= next_all;
        s->pending_all = false;
        size_t np = s->n_pending;
        long long *pend = np ? malloc(np * sizeof *pend) : NULL;
        if (pend)
            memcpy(pend, s->pending, np * sizeof *pend);
        else
            np = 0;
        s->n_pending = 0;
        bool stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) {
            free(pend);
            break;
        }
        if (all)
            next_all = mono_now() + s->cfg.reconcile_interval_ms;
        db_prov_switch *v = NULL;
        size_t n = 0;
        db_scope scope = db_scope_system();
        if (db_begin(db, &scope, &err) == PF_OK) {
            if (db_prov_switches(db, &v, &n, &err) != PF_OK)
                n = 0;
            db_rollback(db);
        }
        for (size_t i = 0; i < n && !stopping(s); i++) {
            bool want = all || v[i].reconcile_requested;
            for (size_t k = 0; k < np && !want; k++)
                want = pend[k] == v[i].id;
            /* only the switch's master reconciles it (without roles: every
             * connected provisioner, as before) */
            if (!want || !prov_net_is_master(s->net, v[i].id))
                continue;
            prov_drift d;
            sw_lock(s, db, v[i].id);
            prov_reconcile_switch(s->net, db, v[i].id, v[i].name, "reconciler",
                                  s->cfg.barrier_timeout_ms, &d, &err);
            sw_unlock(s, db, v[i].id);
            if (v[i].reconcile_requested && db_begin(db, &scope, &err) == PF_OK) {
                if (db_prov_switch_reconcile_flag(db, v[i].id, false, &err) == PF_OK)
                    db_commit(db, &err);
                else
                    db_rollback(db);
            }
            pthread_mutex_lock(&s->mu);
            s->reconciles++;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
        }
        free(v);
        free(pend);
    }
    db_close(db);
    return NULL;
}

/* --------------------------------------------------------- start, stop */

static void apply_defaults(prov_config *c)
{
#define DEF(f, v)                                                                              \
    if (c->f <= 0)                                                                             \
    c->f = (v)
    DEF(poll_ms, 500);
    DEF(lease_s, 60);
    DEF(barrier_timeout_ms, 5000);
    DEF(unreachable_fail_ms, 120000);
    DEF(retry_max_ms, 10000);
    DEF(reconcile_interval_ms, 60000);
#undef DEF
    if (c->master_lease_ms == 0)
        c->master_lease_ms = 3000;
    if (c->workers == 0)
        c->workers = 1;
}

static prov_net_config net_config(const prov_config *c)
{
    return (prov_net_config){.database_url = c->database_url,
                             .listen = c->openflow_listen,
                             .tls_dir = c->openflow_tls_dir,
                             .echo_interval_ms = c->echo_interval_ms,
                             .dead_after_ms = c->dead_after_ms,
                             .backoff_max_ms = c->backoff_max_ms,
                             .refresh_ms = c->refresh_ms};
}

prov_service *prov_service_start(const prov_config *cfg, pf_err *err)
{
    if (cfg->database_url == NULL || cfg->database_url[0] == '\0') {
        pf_fail(err, PF_EINVALID, "no_database_url", "database_url",
                "the provisioner needs PEERFLOW_DATABASE_URL");
        return NULL;
    }
    prov_service *s = calloc(1, sizeof *s);
    if (s == NULL) {
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    apply_defaults(&s->cfg);
    s->database_url = strdup(cfg->database_url);
    s->openflow_listen = cfg->openflow_listen ? strdup(cfg->openflow_listen) : NULL;
    s->base_url = strdup(cfg->base_url ? cfg->base_url : "http://127.0.0.1:8080");
    s->mail_domain = strdup(cfg->mail_domain ? cfg->mail_domain : "localhost");
    s->cfg.database_url = s->database_url;
    s->cfg.openflow_listen = s->openflow_listen;
    if (cfg->worker_name) {
        msgf(s->worker_name, sizeof s->worker_name, "%s", cfg->worker_name);
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof host - 1);
        msgf(s->worker_name, sizeof s->worker_name, "%s:%d", host, (int)getpid());
    }
    s->cfg.worker_name = s->worker_name;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < SW_LOCKS; i++)
        pthread_mutex_init(&s->sw_locks[i], NULL);
    prov_net_config nc = net_config(&s->cfg);
    nc.write_state = true;
    nc.roles = s->cfg.master_lease_ms > 0;
    /* with roles, no job is claimed before the first round has said who
     * masters what */
    s->standby = nc.roles;
    nc.on_connect = s->cfg.no_reconcile ? NULL : on_connect;
    nc.on_connect_arg = s;
    nc.log = s->cfg.log;
    nc.log_arg = s->cfg.log_arg;
    s->net = prov_net_start(&nc, err);
    if (s->net == NULL) {
        prov_service_stop(s);
        return NULL;
    }
    /* without a poller the service still provisions: traffic is a view */
    pf_err cerr;
    if (s->cfg.counter_interval_ms >= 0)
        s->counters = prov_counters_start(s->net, s->database_url, s->cfg.counter_interval_ms,
                                          s->cfg.barrier_timeout_ms, &cerr);
    if (nc.roles) {
        /* without it no switch would ever be written: refuse to start */
        if (pthread_create(&s->master, NULL, master_main, s) != 0) {
            pf_fail(err, PF_EINTERNAL, "thread", NULL, "cannot start the mastership thread");
            prov_service_stop(s);
            return NULL;
        }
        s->has_master = true;
    }
    if (!s->cfg.no_reconcile) {
        if (pthread_create(&s->reconciler, NULL, reconciler_main, s) == 0)
            s->has_reconciler = true;
    }
    int nw = s->cfg.workers > 0 ? s->cfg.workers : 0;
    s->workers = calloc(nw ? (size_t)nw : 1, sizeof *s->workers);
    for (int i = 0; s->workers && i < nw; i++) {
        s->workers[i].svc = s;
        s->workers[i].index = i;
        msgf(s->workers[i].me, sizeof s->workers[i].me, "%s:w%d", s->worker_name, i);
        if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0)
            break;
        s->n_workers++;
    }
    /* after the workers: n_workers no longer changes */
    if (s->n_workers > 0 && pthread_create(&s->heartbeat, NULL, heartbeat_main, s) == 0)
        s->has_heartbeat = true;
    return s;
}

void prov_service_stop(prov_service *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->n_workers; i++)
        pthread_join(s->workers[i].thread, NULL);
    if (s->has_reconciler)
        pthread_join(s->reconciler, NULL);
    if (s->has_heartbeat)
        pthread_join(s->heartbeat, NULL);
    if (s->has_master) {
        pthread_mutex_lock(&s->mu);
        s->master_stop = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->master, NULL);
    }
    prov_counters_stop(s->counters);
    prov_net_stop(s->net);
    free(s->workers);
    free(s->pending);
    for (int i = 0; i < SW_LOCKS; i++)
        pthread_mutex_destroy(&s->sw_locks[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->database_url), free(s->openflow_listen), free(s->base_url), free(s->mail_domain);
    free(s);
}

/* ------------------------------------------------- peerflow reconcile */

pf_kind prov_reconcile_now(const prov_config *cfg_in, const char *switch_name,
                           prov_reconcile_report *rep, pf_err *err)
{
    memset(rep, 0, sizeof *rep);
    prov_config cfg = *cfg_in;
    apply_defaults(&cfg);
    db_conn *db = db_connect_as(cfg.database_url, DB_ROLE_WORKER, err);
    if (db == NULL)
        return err->kind;
    db_prov_switch *v = NULL;
    size_t n = 0;
    db_scope scope = db_scope_system();
    pf_kind k = db_begin(db, &scope, err);
    if (k == PF_OK) {
        k = db_prov_switches(db, &v, &n, err);
        db_rollback(db);
    }
    if (k != PF_OK) {
        db_close(db);
        return k;
    }
    bool found = switch_name == NULL;
    bool any_endpoint = false;
    for (size_t i = 0; i < n; i++) {
        if (switch_name && strcmp(v[i].name, switch_name) != 0)
            continue;
        found = true;
        any_endpoint = any_endpoint || v[i].endpoint[0];
    }
    if (!found) {
        free(v);
        db_close(db);
        return pf_fail(err, PF_ENOTFOUND, "unknown_switch", "switch",
                       "no switch named '%s': list them with peerflow report switches",
                       switch_name);
    }
    prov_net *net = NULL;
    if (any_endpoint) {
        prov_net_config nc = net_config(&cfg);
        nc.listen = NULL; /* the running service owns the listener */
        nc.only_switch = switch_name;
        nc.refresh_ms = 60000;
        if ((net = prov_net_start(&nc, err)) == NULL) {
            free(v);
            db_close(db);
            return err->kind;
        }
    }
    k = PF_OK;
    for (size_t i = 0; i < n; i++) {
        if (switch_name && strcmp(v[i].name, switch_name) != 0)
            continue;
        if (v[i].endpoint[0] == '\0') {
            if (db_begin(db, &scope, err) == PF_OK &&
                db_prov_switch_reconcile_flag(db, v[i].id, true, err) == PF_OK)
                db_commit(db, err);
            else
                db_rollback(db);
            rep->requested++;
            continue;
        }
        pf_err e;
        prov_drift d;
        if (!prov_net_wait_connected(net, v[i].id, cfg.barrier_timeout_ms)) {
            char why[300];
            prov_net_last_error(net, v[i].id, why, sizeof why);
            rep->unreachable++;
            if (!rep->message[0])
                msgf(rep->message, sizeof rep->message, "switch %s unreachable: %s",
                         v[i].name, why[0] ? why : "no connection");
            k = PF_EUNAVAIL;
            continue;
        }
        pf_err le;
        db_prov_switch_lock(db, v[i].id, &le);
        pf_kind rk = prov_reconcile_switch(net, db, v[i].id, v[i].name, "cli",
                                           cfg.barrier_timeout_ms, &d, &e);
        db_prov_switch_unlock(db, v[i].id, &le);
        if (rk != PF_OK) {
            if (rk == PF_EUNAVAIL)
                rep->unreachable++;
            if (!rep->message[0])
                msgf(rep->message, sizeof rep->message, "%s", e.message);
            if (k == PF_OK)
                k = rk;
            continue;
        }
        rep->switches++;
        rep->total.desired += d.desired;
        rep->total.found += d.found;
        rep->total.added += d.added;
        rep->total.modified += d.modified;
        rep->total.removed += d.removed;
        rep->total.unchanged += d.unchanged;
        rep->total.foreign += d.foreign;
        rep->total.ms += d.ms;
    }
    prov_net_stop(net);
    free(v);
    db_close(db);
    if (k != PF_OK)
        pf_fail(err, k, k == PF_EUNAVAIL ? "switch_unreachable" : "reconcile_failed", NULL, "%s",
                rep->message);
    return k;
}
