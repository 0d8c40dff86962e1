#!/usr/bin/env bash
# ofp13_oracle.sh - have Open vSwitch decode the messages our OpenFlow 1.3
# codec writes, as an independent check of the bytes.
#
# Usage:
#   tests/unit/ofp13_oracle.sh PROGRAM   run "PROGRAM --write-golden TMPDIR"
#                                        (e.g. the built test_ofp13) and
#                                        check the files it writes
#   tests/unit/ofp13_oracle.sh DIR       check DIR/*.bin as they are
#
# For every NAME.bin it runs `ovs-ofctl ofp-parse NAME.bin` and requires:
# exit status 0, no "decode error" and no warning from OVS, and every
# expected fragment listed below for NAME in the decoded text. A .bin file
# without expectations, or expectations without a .bin file, is a failure
# too, so the two lists cannot drift apart silently.
# The last line printed is "N passed, N failed"; the exit status is 0 only
# when nothing failed (2 for usage errors, 77 "skipped" without ovs-ofctl).

set -u

usage() {
    echo "usage: $0 PROGRAM|DIR" >&2
    echo "  PROGRAM: a binary accepting --write-golden DIR (test_ofp13)" >&2
    echo "  DIR: a directory of NAME.bin files, one OpenFlow message each" >&2
    exit 2
}

[ $# -eq 1 ] || usage
if ! command -v ovs-ofctl >/dev/null 2>&1; then
    echo "skipped: ovs-ofctl not found: install Open vSwitch (Debian package" \
         "openvswitch-common) to run the oracle"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -d "$1" ]; then
    dir=$1
elif [ -f "$1" ] && [ -x "$1" ]; then
    dir=$work/golden
    mkdir -p "$dir"
    if ! "$1" --write-golden "$dir" >"$work/write.log" 2>&1; then
        echo "FAIL: '$1 --write-golden $dir' failed:" >&2
        cat "$work/write.log" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
else
    echo "$1: neither a directory nor an executable file" >&2
    usage
fi

