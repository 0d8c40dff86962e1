#!/usr/bin/env bash
# WCAG AA contrast of web/static/style.css: every text colour on the
# backgrounds it is used on is at least 4.5:1, and the borders of form
# fields and the focus outline at least 3:1 against white (WCAG 1.4.11).
# The colours are read from the stylesheet (its :root variables and the
# rules named below), so a colour changed there is checked here.
source "$(dirname "$0")/lib.sh"
css="$(dirname "$0")/../../web/static/style.css"
out=$(/usr/bin/python3 - "$css" <<'EOF'
import re, sys
css = open(sys.argv[1]).read()
var = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{6})", css))
def rule(sel, prop):
    # "sel {": exactly that selector; "sel": the first rule whose selector starts so
    pat = (re.escape(sel[:-1].strip()) + r"\s*" if sel.endswith("{") else re.escape(sel) + r"[^{]*")
    m = re.search(r"(?:^|\n|\}\s*)" + pat + r"\{([^}]*)\}", css)
    v = re.search(r"(?:^|;)\s*" + prop + r":\s*([^;]+)", m.group(1)).group(1).strip()
    v = re.sub(r"var\(--([a-z]+)\)", lambda g: var[g.group(1)], v)
    h = re.search(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", v).group(0)
    return h if len(h) == 7 else "#" + "".join(c * 2 for c in h[1:])
def lum(h):
    c = [int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
def ratio(a, b):
    x, y = sorted((lum(a), lum(b)), reverse=True)
    return (x + 0.05) / (y + 0.05)
W = "#ffffff"
checks = [
    ("body text", var["fg"], var["bg"], 4.5),
    ("muted text on the page", var["muted"], var["bg"], 4.5),
    ("muted text on white", var["muted"], W, 4.5),
    ("links and accent on white", var["accent"], W, 4.5),
    ("error text on white", var["bad"], W, 4.5),
    ("button text", rule("button {", "color"), rule("button {", "background"), 4.5),
    ("state pill", var["fg"], rule(".state {", "background"), 4.5),
    ("active pill", var["ok"], rule(".state-active", "background"), 4.5),
    ("pending pill", var["accent"], rule(".state-pending", "background"), 4.5),
    ("failed pill", var["bad"], rule(".state-failed", "background"), 4.5),
    ("notice", var["fg"], rule(".notice", "background"), 4.5),
    ("graph b_to_a line", rule("svg .line-ba", "stroke"), W, 3),
    ("form field border", rule("input, select, textarea", "border"), W, 3),
    ("focus outline", rule("a:focus-visible", "outline"), W, 3),
]
for name, fg, bg, need in checks:
    r = ratio(fg, bg)
    print(("ok" if r >= need else "FAIL") + " %s: %s on %s is %.2f:1 (needs %.1f)" % (name, fg, bg, r, need))
EOF
)
[ -n "$out" ] || { fail "could not read $css"; finish; exit 1; }
while IFS= read -r line; do
  case $line in ok*) pass ;; FAIL*) fail "${line#FAIL }" ;; *) fail "the check did not run: $line" ;; esac
done <<<"$out"
finish
