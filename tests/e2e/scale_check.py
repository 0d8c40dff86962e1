#!/usr/bin/python3
"""Helpers of tests/e2e/scale_test.sh (the scale-out check).

  scale_check.py plan PORTS N DIR
      writes the N requests the test files: DIR/I.submit.json (the body of
      POST /api/v1/requests), DIR/I.approve.json (the peer's approve body),
      DIR/I.meta ("REQUESTER_ASN PEER_ASN") and DIR/plan.json (every
      request's two ends, for the checks below).
  scale_check.py flows PORTS PLAN IDS DB DUMPDIR
      compares what the switches hold (DUMPDIR/SWITCH.flows: ovs-ofctl
      -O OpenFlow13 dump-flows --no-stats) with the flows each circuit must
      have, computed here from the test's own topology, the ends the test
      asked for and the transport VLANs the database says were allocated
      (docs/fabric.md, "Circuits and their flows").
  scale_check.py mail MAILDIR OUTBOX
      every outbox Message-ID is in the Maildir exactly once, and nothing
      else is.

PORTS is a TSV written by the test: name, ASN, switch, OpenFlow port, mode.
Each check prints one line per problem (at most 20 of a kind) and a summary,
and exits 1 when anything is wrong.
"""
import collections
import email.parser
import email.policy
import json
import os
import sys


def read_ports(path):
    ports = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            name, asn, sw, ofport, mode = line.split()
            ports[name] = {"name": name, "asn": int(asn), "switch": sw,
                           "ofport": int(ofport), "mode": mode}
    return ports


# The request mix: (requester port, peer port) by i mod len(MIX), chosen so
# that circuits are same-switch, over one link and over two links, in both
# directions, between four networks. The first requests use the access
# ports (an access port carries one cross-connect).
MIX = [("a-t1", "b-t1"), ("a-t2", "c-t1"), ("d-t1", "a-t1"), ("b-t1", "c-t2"),
       ("c-t1", "d-t1"), ("a-t1", "d-t1"), ("c-t2", "b-t1"), ("d-t1", "c-t2")]
ACCESS = {0: ("a-acc", "c-acc"),   # access - access, two links
          1: ("d-acc", "b-t1"),    # access - trunk, one link
          2: ("b-acc", "a-t2")}    # access - trunk, one link, the other way


def cmd_plan(ports_path, n, out):
    ports = read_ports(ports_path)
    plan = []
    for i in range(n):
        rp, pp = ACCESS.get(i, MIX[i % len(MIX)])
        r, p = ports[rp], ports[pp]
        # every (port, VLAN) is used once: requester ends 100+i, peer ends
        # the same VLAN (no translation) or 1000+i (translation)
        rv = 100 + i if r["mode"] == "trunk" else None
        pv = (100 + i if i % 3 == 0 else 1000 + i) if p["mode"] == "trunk" else None
        at_submit = i % 2 == 0   # the peer's end named at submission or at approval
        sub = {"port": rp, "peer_asn": p["asn"], "message": "scale test request %d" % i}
        if rv is not None:
            sub["vlan"] = rv
        app = {}
        if at_submit:
            sub["peer_port"] = pp
            if pv is not None:
                sub["peer_vlan"] = pv
        else:
            app["port"] = pp
            if pv is not None:
                app["vlan"] = pv
        with open(os.path.join(out, "%d.submit.json" % i), "w") as f:
            json.dump(sub, f)
        with open(os.path.join(out, "%d.approve.json" % i), "w") as f:
            json.dump(app, f)
        with open(os.path.join(out, "%d.meta" % i), "w") as f:
            f.write("%d %d\n" % (r["asn"], p["asn"]))
        plan.append({"i": i, "a": rp, "a_vlan": rv, "b": pp, "b_vlan": pv})
    with open(os.path.join(out, "plan.json"), "w") as f:
        json.dump(plan, f)


class Problems:
    def __init__(self):
        self.by_kind = collections.Counter()

    def add(self, kind, msg):
        self.by_kind[kind] += 1
        if self.by_kind[kind] <= 20:
            print("  %s: %s" % (kind, msg))

    def total(self):
        return sum(self.by_kind.values())