# Expected fragments of ovs-ofctl's text, one per line: "NAME<TAB>FRAGMENT".
# A fragment starting with "line:" must match a whole output line.
# Notes on what OVS prints:
#  - set_field vlan_vid shows the OXM value including OFPVID_PRESENT:
#    4116 = 0x1014 = PRESENT | 20.
#  - a vlan_vid match with mask is shown as vlan_tci=VALUE/MASK.
#  - OVS prints no cookie for a flow stats request, and prints table,
#    out_port and out_group only when they restrict; the whole-line check
#    on that request therefore confirms table=ALL, out_port=out_group=ANY.
#  - priority 0x8000 (the default) is not printed.
expectations() {
    cat <<'EOF'
hello	line:OFPT_HELLO (OF1.3) (xid=0x1):
hello	line: version bitmap: 0x04
echo_request	OFPT_ECHO_REQUEST (OF1.3) (xid=0x2): 4 bytes of payload
echo_request	70 69 6e 67
echo_reply	OFPT_ECHO_REPLY (OF1.3) (xid=0x2): 4 bytes of payload
echo_reply	70 69 6e 67
features_request	line:OFPT_FEATURES_REQUEST (OF1.3) (xid=0x3):
flow_add	line:OFPT_FLOW_MOD (OF1.3) (xid=0x10): ADD priority=100,in_port=3,dl_vlan=10 cookie:0x5 send_flow_rem actions=push_vlan:0x8100,set_field:4116->vlan_vid,output:4
flow_delete_strict	line:OFPT_FLOW_MOD (OF1.3) (xid=0x11): DEL_STRICT priority=100,in_port=3,dl_vlan=10 cookie:0x2a/0xffffffffffffffff actions=drop
flow_vlan_masked	line:OFPT_FLOW_MOD (OF1.3) (xid=0x12): ADD priority=50,vlan_tci=0x1000/0x1000 cookie:0x7 actions=pop_vlan,output:2
flow_meter	line:OFPT_FLOW_MOD (OF1.3) (xid=0x13): ADD priority=10,in_port=1 cookie:0x9 idle:30 hard:300 actions=meter:5,output:2
barrier_request	line:OFPT_BARRIER_REQUEST (OF1.3) (xid=0x20):
flow_stats_request	line:OFPST_FLOW request (OF1.3) (xid=0x21): in_port=3
port_desc_request	line:OFPST_PORT_DESC request (OF1.3) (xid=0x22): port=ANY
error	line:OFPT_ERROR (OF1.3) (xid=0x23): OFPFMFC_TABLE_FULL
error	line:OFPT_BARRIER_REQUEST (OF1.3) (xid=0x20):
features_reply	line:OFPT_FEATURES_REPLY (OF1.3) (xid=0x3): dpid:0000000000000abc
features_reply	line:n_tables:254, n_buffers:256
features_reply	line:capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS
barrier_reply	line:OFPT_BARRIER_REPLY (OF1.3) (xid=0x20):
flow_stats_reply	line:OFPST_FLOW reply (OF1.3) (xid=0x21): flags=[more]
flow_stats_reply	line: cookie=0x5, duration=12.0000005s, table=0, n_packets=7, n_bytes=700, send_flow_rem priority=100,in_port=3,dl_vlan=10 actions=push_vlan:0x8100,set_field:4116->vlan_vid,output:4
flow_stats_reply	line: cookie=0x0, duration=1s, table=0, n_packets=0, n_bytes=0, priority=0 actions=drop
flow_stats_reply_foreign	line:OFPST_FLOW reply (OF1.3) (xid=0x30):
flow_stats_reply_foreign	line: cookie=0x99, duration=5s, table=1, n_packets=0, n_bytes=0, ip actions=goto_table:2
flow_stats_reply_foreign	line: cookie=0x77, duration=0s, table=0, n_packets=0, n_bytes=0, priority=5,in_port=7 actions=group:1,set_field:02:00:00:00:00:09->eth_dst,output:9
port_desc_reply	line:OFPST_PORT_DESC reply (OF1.3) (xid=0x22):
port_desc_reply	line: 1(br0-p1): addr:02:00:00:00:00:01
port_desc_reply	state:      LIVE
port_desc_reply	current:    10GB-FD COPPER
port_desc_reply	speed: 10000 Mbps now, 10000 Mbps max
port_desc_reply	line: LOCAL(br0): addr:02:00:00:00:00:ff
port_desc_reply	config:     PORT_DOWN
port_desc_reply	state:      LINK_DOWN
port_desc_reply	speed: 0 Mbps now, 0 Mbps max
port_status	line:OFPT_PORT_STATUS (OF1.3) (xid=0x0): MOD: 1(br0-p1): addr:02:00:00:00:00:01
port_status	state:      LINK_DOWN
port_status	speed: 10000 Mbps now, 10000 Mbps max
meter_add	line:OFPT_METER_MOD (OF1.3) (xid=0x40): ADD meter=5 kbps burst stats bands=
meter_add	line:type=drop rate=20000 burst_size=2000
meter_modify	line:OFPT_METER_MOD (OF1.3) (xid=0x41): MOD meter=5 kbps burst stats bands=
meter_modify	line:type=drop rate=50000 burst_size=5000
meter_delete	line:OFPT_METER_MOD (OF1.3) (xid=0x42): DEL meter=5 bands=
meter_config_request	line:OFPST_METER_CONFIG request (OF1.3) (xid=0x43): meter=all
meter_stats_request	line:OFPST_METER request (OF1.3) (xid=0x44): meter=5
meter_features_request	line:OFPST_METER_FEATURES request (OF1.3) (xid=0x45):
meter_config_reply	line:OFPST_METER_CONFIG reply (OF1.3) (xid=0x43):
meter_config_reply	line:meter=5 kbps burst stats bands=
meter_config_reply	line:type=drop rate=20000 burst_size=2000
meter_stats_reply	line:OFPST_METER reply (OF1.3) (xid=0x44):
meter_stats_reply	line:meter:5 flow_count:2 packet_in_count:100 byte_in_count:10000 duration:12s bands:
meter_stats_reply	line:0: packet_count:3 byte_count:300
meter_features_reply	line:max_meter:65536 max_bands:1 max_color:0
meter_features_reply	line:band_types: drop
meter_features_reply	line:capabilities: kbps pktps burst stats
bundle_open	line:ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x50):
bundle_open	line: bundle_id=0x1 type=OPEN_REQUEST flags=atomic ordered
bundle_add	line:ONFT_BUNDLE_ADD_MESSAGE (OF1.3) (xid=0x51):
bundle_add	line: bundle_id=0x1 flags=atomic ordered
bundle_add	line:OFPT_FLOW_MOD (OF1.3) (xid=0x51): DEL_STRICT priority=100,in_port=3,dl_vlan=10 cookie:0x2a/0xffffffffffffffff actions=drop
bundle_commit	line:ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x52):
bundle_commit	line: bundle_id=0x1 type=COMMIT_REQUEST flags=atomic ordered
role_request	line:OFPT_ROLE_REQUEST (OF1.3) (xid=0x60): role=primary generation_id=7
role_reply	line:OFPT_ROLE_REPLY (OF1.3) (xid=0x61): role=secondary generation_id=72057594037927978
EOF
}

passed=0
failed=0

# Check one decoded message; prints why it failed, returns non-zero then.
check_one() {
    local name=$1 bin=$2 out=$work/$1.out err=$work/$1.err
    local rc=0 bad=0 frag
    ovs-ofctl ofp-parse "$bin" >"$out" 2>"$err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $name: ovs-ofctl ofp-parse exited $rc"
        bad=1
    fi
    if grep -q 'decode error' "$out"; then
        echo "FAIL $name: OVS reports a decode error"
        bad=1
    fi
    if [ -s "$err" ]; then
        echo "FAIL $name: OVS printed warnings:"
        sed 's/^/    /' "$err"
        bad=1
    fi
    while IFS= read -r frag; do
        if [ "${frag#line:}" != "$frag" ]; then
            grep -qxF -- "${frag#line:}" "$out" && continue
        else
            grep -qF -- "$frag" "$out" && continue
        fi
        echo "FAIL $name: decoded text lacks: ${frag#line:}"
        bad=1
    done < <(expectations | awk -F'\t' -v n="$name" '$1 == n { print $2 }')
    if [ "$bad" -ne 0 ]; then
        echo "  ovs-ofctl output for $bin:"
        sed 's/^/    | /' "$out"
        return 1
    fi
    echo "PASS $name"
}

names=$(expectations | cut -f1 | sort -u)

shopt -s nullglob
for bin in "$dir"/*.bin; do
    name=$(basename "$bin" .bin)
    if ! grep -qxF -- "$name" <<<"$names"; then
        echo "FAIL $name: no expectations for $bin (add them to $0)"
        failed=$((failed + 1))
        continue
    fi
    if check_one "$name" "$bin"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done

for name in $names; do
    if [ ! -f "$dir/$name.bin" ]; then
        echo "FAIL $name: expected $dir/$name.bin, not found"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
