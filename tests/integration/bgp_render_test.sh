#!/usr/bin/env bash
# The daemons' own checkers accept every configuration wf_bgp_render
# writes for BIRD 2 and FRR, over the shapes of tests/unit/bgp_render_shapes.h
# (v4 only, v6 only, both, with and without MD5, no max-prefix, no
# registered prefixes, many prefixes, bogon/too-long registrations,
# hostile network names). And each checker really fails on a broken line,
# so its silence means something:
#   BIRD  bird -p -c MAIN   (MAIN = router id + device protocol + include)
#   FRR   vtysh -C -f FILE  (the grammar of every daemon: exit 2 on an unknown command)
#         bgpd -C -f FILE   (bgpd's own semantics, "Config Failed on config
#                            line N", which it reports but exits 0 on: the
#                            output is what counts)
# Only parsers run: no daemon is started. Needs no database.
source "$(dirname "$0")/lib.sh"
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
dump=$root/build/asan/tests/bgp_render_dump
BGPD=${PEERFLOW_BGPD:-/usr/lib/frr/bgpd}

if [ ! -x "$dump" ]; then
  echo "FAIL: $dump missing: run make test-build"
  exit 1
fi
missing=()
command -v bird >/dev/null || missing+=("bird (Debian bird2)")
command -v vtysh >/dev/null || missing+=("vtysh (Debian frr)")
[ -x "$BGPD" ] || missing+=("$BGPD (Debian frr)")
if [ ${#missing[@]} -ne 0 ]; then
  echo "skipped: missing ${missing[*]}; install with make deps"
  exit 77
fi

tmp=$(mktemp -d /tmp/pf-bgp-render.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# bird_check SNIPPET: prints the checker's complaint, fails if it has one
bird_check() {
  local main=$1.main out
  printf 'router id 192.0.2.1;\nprotocol device {}\ninclude "%s";\n' "$1" >"$main"
  out=$(bird -p -c "$main" 2>&1) || { echo "bird -p: $out"; return 1; }
  [ -z "$out" ] || { echo "bird -p: $out"; return 1; }
}

# frr_check FILE: both FRR checkers; -S: no user switch (runs unprivileged
# too), -Z/-p 0: no zebra, no listening socket
frr_check() {
  local out rc=0
  out=$(vtysh -C -f "$1" 2>&1) || rc=$?
  out=$(printf '%s\n' "$out" | grep -v "Can't open configuration file /etc/frr/vtysh.conf")
  if [ "$rc" -ne 0 ] || printf '%s' "$out" | grep -q '%'; then
    echo "vtysh -C (exit $rc): $out"; return 1
  fi
  rc=0
  # bgpd leaves an empty crash-log directory /var/tmp/frr/bgpd.PID behind:
  # remove that one (by its pid) when it is empty
  (cd "$tmp" && exec "$BGPD" -C -S -Z -p 0 -f "$1" >"$tmp/bgpd.out" 2>&1) &
  local pid=$!
  wait "$pid" || rc=$?
  rmdir "/var/tmp/frr/bgpd.$pid" 2>/dev/null
  out=$(cat "$tmp/bgpd.out")
  if [ "$rc" -ne 0 ] || printf '%s' "$out" | grep -qiE 'config line|unknown command|error'; then
    echo "bgpd -C (exit $rc): $out"; return 1
  fi
}

shapes=$("$dump" --list)
expect_eq "the dumper knows the shapes" yes "$([ "$(printf '%s\n' "$shapes" | wc -l)" -ge 10 ] && echo yes)"

for shape in $shapes; do
  f=$tmp/$shape.bird.conf
  if ! "$dump" "$shape" bird2 >"$f"; then fail "$shape: bird2 not rendered"; continue; fi
  if why=$(bird_check "$f"); then pass; else fail "$shape: BIRD refuses it: $why"; fi
  expect_eq "$shape: bird snippet has a bgp protocol" yes \
    "$(grep -q '^protocol bgp pf_r[0-9]*_v[46] {' "$f" && echo yes)"
  expect_eq "$shape: bird snippet sets no router id, no kernel/device protocol" 0 \
    "$(grep -cE '^\s*(router id|protocol (kernel|device))' "$f")"

  f=$tmp/$shape.frr.conf
  if ! "$dump" "$shape" frr >"$f"; then fail "$shape: frr not rendered"; continue; fi
  if why=$(frr_check "$f"); then pass; else fail "$shape: FRR refuses it: $why"; fi
  expect_eq "$shape: frr block has router bgp" 1 "$(grep -c '^router bgp ' "$f")"
done

# --- each checker fails on a broken line (else the above proves nothing)
good=$tmp/both_md5.bird.conf
sed 's/import filter/import fitler/' "$good" >"$tmp/broken1.bird.conf"
if bird_check "$tmp/broken1.bird.conf" >/dev/null; then fail "bird -p accepted a misspelt keyword"; else pass; fi
sed 's/import filter pf_r12_in4;/import filter pf_r12_nothere;/' "$good" >"$tmp/broken2.bird.conf"
if bird_check "$tmp/broken2.bird.conf" >/dev/null; then fail "bird -p accepted an undefined filter"; else pass; fi
expect_eq "the broken bird snippet differs from the good one" yes \
  "$(cmp -s "$good" "$tmp/broken2.bird.conf" || echo yes)"

good=$tmp/both_md5.frr.conf
sed 's/ remote-as / remote-ass /' "$good" >"$tmp/broken1.frr.conf"
if frr_check "$tmp/broken1.frr.conf" >/dev/null; then fail "FRR accepted an unknown command"; else pass; fi
# well-formed lines bgpd refuses (vtysh's grammar accepts them): a
# neighbour activated before it exists
{
  echo 'router bgp 64500'
  echo ' address-family ipv4 unicast'
  echo '  neighbor 192.0.2.99 activate'
  echo ' exit-address-family'
  echo 'exit'
} >"$tmp/broken2.frr.conf"
if vtysh -C -f "$tmp/broken2.frr.conf" >/dev/null 2>&1; then pass; else fail "vtysh -C refused a grammatical line"; fi
if frr_check "$tmp/broken2.frr.conf" >/dev/null; then fail "bgpd -C accepted a neighbour with no remote-as"; else pass; fi

# and a prefix-list range bgpd refuses (le shorter than the prefix)
sed 's/permit 203.0.112.0\/22 le 24$/permit 203.0.112.0\/22 le 20/' "$good" >"$tmp/broken3.frr.conf"
expect_eq "the broken prefix-list differs from the good one" yes \
  "$(cmp -s "$good" "$tmp/broken3.frr.conf" || echo yes)"
if frr_check "$tmp/broken3.frr.conf" >/dev/null; then fail "bgpd -C accepted le 20 on a /22"; else pass; fi

# --- the samples in docs/bgp.md are what the renderer writes today
for d in bird2 frr junos eos; do
  awk -v h="### $d" '$0 == h { s = 1; next } s == 1 && $0 == "```" { s = 2; next }
    s == 2 && $0 == "```" { exit } s == 2 { print }' "$root/docs/bgp.md" >"$tmp/doc.$d"
  "$dump" both_md5 "$d" >"$tmp/now.$d"
  if [ -s "$tmp/doc.$d" ] && cmp -s "$tmp/doc.$d" "$tmp/now.$d"; then pass; else
    fail "docs/bgp.md sample of $d differs from bgp_render_dump both_md5 $d (paste it again)"
  fi
done

finish