def bfs(links, a, b):
    """Shortest path from switch a to b: a list of (link, from_switch)."""
    prev = {a: None}
    queue = [a]
    for sw in queue:
        for l in sorted(links, key=lambda l: l["id"]):
            for x, y in ((l["a"], l["b"]), (l["b"], l["a"])):
                if x == sw and y not in prev:
                    prev[y] = (l, x)
                    queue.append(y)
    if b not in prev:
        return None
    hops = []
    sw = b
    while prev[sw] is not None:
        l, x = prev[sw]
        hops.append((l, x))
        sw = x
    return list(reversed(hops))


def flow_text(cookie, in_port, vin, out_port, vout):
    """One flow as `ovs-ofctl -O OpenFlow13 dump-flows --no-stats` prints it."""
    if vin is None:
        match = "in_port=%d,vlan_tci=0x0000/0x1fff" % in_port
    else:
        match = "in_port=%d,dl_vlan=%d" % (in_port, vin)
    if vin is None and vout is None:
        act = ""
    elif vin is None:
        act = "push_vlan:0x8100,set_field:%d->vlan_vid," % (4096 + vout)
    elif vout is None:
        act = "pop_vlan,"
    elif vin != vout:
        act = "set_field:%d->vlan_vid," % (4096 + vout)
    else:
        act = ""
    return "cookie=0x%x, priority=1000,%s actions=%soutput:%d" % (cookie, match, act, out_port), match


def cmd_flows(ports_path, plan_path, ids_path, db_path, dumpdir):
    ports = read_ports(ports_path)
    plan = {p["i"]: p for p in json.load(open(plan_path))}
    ids = {}
    for line in open(ids_path):
        if line.strip():
            i, rid = line.split()
            ids[int(rid)] = int(i)
    db = json.load(open(db_path))
    links = db["links"]
    circuits = {c["request"]: c for c in (db["circuits"] or [])}
    pr = Problems()

    want = collections.defaultdict(dict)      # switch -> flow text -> request
    want_match = collections.defaultdict(dict)  # switch -> match -> request
    link_vlan_use = collections.defaultdict(dict)  # link id -> vlan -> request
    for rid, i in sorted(ids.items()):
        p = plan[i]
        c = circuits.get(rid)
        if c is None:
            pr.add("no circuit", "request %d" % rid)
            continue
        a, b = ports[p["a"]], ports[p["b"]]
        hops = bfs(links, a["switch"], b["switch"])
        if hops is None:
            pr.add("no path", "request %d: %s -> %s" % (rid, a["switch"], b["switch"]))
            continue
        transport = {int(k): v for k, v in (c["transport"] or {}).items()}
        path_links = [l["id"] for l, _ in hops]
        if sorted(transport) != sorted(path_links):
            pr.add("transport VLANs", "request %d circuit %d holds VLANs on links %s, its path is %s"
                   % (rid, c["circuit"], sorted(transport), path_links))
            continue
        for lid, v in transport.items():
            if not 2 <= v <= 4094:
                pr.add("transport VLAN range", "circuit %d: VLAN %d on link %d" % (c["circuit"], v, lid))
            other = link_vlan_use[lid].get(v)
            if other is not None:
                pr.add("transport VLAN reused", "link %d VLAN %d: requests %d and %d" % (lid, v, other, rid))
            link_vlan_use[lid][v] = rid
        cookie = (0x5046 << 48) | c["circuit"]
        # the hops of one direction: (switch, in_port, vlan_in, out_port, vlan_out)
        segs = []
        sw, in_port, vin = a["switch"], a["ofport"], p["a_vlan"]
        for l, frm in hops:
            here_port = l["a_port"] if l["a"] == frm else l["b_port"]
            there_port = l["b_port"] if l["a"] == frm else l["a_port"]
            there = l["b"] if l["a"] == frm else l["a"]
            t = transport[l["id"]]
            segs.append((sw, in_port, vin, here_port, t))
            sw, in_port, vin = there, there_port, t
        segs.append((sw, in_port, vin, b["ofport"], p["b_vlan"]))
        # and back: the same hops reversed, in and out swapped
        back = [(s, o, vo, ip, vi) for (s, ip, vi, o, vo) in reversed(segs)]
        for s, ip, vi, o, vo in segs + back:
            text, match = flow_text(cookie, ip, vi, o, vo)
            if match in want_match[s]:
                pr.add("shared match", "switch %s %s: requests %d and %d"
                       % (s, match, want_match[s][match], rid))
            want_match[s][match] = rid
            want[s][text] = rid

    have = {}
    n_have = 0
    for f in sorted(os.listdir(dumpdir)):
        if not f.endswith(".flows"):
            continue
        s = f[:-len(".flows")]
        lines = [l.strip() for l in open(os.path.join(dumpdir, f)) if l.strip()]
        lines = [l for l in lines if not l.startswith("OFPST_") and not l.startswith("NXST_")]
        miss = [l for l in lines if l.startswith("cookie=0x5046000000000000,")]
        if miss != ["cookie=0x5046000000000000, priority=0 actions=drop"]:
            pr.add("table-miss", "switch %s: %s" % (s, miss))
        ours = [l for l in lines if l.startswith("cookie=0x5046") and l not in miss]
        other = [l for l in lines if not l.startswith("cookie=0x5046")]
        for l in other:
            pr.add("foreign flow", "switch %s: %s" % (s, l))
        counts = collections.Counter(ours)
        for l, k in counts.items():
            if k > 1:
                pr.add("duplicate flow", "switch %s: %s (%d times)" % (s, l, k))
        matches = collections.Counter(l.split(" actions=")[0].split(", ", 1)[1] for l in ours)
        for m, k in matches.items():
            if k > 1:
                pr.add("two flows share a match", "switch %s: %s (%d flows)" % (s, m, k))
        have[s] = set(ours)
        n_have += len(ours)
    n_want = 0
    for s in sorted(set(want) | set(have)):
        w, h = set(want.get(s, {})), have.get(s)
        if h is None:
            pr.add("switch not dumped", s)
            continue
        n_want += len(w)
        for l in sorted(w - h):
            pr.add("missing flow", "switch %s (request %d): %s" % (s, want[s][l], l))
        for l in sorted(h - w):
            pr.add("unexpected flow", "switch %s: %s" % (s, l))
    per_circuit = collections.Counter()
    for s in want:
        for l, rid in want[s].items():
            per_circuit[rid] += 1
    print("flows: %d circuits, %d flows expected, %d peerflow flows on %d switches, %d problems"
          % (len(per_circuit), n_want, n_have, len(have), pr.total()))
    return 1 if pr.total() else 0


