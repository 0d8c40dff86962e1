/* db_master: see mastership.h. */
#include "db/mastership.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db/audit.h"
#include "db/db_internal.h"

/* "PFMS": every worker's round holds it, so two rounds never both see a
 * switch free and both take it. */
static const db_stmt round_lock = {
    "pf_master_round_lock", "SELECT pg_advisory_xact_lock(x'50464d53'::bigint)", 0};

/* A switch never held yet gets a row that is expired from the start. */
static const db_stmt seed = {
    "pf_master_seed",
    "INSERT INTO switch_masters (switch_id, worker, generation, expires_at)"
    " SELECT id, '', 0, now() FROM switches WHERE id = ANY($1::bigint[])"
    " ON CONFLICT (switch_id) DO NOTHING",
    1};

static const db_stmt renew = {
    "pf_master_renew",
    "UPDATE switch_masters SET renewed_at = now(),"
    " expires_at = now() + make_interval(secs => $2::double precision / 1000)"
    " WHERE worker = $1 AND expires_at > now() AND switch_id = ANY($3::bigint[])"
    " RETURNING switch_id",
    3};

static const db_stmt others_live = {
    "pf_master_others_live",
    "SELECT count(*) FROM switch_masters"
    " WHERE worker <> $1 AND worker <> '' AND expires_at > now()",
    1};

/* $4: no other worker is live, so any expired lease may be taken; else
 * only one expired for a whole lease more. */
static const db_stmt take = {
    "pf_master_take",
    "UPDATE switch_masters m SET worker = $1, generation = nextval('switch_master_generation'),"
    " acquired_at = now(), renewed_at = now(),"
    " expires_at = now() + make_interval(secs => $2::double precision / 1000)"
    " FROM (SELECT switch_id, worker FROM switch_masters"
    "   WHERE switch_id = ANY($3::bigint[]) AND expires_at <= now()"
    "     AND ($4::boolean OR expires_at <= now() - make_interval(secs => $2::double precision"
    "          / 1000))"
    "   FOR UPDATE) o"
    " WHERE m.switch_id = o.switch_id RETURNING m.switch_id, o.worker, m.generation",
    4};

/* The running jobs of a holder taken over that holds no live lease any
 * more: its worker threads are named HOLDER:wN (provisioner/service.c). */
static const db_stmt requeue_dead = {
    "pf_master_requeue_dead",
    "UPDATE jobs SET state = 'queued', run_after = now(), locked_by = NULL, locked_at = NULL,"
    " last_error = 'its provisioner ' || $1 || ' lost its mastership leases: presumed dead'"
    " WHERE state = 'running' AND left(locked_by, length($1) + 1) = $1 || ':'"
    "   AND NOT EXISTS (SELECT 1 FROM switch_masters WHERE worker = $1 AND expires_at > now())"
    " RETURNING id",
    1};

static const db_stmt list = {
    "pf_master_list",
    "SELECT switch_id, worker, generation,"
    " (extract(epoch FROM expires_at - now()) * 1000)::bigint"
    " FROM switch_masters ORDER BY switch_id",
    0};

static const db_stmt release = {
    "pf_master_release",
    "UPDATE switch_masters SET expires_at = now() WHERE worker = $1 AND expires_at > now()", 1};

/* "{1,2,3}" */
static char *id_array(const long long *v, size_t n)
{
    char *s = malloc(n * 24 + 3);
    if (s == NULL)
        return NULL;
    size_t k = 0;
    s[k++] = '{';
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(s + k, "%s%lld", i ? "," : "", v[i]);
    s[k++] = '}';
    s[k] = '\0';
    return s;
}

