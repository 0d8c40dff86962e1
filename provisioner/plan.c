/* prov_plan: see plan.h and docs/fabric.md. */
#include "provisioner/plan.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- path */

int prov_path(const db_prov_link *links, size_t n_links, long long from, long long to,
              prov_hop *out, size_t cap, size_t *n_hops)
{
    *n_hops = 0;
    if (from == to)
        return 0;
    /* Switch ids seen, with the link that reached them; a linear search
     * over at most 2 * n_links nodes is plenty for a fabric. */
    size_t max = 2 * n_links + 1;
    long long *node = calloc(max, sizeof *node);
    long long *via = calloc(max, sizeof *via); /* index of link, -1 for the start */
    size_t *prev = calloc(max, sizeof *prev);
    if (node == NULL || via == NULL || prev == NULL) {
        free(node), free(via), free(prev);
        return -1;
    }
    size_t n = 0, head = 0;
    node[n] = from, via[n] = -1, prev[n] = 0, n++;
    long long found = -1;
    while (head < n && found < 0) {
        long long s = node[head];
        for (size_t l = 0; l < n_links && found < 0; l++) {
            long long other;
            if (links[l].a_switch == s)
                other = links[l].b_switch;
            else if (links[l].b_switch == s)
                other = links[l].a_switch;
            else
                continue;
            bool seen = false;
            for (size_t k = 0; k < n; k++)
                seen = seen || node[k] == other;
            if (seen)
                continue;
            node[n] = other, via[n] = (long long)l, prev[n] = head;
            if (other == to)
                found = (long long)n;
            n++;
        }
        head++;
    }
    int rc = -1;
    if (found >= 0) {
        size_t len = 0;
        for (size_t k = (size_t)found; via[k] >= 0; k = prev[k])
            len++;
        if (len > cap) {
            rc = -2;
        } else {
            size_t i = len;
            for (size_t k = (size_t)found; via[k] >= 0; k = prev[k]) {
                const db_prov_link *L = &links[via[k]];
                prov_hop *h = &out[--i];
                long long here = node[prev[k]];
                h->link_id = L->id;
                h->vlan = 0;
                if (L->a_switch == here) {
                    h->from_switch = L->a_switch, h->from_port = L->a_port;
                    h->to_switch = L->b_switch, h->to_port = L->b_port;
                } else {
                    h->from_switch = L->b_switch, h->from_port = L->b_port;
                    h->to_switch = L->a_switch, h->to_port = L->a_port;
                }
            }
            *n_hops = len;
            rc = 0;
        }
    }
    free(node), free(via), free(prev);
    return rc;
}

/* --------------------------------------------------------------- flows */

static int one_flow(long long sw, long long in_port, int in_vlan, long long out_port,
                    int out_vlan, uint64_t cookie, prov_flow *out)
{
    if (in_port < 1 || in_port > (long long)OFPP_MAX || out_port < 1 ||
        out_port > (long long)OFPP_MAX || in_vlan < 0 || in_vlan > 4095 || out_vlan < 0 ||
        out_vlan > 4095)
        return -1;
    memset(out, 0, sizeof *out);
    out->switch_id = sw;
    struct ofp_flow *f = &out->flow;
    ofp_flow_init(f);
    f->command = OFPFC_ADD;
    f->table_id = 0;
    f->priority = PROV_PRIORITY;
    f->cookie = cookie;
    ofp_match_in_port(&f->match, (uint32_t)in_port);
    if (in_vlan)
        ofp_match_vlan(&f->match, (uint16_t)in_vlan);
    else
        ofp_match_untagged(&f->match);
    if (!in_vlan && out_vlan) {
        ofp_flow_add_push_vlan(f, OFP_ETH_TYPE_VLAN);
        ofp_flow_add_set_vlan_vid(f, (uint16_t)out_vlan);
    } else if (in_vlan && !out_vlan) {
        ofp_flow_add_pop_vlan(f);
    } else if (in_vlan && out_vlan && in_vlan != out_vlan) {
        ofp_flow_add_set_vlan_vid(f, (uint16_t)out_vlan);
    }
    ofp_flow_add_output(f, (uint32_t)out_port, 0);
    return 0;
}

/* One direction: from end x to end y over hops h[0..n) (in travel order;
 * reversed says the hops are given for the other direction). */