def cmd_mail(maildir, outbox_path):
    pr = Problems()
    outbox = {}
    for line in open(outbox_path):
        line = line.rstrip("\n")
        if not line:
            continue
        oid, mid, delivered = line.split("\t")
        outbox[mid] = (oid, delivered)
        if delivered != "t":
            pr.add("not delivered", "outbox %s %s" % (oid, mid))
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    seen = collections.Counter()
    files = 0
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        if not os.path.isdir(d):
            continue
        for f in os.listdir(d):
            files += 1
            with open(os.path.join(d, f), "rb") as fh:
                msg = parser.parse(fh)
            ids = msg.get_all("Message-ID") or []
            if len(ids) != 1:
                pr.add("Message-ID headers", "%s has %d" % (f, len(ids)))
            for mid in ids:
                seen[mid.strip()] += 1
    for mid, k in seen.items():
        if mid not in outbox:
            pr.add("not in the outbox", mid)
        elif k > 1:
            pr.add("duplicated", "%s arrived %d times" % (mid, k))
    for mid in outbox:
        if mid not in seen:
            pr.add("lost", "outbox %s %s is not in the Maildir" % (outbox[mid][0], mid))
    if files != len(outbox):
        pr.add("count", "%d messages in the Maildir, %d outbox rows" % (files, len(outbox)))
    print("mail: %d outbox rows, %d messages in the Maildir, %d distinct Message-IDs, %d problems"
          % (len(outbox), files, len(seen), pr.total()))
    return 1 if pr.total() else 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "plan":
        return cmd_plan(argv[2], int(argv[3]), argv[4]) or 0
    if len(argv) == 7 and argv[1] == "flows":
        return cmd_flows(*argv[2:])
    if len(argv) == 4 and argv[1] == "mail":
        return cmd_mail(*argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