pf_kind db_master_round(db_conn *c, const char *me, int lease_ms, const long long *reach,
                        size_t n_reach, db_master_row **out, size_t *n_out,
                        db_master_stats *stats, pf_err *err)
{
    *out = NULL;
    *n_out = 0;
    memset(stats, 0, sizeof *stats);
    char *ids = id_array(reach, n_reach);
    if (ids == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    char lb[24];
    db_fmt_ll(lb, lease_ms);
    long long taken_ids[256];
    char taken_from[8][160];
    size_t n_taken = 0, n_from = 0;
    PGresult *r = db_exec(c, &round_lock, NULL, err);
    if (r == NULL)
        goto fail;
    PQclear(r);
    const char *ps[1] = {ids};
    if ((r = db_exec(c, &seed, ps, err)) == NULL)
        goto fail;
    PQclear(r);
    const char *pr[3] = {me, lb, ids};
    if ((r = db_exec(c, &renew, pr, err)) == NULL)
        goto fail;
    stats->renewed = PQntuples(r);
    PQclear(r);
    const char *po[1] = {me};
    if ((r = db_exec(c, &others_live, po, err)) == NULL)
        goto fail;
    long long others = PQntuples(r) == 1 ? db_ll(r, 0, 0) : 0;
    PQclear(r);
    const char *pt[4] = {me, lb, ids, others == 0 ? "true" : "false"};
    if ((r = db_exec(c, &take, pt, err)) == NULL)
        goto fail;
    for (int i = 0; i < PQntuples(r); i++) {
        if (n_taken < sizeof taken_ids / sizeof taken_ids[0])
            taken_ids[n_taken++] = db_ll(r, i, 0);
        const char *from = db_val(r, i, 1);
        /* a takeover from another holder is the operator's to know (not
         * the first take of a switch nobody held, nor one's own again) */
        if (from[0] && strcmp(from, me) != 0) {
            char ids_s[24], after[600];
            snprintf(ids_s, sizeof ids_s, "%lld", db_ll(r, i, 0));
            json_t *a = json_pack("{s:s, s:s, s:I}", "from", from, "worker", me, "generation",
                                  (json_int_t)db_ll(r, i, 2));
            char *text = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            json_decref(a);
            snprintf(after, sizeof after, "%s", text ? text : "{}");
            free(text);
            db_audit_event ev = {.actor_kind = "system",
                                 .actor_label = "provisioner",
                                 .action = "switch.master_changed",
                                 .object_type = "switch",
                                 .object_id = ids_s,
                                 .after = after};
            if (db_audit_append(c, &ev, err) != PF_OK) {
                PQclear(r);
                goto fail;
            }
        }
        bool seen = from[0] == '\0' || strcmp(from, me) == 0;
        for (size_t k = 0; k < n_from && !seen; k++)
            seen = strcmp(taken_from[k], from) == 0;
        if (!seen && n_from < sizeof taken_from / sizeof taken_from[0])
            snprintf(taken_from[n_from++], sizeof taken_from[0], "%s", from);
    }
    stats->taken = PQntuples(r);
    PQclear(r);
    for (size_t k = 0; k < n_from; k++) {
        const char *pq[1] = {taken_from[k]};
        if ((r = db_exec(c, &requeue_dead, pq, err)) == NULL)
            goto fail;
        stats->requeued += PQntuples(r);
        PQclear(r);
    }
    if ((r = db_exec(c, &list, NULL, err)) == NULL)
        goto fail;
    int rows = PQntuples(r);
    db_master_row *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
    if (v == NULL) {
        PQclear(r);
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        goto fail;
    }
    bool mine = false, live_other = false;
    for (int i = 0; i < rows; i++) {
        v[i].switch_id = db_ll(r, i, 0);
        snprintf(v[i].worker, sizeof v[i].worker, "%s", db_val(r, i, 1));
        v[i].generation = db_ll(r, i, 2);
        v[i].expires_ms = db_ll(r, i, 3);
        for (size_t k = 0; k < n_taken; k++)
            v[i].taken = v[i].taken || taken_ids[k] == v[i].switch_id;
        if (v[i].expires_ms > 0 && v[i].worker[0]) {
            if (strcmp(v[i].worker, me) == 0)
                mine = true;
            else
                live_other = true;
        }
    }
    PQclear(r);
    stats->standby = live_other && !mine;
    *out = v;
    *n_out = (size_t)rows;
    free(ids);
    return PF_OK;
fail:
    free(ids);
    return err->kind;
}

pf_kind db_master_release(db_conn *c, const char *me, pf_err *err)
{
    const char *p[1] = {me};
    PGresult *r = db_exec(c, &release, p, err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}