static int direction(const prov_end *x, const prov_end *y, const prov_hop *h, size_t n,
                     bool reversed, uint64_t cookie, prov_flow *out)
{
    for (size_t i = 0; i <= n; i++) {
        /* hop i-1 brought us here, hop i takes us on */
        long long sw, in_port, out_port;
        int in_vlan, out_vlan;
        const prov_hop *before = NULL, *after = NULL;
        if (i > 0)
            before = reversed ? &h[n - i] : &h[i - 1];
        if (i < n)
            after = reversed ? &h[n - 1 - i] : &h[i];
        if (before) {
            sw = reversed ? before->from_switch : before->to_switch;
            in_port = reversed ? before->from_port : before->to_port;
            in_vlan = before->vlan;
        } else {
            sw = x->switch_id, in_port = x->ofport, in_vlan = x->vlan;
        }
        if (after) {
            out_port = reversed ? after->to_port : after->from_port;
            out_vlan = after->vlan;
        } else {
            out_port = y->ofport, out_vlan = y->vlan;
        }
        if (one_flow(sw, in_port, in_vlan, out_port, out_vlan, cookie, &out[i]))
            return -1;
    }
    return 0;
}

int prov_plan(const prov_end *a, const prov_end *b, const prov_hop *hops, size_t n_hops,
              uint64_t cookie, prov_flow *out, size_t cap, size_t *n_out)
{
    *n_out = 0;
    size_t per = n_hops + 1;
    if (cap < 2 * per)
        return -1;
    for (size_t i = 0; i < n_hops; i++)
        if (hops[i].vlan < 1 || hops[i].vlan > 4094)
            return -1;
    if (direction(a, b, hops, n_hops, false, cookie, out) ||
        direction(b, a, hops, n_hops, true, cookie, out + per))
        return -1;
    *n_out = 2 * per;
    return 0;
}

void prov_table_miss(struct ofp_flow *f)
{
    ofp_flow_init(f);
    f->command = OFPFC_ADD;
    f->table_id = 0;
    f->priority = PROV_MISS_PRIORITY;
    f->cookie = prov_cookie(0);
}

/* ---------------------------------------------------------------- JSON */

int prov_flow_to_json(const struct ofp_flow *f, char **match, char **actions)
{
    *match = *actions = NULL;
    json_t *m = json_object(), *a = json_array();
    if (f->match.has_in_port)
        json_object_set_new(m, "in_port", json_integer(f->match.in_port));
    if (f->match.has_vlan_vid) {
        if (f->match.vlan_vid_masked) {
            json_object_set_new(m, "vlan_vid", json_integer(f->match.vlan_vid));
            json_object_set_new(m, "vlan_vid_mask", json_integer(f->match.vlan_vid_mask));
        } else if (f->match.vlan_vid & OFPVID_PRESENT) {
            json_object_set_new(m, "vlan", json_integer(f->match.vlan_vid & OFP_VID_MASK));
        } else {
            json_object_set_new(m, "vlan", json_string("untagged"));
        }
    }
    /* the meter is an instruction, not an action; it is stored first in
     * the list because the pipeline applies it first (docs/fabric.md) */
    if (f->has_meter)
        json_array_append_new(a, json_pack("{s:s, s:I}", "type", "meter", "meter",
                                           (json_int_t)f->meter_id));
    for (size_t i = 0; i < f->n_actions; i++) {
        const struct ofp_flow_action *x = &f->actions[i];
        json_t *o = NULL;
        switch (x->type) {
        case OFPAT_OUTPUT:
            o = json_pack("{s:s, s:I}", "type", "output", "port", (json_int_t)x->port);
            break;
        case OFPAT_PUSH_VLAN:
            o = json_pack("{s:s, s:i}", "type", "push_vlan", "ethertype", x->ethertype);
            break;
        case OFPAT_POP_VLAN:
            o = json_pack("{s:s}", "type", "pop_vlan");
            break;
        case OFPAT_SET_FIELD:
            o = json_pack("{s:s, s:i}", "type", "set_vlan_vid", "vlan", x->vlan_vid);
            break;
        default:
            break;
        }
        if (o)
            json_array_append_new(a, o);
    }
    *match = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    *actions = json_dumps(a, JSON_COMPACT);
    json_decref(m);
    json_decref(a);
    if (*match == NULL || *actions == NULL) {
        free(*match), free(*actions);
        *match = *actions = NULL;
        return -1;
    }
    return 0;
}

/* A fast decoder for the flows' JSON as PostgreSQL prints jsonb: a
 * reconcile of a big switch reads tens of thousands of rows, and building
 * and freeing a jansson tree for each was a third of its time. It accepts
 * only a strict subset of JSON (an object, or an array of objects, whose
 * values are integers or strings without escapes) and only what decodes
 * without an error; for anything else it declines and the jansson decoder
 * below, the reference, decides: so both always give the same flow. */

