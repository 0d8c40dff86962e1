#!/usr/bin/env python3
"""API load for the HA and rolling-restart suites (tests/integration/).

    ha_load.py BASE_URL REQUESTER_TOKEN PEER_TOKEN OUT.jsonl STOPFILE [THREADS]

THREADS clients (default 4) loop until STOPFILE exists: submit a request
(requester), read it, approve it (peer), list. Every call is time-limited
(12 s: a hang is an error, not a wait) and written to OUT.jsonl as one JSON
line: op, request id, status (0 = no answer: refused, reset, timeout),
error code, Retry-After, the state and version a 2xx answered, wall-clock
start and end. The suites judge the lines; this script judges nothing.
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request

base, req_tok, peer_tok, out_path, stop_file = sys.argv[1:6]
threads = int(sys.argv[6]) if len(sys.argv) > 6 else 4
TIMEOUT = 12

lock = threading.Lock()
out = open(out_path, "w", buffering=1)
next_vlan = [2]


def take_vlan():
    with lock:
        v = next_vlan[0]
        next_vlan[0] += 1
        return v if v <= 4094 else None


def call(op, method, path, token, body=None, rid=None):
    data = json.dumps(body).encode() if body is not None else None
    rq = urllib.request.Request(base + path, data=data, method=method)
    rq.add_header("Authorization", "Bearer " + token)
    if data is not None:
        rq.add_header("Content-Type", "application/json")
    rec = {"op": op, "id": rid, "start": time.time()}
    status, payload, retry = 0, None, None
    try:
        with urllib.request.urlopen(rq, timeout=TIMEOUT) as r:
            status = r.status
            payload = r.read()
    except urllib.error.HTTPError as e:
        status = e.code
        retry = e.headers.get("Retry-After")
        payload = e.read()
    except Exception as e:  # refused, reset, timeout: no HTTP answer
        rec["exception"] = type(e).__name__ + ": " + str(e)[:200]
    rec["end"] = time.time()
    rec["status"] = status
    rec["retry_after"] = retry
    doc = None
    if payload:
        try:
            doc = json.loads(payload)
        except ValueError:
            rec["body"] = payload[:200].decode("utf-8", "replace")
    if isinstance(doc, dict):
        if "error" in doc:
            rec["code"] = doc["error"].get("code")
        if 200 <= status < 300:
            rec["state"] = doc.get("state")
            rec["version"] = doc.get("version")
            if rid is None:
                rec["id"] = doc.get("id")
    with lock:
        out.write(json.dumps(rec) + "\n")
    return status, doc


def client():
    import os
    while not os.path.exists(stop_file):
        vlan = take_vlan()
        if vlan is None:
            time.sleep(0.2)
            continue
        st, doc = call("submit", "POST", "/api/v1/requests", req_tok,
                       {"port": "a-trunk", "vlan": vlan, "peer_asn": 64801})
        if st != 201 or not isinstance(doc, dict):
            time.sleep(0.05)  # the service is down: do not spin
            continue
        rid = doc["id"]
        st, shown = call("show", "GET", "/api/v1/requests/%d" % rid, peer_tok, rid=rid)
        if st != 200:
            continue
        call("approve", "POST", "/api/v1/requests/%d/approve" % rid, peer_tok,
             {"version": shown["version"], "port": "b-trunk", "vlan": vlan}, rid=rid)
        call("list", "GET", "/api/v1/requests?state=pending", req_tok)


ts = [threading.Thread(target=client) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
