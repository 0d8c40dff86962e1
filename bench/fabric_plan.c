/* fabric_plan: the flows peerflow's planner (provisioner/plan.c) gives a
 * set of circuits, for bench/fabric_bench.sh.
 *
 *   fabric_plan FLOWS.copy FLOWS.ofctl < circuits
 *   fabric_plan --hops FLOWS.copy FLOWS.ofctl < circuits
 *
 * Each input line is one circuit on one switch (same-switch circuits, no
 * inter-switch hops):
 *
 *   circuit_id switch_id a_ofport a_vlan b_ofport b_vlan   (vlan 0 = access)
 *
 * With --hops (bench/scale_bench.sh: circuits across switches, transit
 * switches included), each line is
 *
 *   circuit_id a_switch a_ofport a_vlan b_switch b_ofport b_vlan n_hops
 *     then n_hops times: link_id from_switch from_port to_switch to_port vlan
 *
 * The flows come from prov_plan() with the circuit's cookie
 * (prov_cookie()), and their JSON from prov_flow_to_json(), exactly as the
 * provisioner writes them to the flows table. Written:
 *
 *   FLOWS.copy   COPY text for flows (circuit_id, switch_id, table_id,
 *                priority, match, actions, cookie)
 *   FLOWS.ofctl  the same flows, plus the table-miss flow (prov_table_miss)
 *                that every reconciliation installs, in ovs-ofctl
 *                add-flows syntax: the baseline installs this file.
 *
 * Prints the number of flows written to the ofctl file. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provisioner/plan.h"

/* COPY text format: backslash, tab, newline and carriage return escaped. */
static void copy_field(FILE *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\': fputs("\\\\", o); break;
        case '\t': fputs("\\t", o); break;
        case '\n': fputs("\\n", o); break;
        case '\r': fputs("\\r", o); break;
        default: fputc(*s, o);
        }
    }
}

/* One flow in ovs-ofctl syntax (OpenFlow 1.3: set_field takes the OXM
 * value of vlan_vid, 4096 + VID). Returns -1 for what the planner never
 * produces. */
static int ofctl_line(FILE *o, const struct ofp_flow *f)
{
    fprintf(o, "cookie=0x%" PRIx64 ",table=%u,priority=%u", f->cookie, f->table_id,
            f->priority);
    const struct ofp_flow_match *m = &f->match;
    if (m->has_in_port)
        fprintf(o, ",in_port=%" PRIu32, m->in_port);
    if (m->has_vlan_vid) {
        if (m->vlan_vid_masked)
            return -1;
        if (m->vlan_vid & OFPVID_PRESENT)
            fprintf(o, ",dl_vlan=%u", (unsigned)(m->vlan_vid & OFP_VID_MASK));
        else
            fprintf(o, ",vlan_tci=0x0000/0x1fff");
    }
    fputs(",actions=", o);
    if (f->n_actions == 0)
        fputs("drop", o);
    for (size_t i = 0; i < f->n_actions; i++) {
        const struct ofp_flow_action *a = &f->actions[i];
        if (i)
            fputc(',', o);
        switch (a->type) {
        case OFPAT_OUTPUT: fprintf(o, "output:%" PRIu32, a->port); break;
        case OFPAT_PUSH_VLAN: fprintf(o, "push_vlan:0x%04x", a->ethertype); break;
        case OFPAT_POP_VLAN: fputs("pop_vlan", o); break;
        case OFPAT_SET_FIELD: fprintf(o, "set_field:%u->vlan_vid", 4096u + a->vlan_vid); break;
        default: return -1;
        }
    }
    fputc('\n', o);
    return 0;
}

#define MAX_HOPS 8

/* Reads one circuit: its ends and hops. 1 read, 0 at the end, -1 bad. */
static int read_circuit(bool hops, long long *cid, prov_end *a, prov_end *b, prov_hop *h,
                        size_t *n_hops)
{
    long long sw;
    int rc;
    *n_hops = 0;
    if (!hops) {
        rc = scanf("%lld %lld %lld %d %lld %d", cid, &sw, &a->ofport, &a->vlan, &b->ofport,
                   &b->vlan);
        a->switch_id = b->switch_id = sw;
        return rc == EOF ? 0 : rc == 6 ? 1 : -1;
    }
    size_t n;
    rc = scanf("%lld %lld %lld %d %lld %lld %d %zu", cid, &a->switch_id, &a->ofport, &a->vlan,
               &b->switch_id, &b->ofport, &b->vlan, &n);
    if (rc == EOF)
        return 0;
    if (rc != 8 || n > MAX_HOPS)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (scanf("%lld %lld %lld %lld %lld %d", &h[i].link_id, &h[i].from_switch,
                  &h[i].from_port, &h[i].to_switch, &h[i].to_port, &h[i].vlan) != 6)
            return -1;
    *n_hops = n;
    return 1;
}

int main(int argc, char **argv)
{
    bool hops = argc == 4 && strcmp(argv[1], "--hops") == 0;
    if (argc != 3 && !hops) {
        fprintf(stderr, "usage: fabric_plan [--hops] FLOWS.copy FLOWS.ofctl < circuits\n");
        return 2;
    }
    FILE *copy = fopen(argv[argc - 2], "w"), *ofctl = fopen(argv[argc - 1], "w");
    if (copy == NULL || ofctl == NULL) {
        perror("fabric_plan");
        return 1;
    }
    long n_lines = 0, n_flows = 0;
    long long cid;
    prov_end a = {0}, b = {0};
    prov_hop h[MAX_HOPS];
    size_t n_hops;
    int rc;
    while ((rc = read_circuit(hops, &cid, &a, &b, h, &n_hops)) == 1) {
        n_lines++;
        prov_flow fl[2 * (MAX_HOPS + 1)];
        size_t n = 0;
        if (prov_plan(&a, &b, h, n_hops, prov_cookie(cid), fl, sizeof fl / sizeof fl[0], &n) != 0) {
            fprintf(stderr, "fabric_plan: line %ld: the planner refused the circuit\n", n_lines);
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            char *match, *actions;
            if (prov_flow_to_json(&fl[i].flow, &match, &actions) != 0) {
                fprintf(stderr, "fabric_plan: out of memory\n");
                return 1;
            }
            fprintf(copy, "%lld\t%lld\t%u\t%u\t", cid, fl[i].switch_id, fl[i].flow.table_id,
                    fl[i].flow.priority);
            copy_field(copy, match);
            fputc('\t', copy);
            copy_field(copy, actions);
            fprintf(copy, "\t%lld\n", (long long)fl[i].flow.cookie);
            free(match);
            free(actions);
            if (ofctl_line(ofctl, &fl[i].flow) != 0) {
                fprintf(stderr, "fabric_plan: line %ld: a flow ovs-ofctl syntax here cannot say\n",
                        n_lines);
                return 1;
            }
            n_flows++;
        }
    }
    if (rc != 0) {
        fprintf(stderr, "fabric_plan: bad input line %ld\n", n_lines + 1);
        return 1;
    }
    struct ofp_flow miss;
    prov_table_miss(&miss);
    if (ofctl_line(ofctl, &miss) != 0)
        return 1;
    n_flows++;
    if (fclose(copy) != 0 || fclose(ofctl) != 0) {
        perror("fabric_plan");
        return 1;
    }
    printf("%ld\n", n_flows);
    return 0;
}
