/* fabric_plan: the flows peerflow's planner (provisioner/plan.c) gives a
 * set of circuits, for bench/fabric_bench.sh.
 *
 *   fabric_plan FLOWS.copy FLOWS.ofctl < circuits
 *
 * Each input line is one circuit on one switch (same-switch circuits, no
 * inter-switch hops):
 *
 *   circuit_id switch_id a_ofport a_vlan b_ofport b_vlan   (vlan 0 = access)
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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fabric_plan FLOWS.copy FLOWS.ofctl < circuits\n");
        return 2;
    }
    FILE *copy = fopen(argv[1], "w"), *ofctl = fopen(argv[2], "w");
    if (copy == NULL || ofctl == NULL) {
        perror("fabric_plan");
        return 1;
    }
    long n_lines = 0, n_flows = 0;
    long long cid, sw, ap, bp;
    int av, bv;
    int rc;
    while ((rc = scanf("%lld %lld %lld %d %lld %d", &cid, &sw, &ap, &av, &bp, &bv)) == 6) {
        n_lines++;
        prov_end a = {.switch_id = sw, .ofport = ap, .vlan = av};
        prov_end b = {.switch_id = sw, .ofport = bp, .vlan = bv};
        prov_flow fl[2];
        size_t n = 0;
        if (prov_plan(&a, &b, NULL, 0, prov_cookie(cid), fl, 2, &n) != 0) {
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
    if (rc != EOF) {
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
