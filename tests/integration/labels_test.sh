#!/usr/bin/env bash
# Labels on every field and keyboard reach, on every page template
# (tests/integration/labels_check.py says what is checked). The checker is
# first shown to catch each kind of problem in a template made for it, so
# a checker that passes everything cannot pass here.
source "$(dirname "$0")/lib.sh"
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
check=$root/tests/integration/labels_check.py
tmp=$(mktemp -d /tmp/pf-labels-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# refused: one template per kind of problem
cat >"$tmp/bad.html" <<'HTML'
<form method="post">
  <input type="hidden" name="csrf" value="{{_page.csrf}}">
  <input name="reason" placeholder="reason">
  <label for="vlan">VLAN</label>
  <input id="vlan2" name="vlan">
  <select id="port" name="port"></select>
  <textarea name="message"></textarea>
  <label for="gone">A label of nothing</label>
  <a tabindex="3" href="/x">x</a>
  <button onclick="go()">Go</button>
  <a class="fake-button">click</a>
</form>
HTML
out=$(python3 "$check" "$tmp/bad.html"); rc=$?
expect_eq "the checker fails a template with problems" 1 "$rc"
for want in 'bad.html:3: <input name="reason"' 'bad.html:5: <input name="vlan" id="vlan2">' \
            'bad.html:6: <select name="port" id="port">' 'bad.html:7: <textarea name="message"' \
            'bad.html:4: <label for="vlan"> names no field' 'bad.html:8: <label for="gone">' \
            'bad.html:9: <a> has tabindex=3' 'bad.html:10: <button> has an inline event handler' \
            'bad.html:11: <a> without href'; do
  case $out in *"$want"*) pass ;; *) fail "the checker misses '$want' in: $out" ;; esac
done
expect_eq "nothing else is reported" 9 "$(printf '%s\n' "$out" | grep -c .)"

# passed: every way of naming a field
cat >"$tmp/good.html" <<'HTML'
<form method="post">
  <input type="hidden" name="csrf" value="x">
  <input type="email" name="email" autocomplete="username" hidden>
  <label for="vlan">VLAN</label> <input id="vlan" name="vlan">
  <label>Port <select name="port"><option>a</option></select></label>
  <textarea name="m" aria-label="Message"></textarea>
  <span id="r-l">Reason</span><input name="r" aria-labelledby="r-l">
  <label for="c{{id}}">Choose</label><input type="radio" id="c{{id}}" name="c">
  <button type="submit">Send</button>
</form>
HTML
expect_ok "the checker passes labelled fields" python3 "$check" "$tmp/good.html"
printf 'a:focus { outline: none; }\n' >"$tmp/bad.css"
out=$(python3 "$check" --css "$tmp/bad.css"); rc=$?
expect_eq "the checker fails outline: none" "1 bad.css:1: outline: none hides where the keyboard focus is" \
  "$rc $(basename "$out")"

# the real templates and style sheet
out=$(cd "$root" && python3 "$check" web/templates/*.html --css web/static/style.css 2>&1); rc=$?
if [ "$rc" -eq 0 ]; then pass; else fail "page templates:
$out"; fi
expect_eq "every template was read" "$(ls "$root"/web/templates/*.html | wc -l)" \
  "$(cd "$root" && python3 - web/templates/*.html <<'PY'
import sys
sys.path.insert(0, 'tests/integration')
from labels_check import Template
n = 0
for p in sys.argv[1:]:
    t = Template(); t.feed(open(p, encoding='utf-8').read()); n += 1
print(n)
PY
)"
finish