#define FJ_MAX_KEYS 8

struct fj_val {
    const char *key;
    size_t key_len;
    bool is_int;
    long long num;
    const char *str; /* !is_int: not NUL-terminated */
    size_t str_len;
};

struct fj_obj {
    size_t n;
    struct fj_val v[FJ_MAX_KEYS];
};

static const char *fj_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* A string of printable ASCII without escapes; NULL to decline. */
static const char *fj_str(const char *p, const char **s, size_t *len)
{
    if (*p != '"')
        return NULL;
    const char *b = ++p;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '\\')
            return NULL;
        p++;
    }
    *s = b;
    *len = (size_t)(p - b);
    return p + 1;
}

/* An integer of at most 18 digits (no overflow), no fraction, no
 * exponent; NULL to decline. */
static const char *fj_int(const char *p, long long *out)
{
    bool neg = *p == '-';
    if (neg)
        p++;
    if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
        return NULL;
    long long v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 18)
            return NULL;
        v = v * 10 + (*p++ - '0');
    }
    if (*p == '.' || *p == 'e' || *p == 'E')
        return NULL;
    *out = neg ? -v : v;
    return p;
}

static const char *fj_obj_parse(const char *p, struct fj_obj *o)
{
    o->n = 0;
    if (*p != '{')
        return NULL;
    p = fj_ws(p + 1);
    if (*p == '}')
        return p + 1;
    for (;;) {
        if (o->n == FJ_MAX_KEYS)
            return NULL;
        struct fj_val *v = &o->v[o->n];
        if ((p = fj_str(p, &v->key, &v->key_len)) == NULL)
            return NULL;
        /* a key twice: jansson keeps the last, not worth copying */
        for (size_t i = 0; i < o->n; i++)
            if (o->v[i].key_len == v->key_len && memcmp(o->v[i].key, v->key, v->key_len) == 0)
                return NULL;
        p = fj_ws(p);
        if (*p != ':')
            return NULL;
        p = fj_ws(p + 1);
        if (*p == '"') {
            v->is_int = false;
            p = fj_str(p, &v->str, &v->str_len);
        } else {
            v->is_int = true;
            p = fj_int(p, &v->num);
        }
        if (p == NULL)
            return NULL;
        o->n++;
        p = fj_ws(p);
        if (*p == '}')
            return p + 1;
        if (*p != ',')
            return NULL;
        p = fj_ws(p + 1);
    }
}

static const struct fj_val *fj_get(const struct fj_obj *o, const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].key_len == len && memcmp(o->v[i].key, key, len) == 0)
            return &o->v[i];
    return NULL;
}

/* json_integer_value: 0 for anything but an integer */
static long long fj_num(const struct fj_val *v)
{
    return v && v->is_int ? v->num : 0;
}

static bool fj_is(const struct fj_val *v, const char *s)
{
    return v && !v->is_int && v->str_len == strlen(s) && memcmp(v->str, s, v->str_len) == 0;
}

/* 0: f is the flow; -1: declined (the reference decides). */
static int flow_from_json_fast(const char *match, const char *actions, struct ofp_flow *f)
{
    struct fj_obj m;
    const char *p = fj_obj_parse(fj_ws(match), &m);
    if (p == NULL || *fj_ws(p) != '\0')
        return -1;
    const struct fj_val *v;
    if ((v = fj_get(&m, "in_port")) != NULL) {
        if (!v->is_int)
            return -1;
        ofp_match_in_port(&f->match, (uint32_t)v->num);
    }
    if ((v = fj_get(&m, "vlan")) != NULL) {
        if (fj_is(v, "untagged"))
            ofp_match_untagged(&f->match);
        else if (v->is_int)
            ofp_match_vlan(&f->match, (uint16_t)v->num);
        else
            return -1;
    } else if ((v = fj_get(&m, "vlan_vid")) != NULL) {
        ofp_match_vlan_masked(&f->match, (uint16_t)fj_num(v),
                              (uint16_t)fj_num(fj_get(&m, "vlan_vid_mask")));
    }
    p = fj_ws(actions);
    if (*p++ != '[')
        return -1;
    p = fj_ws(p);
    for (size_t i = 0; *p != ']'; i++) {
        struct fj_obj x;
        if (i > 0) {
            if (*p != ',')
                return -1;
            p = fj_ws(p + 1);
        }
        if ((p = fj_obj_parse(p, &x)) == NULL)
            return -1;
        p = fj_ws(p);
        const struct fj_val *t = fj_get(&x, "type");
        int r = -1;
        if (t == NULL || t->is_int)
            r = -1;
        else if (fj_is(t, "meter") && i == 0) {
            long long id = fj_num(fj_get(&x, "meter"));
            if (id >= 1 && id <= (long long)OFPM_MAX) {
                f->has_meter = true;
                f->meter_id = (uint32_t)id;
                r = 0;
            }
        } else if (fj_is(t, "output"))
            r = ofp_flow_add_output(f, (uint32_t)fj_num(fj_get(&x, "port")), 0);
        else if (fj_is(t, "push_vlan"))
            r = ofp_flow_add_push_vlan(f, (uint16_t)fj_num(fj_get(&x, "ethertype")));
        else if (fj_is(t, "pop_vlan"))
            r = ofp_flow_add_pop_vlan(f);
        else if (fj_is(t, "set_vlan_vid"))
            r = ofp_flow_add_set_vlan_vid(f, (uint16_t)fj_num(fj_get(&x, "vlan")));
        if (r != 0)
            return -1;
    }
    return *fj_ws(p + 1) == '\0' ? 0 : -1;
}

int prov_flow_from_json(const char *match, const char *actions, int table_id, int priority,
                        uint64_t cookie, struct ofp_flow *f, char why[128])
{
    ofp_flow_init(f);
    f->command = OFPFC_ADD;
    f->table_id = (uint8_t)table_id;
    f->priority = (uint16_t)priority;
    f->cookie = cookie;
    if (flow_from_json_fast(match, actions, f) == 0)
        return 0;
    return prov_flow_from_json_ref(match, actions, table_id, priority, cookie, f, why);
}

int prov_flow_from_json_ref(const char *match, const char *actions, int table_id, int priority,
                            uint64_t cookie, struct ofp_flow *f, char why[128])
{
    ofp_flow_init(f);
    f->command = OFPFC_ADD;
    f->table_id = (uint8_t)table_id;
    f->priority = (uint16_t)priority;
    f->cookie = cookie;
    json_error_t je;
    json_t *m = json_loads(match, 0, &je), *a = json_loads(actions, 0, &je);
    int rc = -1;
    if (!json_is_object(m) || !json_is_array(a)) {
        snprintf(why, 128, "flow match or actions is not JSON of the expected shape");
        goto out;
    }
    json_t *v;
    if ((v = json_object_get(m, "in_port")) != NULL) {
        if (!json_is_integer(v)) {
            snprintf(why, 128, "in_port is not a number");
            goto out;
        }
        ofp_match_in_port(&f->match, (uint32_t)json_integer_value(v));
    }
    if ((v = json_object_get(m, "vlan")) != NULL) {
        if (json_is_string(v) && strcmp(json_string_value(v), "untagged") == 0)
            ofp_match_untagged(&f->match);
        else if (json_is_integer(v))
            ofp_match_vlan(&f->match, (uint16_t)json_integer_value(v));
        else {
            snprintf(why, 128, "vlan is neither a number nor \"untagged\"");
            goto out;
        }
    } else if ((v = json_object_get(m, "vlan_vid")) != NULL) {
        ofp_match_vlan_masked(&f->match, (uint16_t)json_integer_value(v),
                              (uint16_t)json_integer_value(json_object_get(m, "vlan_vid_mask")));
    }
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        const char *t = json_string_value(json_object_get(x, "type"));
        int r = -1;
        if (t == NULL)
            r = -1;
        else if (strcmp(t, "meter") == 0 && i == 0) {
            json_int_t id = json_integer_value(json_object_get(x, "meter"));
            if (id >= 1 && id <= (json_int_t)OFPM_MAX) {
                f->has_meter = true;
                f->meter_id = (uint32_t)id;
                r = 0;
            }
        } else if (strcmp(t, "output") == 0)
            r = ofp_flow_add_output(f, (uint32_t)json_integer_value(json_object_get(x, "port")),
                                    0);
        else if (strcmp(t, "push_vlan") == 0)
            r = ofp_flow_add_push_vlan(
                f, (uint16_t)json_integer_value(json_object_get(x, "ethertype")));
        else if (strcmp(t, "pop_vlan") == 0)
            r = ofp_flow_add_pop_vlan(f);
        else if (strcmp(t, "set_vlan_vid") == 0)
            r = ofp_flow_add_set_vlan_vid(
                f, (uint16_t)json_integer_value(json_object_get(x, "vlan")));
        if (r != 0) {
            snprintf(why, 128, "action %zu is unknown or malformed", i);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(m);
    json_decref(a);
    return rc;
}

/* ---------------------------------------------------------- comparison */

static bool match_same(const struct ofp_flow_match *a, const struct ofp_flow_match *b)
{
    if (a->has_in_port != b->has_in_port || (a->has_in_port && a->in_port != b->in_port))
        return false;
    if (a->has_vlan_vid != b->has_vlan_vid)
        return false;
    if (!a->has_vlan_vid)
        return true;
    /* a mask of all 13 bits is an exact match */
    bool am = a->vlan_vid_masked && a->vlan_vid_mask != OFP_VLAN_VID_BITS;
    bool bm = b->vlan_vid_masked && b->vlan_vid_mask != OFP_VLAN_VID_BITS;
    if (am != bm)
        return false;
    if (am)
        return a->vlan_vid_mask == b->vlan_vid_mask && a->vlan_vid == b->vlan_vid;
    return a->vlan_vid == b->vlan_vid;
}

/* The fields that make a flow entry, in a canonical form: a VLAN mask of
 * all 13 bits counts as exact, as in match_same. */
static void entry_key(const struct ofp_flow *f, uint64_t k[4])
{
    const struct ofp_flow_match *m = &f->match;
    bool masked = m->has_vlan_vid && m->vlan_vid_masked && m->vlan_vid_mask != OFP_VLAN_VID_BITS;
    k[0] = ((uint64_t)f->table_id << 32) | f->priority;
    k[1] = m->has_in_port ? (1ULL << 32) | m->in_port : 0;
    k[2] = m->has_vlan_vid ? (1ULL << 32) | ((uint64_t)masked << 16) | m->vlan_vid : 0;
    k[3] = masked ? m->vlan_vid_mask : 0;
}

int prov_flow_entry_cmp(const struct ofp_flow *a, const struct ofp_flow *b)
{
    uint64_t ka[4], kb[4];
    entry_key(a, ka);
    entry_key(b, kb);
    for (int i = 0; i < 4; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

bool prov_flow_same_entry(const struct ofp_flow *a, const struct ofp_flow *b)
{
    return a->table_id == b->table_id && a->priority == b->priority &&
           match_same(&a->match, &b->match);
}

bool prov_flow_same(const struct ofp_flow *a, const struct ofp_flow *b)
{
    if (!prov_flow_same_entry(a, b) || a->cookie != b->cookie || a->n_unknown || b->n_unknown ||
        a->n_actions != b->n_actions || a->has_meter != b->has_meter ||
        (a->has_meter && a->meter_id != b->meter_id))
        return false;
    for (size_t i = 0; i < a->n_actions; i++) {
        const struct ofp_flow_action *x = &a->actions[i], *y = &b->actions[i];
        if (x->type != y->type)
            return false;
        switch (x->type) {
        case OFPAT_OUTPUT:
            if (x->port != y->port)
                return false;
            break;
        case OFPAT_PUSH_VLAN:
            if (x->ethertype != y->ethertype)
                return false;
            break;
        case OFPAT_SET_FIELD:
            if (x->vlan_vid != y->vlan_vid)
                return false;
            break;
        default:
            break;
        }
    }
    return true;
}

/* -------------------------------------------------------------- meters */

uint32_t prov_meter_burst_kbits(uint32_t rate_kbps)
{
    uint32_t b = rate_kbps / 2;
    return b < 100 ? 100 : b;
}

void prov_meter_mod(uint16_t command, uint32_t meter_id, uint32_t rate_kbps,
                    uint32_t burst_kbits, struct ofp_meter *m)
{
    ofp_meter_init(m, command, PROV_METER_FLAGS, meter_id);
    if (command != OFPMC_DELETE)
        ofp_meter_add_drop(m, rate_kbps, burst_kbits);
}

int prov_plan_meters(prov_flow *flows, size_t n_flows, size_t n_hops, uint32_t meter_a,
                     uint32_t meter_b)
{
    if (n_flows != 2 * (n_hops + 1))
        return -1;
    if (meter_a) {
        flows[0].flow.has_meter = true;
        flows[0].flow.meter_id = meter_a;
    }
    if (meter_b) {
        flows[n_hops + 1].flow.has_meter = true;
        flows[n_hops + 1].flow.meter_id = meter_b;
    }
    return 0;
}
