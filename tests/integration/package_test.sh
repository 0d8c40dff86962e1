#!/usr/bin/env bash
# The Debian package, as an operator gets it: `make deb` builds it (an
# optimised build of its own), `dpkg -x` unpacks it into a scratch root,
# and the installed binary, given only a configuration file, migrates the
# test PostgreSQL, checks its configuration and serves /healthz, a page
# and a static file from the package's own data directory. Then lintian
# (no errors), systemd-analyze verify on both units, man --warnings on
# both pages, and the man page against `peerflow --help` (every command
# and option of the usage is in peerflow(1)). Skipped only when debhelper
# is missing (make deps installs it).
source "$(dirname "$0")/lib.sh"
root_dir=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v dh >/dev/null || ! command -v dpkg-buildpackage >/dev/null; then
  echo "skipped: debhelper is not installed (make deps installs it)"
  exit 77
fi
tmp=$(mktemp -d /tmp/pf-package-test.XXXXXX)
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# the installed binary must work from its configuration file alone
unset $(env | sed -n 's/^\(PEERFLOW_[A-Z_]*\)=.*/\1/p' | grep -v '^PEERFLOW_TEST_PG_\|^PEERFLOW_ROOT$\|^PEERFLOW_BIN$')

# --- build
before=$(git -C "$root_dir" status --porcelain --untracked-files=all)
start=$SECONDS
if ! make -C "$root_dir" --no-print-directory deb >"$tmp/build.log" 2>&1; then
  tail -n 40 "$tmp/build.log"
  fail "make deb failed"
  finish
  exit 1
fi
deb=$(ls "$root_dir"/build/deb/peerflow_*_amd64.deb)
echo "make deb: $((SECONDS - start)) s, $(stat -c %s "$deb") bytes: $deb"
expect_eq "the build leaves the tree as it was" "$before" "$(git -C "$root_dir" status --porcelain --untracked-files=all)"

# --- the files it installs
dpkg-deb -c "$deb" | awk '{print $1, $6}' >"$tmp/contents"
for f in ./usr/bin/peerflow ./etc/peerflow/peerflow.conf ./lib/systemd/system/peerflow.service \
  ./lib/systemd/system/peerflow-worker@.service ./usr/share/man/man1/peerflow.1.gz \
  ./usr/share/man/man5/peerflow.conf.5.gz ./usr/share/bash-completion/completions/peerflow \
  ./usr/share/peerflow/migrations/0001_core.sql ./usr/share/peerflow/templates/login.html \
  ./usr/share/peerflow/static/style.css ./usr/share/doc/peerflow/operations.md.gz; do
  expect_eq "the package has $f" 1 "$(awk -v f="$f" '$2 == f' "$tmp/contents" | wc -l)"
done
expect_eq "every migration is in it" "$(ls "$root_dir"/migrations/*.sql | wc -l)" \
  "$(grep -c '/usr/share/peerflow/migrations/.*\.sql$' "$tmp/contents")"
expect_eq "postinst creates the peerflow user" 1 \
  "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst | grep -c 'adduser --system')"
for script in postinst postrm; do
  dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$script" >"$tmp/$script"
  expect_ok "$script parses" sh -n "$tmp/$script"
done

sr=$tmp/root
dpkg -x "$deb" "$sr"
P=$sr/usr/bin/peerflow
version=$(dpkg-deb -f "$deb" Version)
expect_eq "--version is the package's" "peerflow $version" "$("$P" --version)"

# --- lintian: no errors; warnings are printed
start=$SECONDS
lintian "$deb" 2>&1 | grep -v 'running with root privileges' >"$tmp/lintian"
echo "lintian: $((SECONDS - start)) s"
sed 's/^/lintian: /' "$tmp/lintian"
expect_eq "lintian: no errors" 0 "$(grep -c '^E:' "$tmp/lintian")"

# --- the installed binary with a configuration file
db=pf_package_test
"$PSQL" -h "$PEERFLOW_TEST_PG_HOST" -p "$PEERFLOW_TEST_PG_PORT" -U peerflow -d postgres -qAtc \
  "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
pg="host=$PEERFLOW_TEST_PG_HOST port=$PEERFLOW_TEST_PG_PORT dbname=$db"
conf=$tmp/peerflow.conf
cat >"$conf" <<EOF
# as an operator writes it
database_url = $pg user=peerflow_app
worker_database_url = $pg user=peerflow_worker
migrate_database_url = $pg user=peerflow
migrations_dir = $sr/usr/share/peerflow/migrations
templates_dir = $sr/usr/share/peerflow/templates
static_dir = $sr/usr/share/peerflow/static
key_dir = $tmp/keys
listen = 127.0.0.1:0
log_format = json
EOF
chmod 600 "$conf"

expect_error "migrate --check before migrating" "schema does not match" "$P" --config "$conf" migrate --check
expect_eq "exit 4 on a schema mismatch" 4 "$("$P" --config "$conf" migrate --check 2>/dev/null; echo $?)"
expect_ok "migrate with the installed migrations" "$P" --config "$conf" migrate
expect_eq "migrate --check after" "migrations: $(ls "$root_dir"/migrations/*.sql | wc -l) applied, schema matches" \
  "$("$P" --config "$conf" migrate --check)"

out=$(PEERFLOW_SMTP_URL='smtps://mailer:topsecret@mx.example:465' "$P" --config "$conf" config check 2>&1)
expect_eq "config check passes" 0 $?
expect_eq "config check names the file" 1 "$(grep -c "^config file: $conf$" <<<"$out")"
expect_eq "a value from the file, with its line" 1 \
  "$(grep -cE "^migrations_dir +$sr/usr/share/peerflow/migrations +file $conf:5$" <<<"$out")"
expect_eq "a value from the environment" 1 \
  "$(grep -cE '^smtp_url +smtps://mailer:\*\*\*\*\*@mx.example:465 +environment PEERFLOW_SMTP_URL$' <<<"$out")"
expect_eq "a default" 1 "$(grep -cE '^mail_from +peerflow@localhost +default$' <<<"$out")"
expect_eq "the password is not printed" 0 "$(grep -c topsecret <<<"$out")"
out=$(PEERFLOW_CONFIG=$conf "$P" config check 2>&1)
expect_eq "PEERFLOW_CONFIG chooses the file" 1 "$(grep -c "^config file: $conf$" <<<"$out")"
printf 'migrate_database_url = postgresql://peerflow:pw@localhost/pf\n' >"$tmp/open.conf"
chmod 644 "$tmp/open.conf"
expect_error "a password readable by others" "open.conf holds a password .*chmod 600" \
  "$P" --config "$tmp/open.conf" config check
printf 'listen = 127.0.0.1:1\nlisen = 127.0.0.1:2\n' >"$tmp/typo.conf"
expect_error "an unknown key" "typo.conf:2: unknown key 'lisen'" "$P" --config "$tmp/typo.conf" config check
expect_error "a missing named file" "cannot read the configuration file" "$P" --config "$tmp/none.conf" config check

# serve from the package's data directory, logging JSON
"$P" --config "$conf" serve --no-workers >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*serving on .*(port \([0-9]*\)).*/\1/p' "$tmp/serve.out" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
expect_eq "serve started" yes "$([ -n "$port" ] && echo yes)"
if [ -n "$port" ]; then
  expect_eq "/healthz answers" "database: ok" "$(curl -sS "http://127.0.0.1:$port/healthz")"
  expect_eq "a page from the packaged templates" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/login")"
  expect_eq "the packaged stylesheet" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/static/style.css")"
fi
kill "$srv_pid"; wait "$srv_pid"; srv_pid=
expect_eq "every stdout line is a JSON object" 0 "$(jq -e -c . "$tmp/serve.out" >/dev/null 2>&1; echo $?)"
expect_eq "the access log line in JSON" 1 \
  "$(jq -r 'select(.component == "web" and .level == "info") | .msg' "$tmp/serve.out" | grep -c '^127.0.0.1 GET /healthz 200 ')"
expect_eq "serve said nothing on stderr" "" "$(cat "$tmp/serve.err")"

# --- systemd units: verified as installed, the binary and man pages
# taken from the scratch root
mkdir -p "$tmp/units"
for u in peerflow.service peerflow-worker@.service; do
  sed "s|/usr/bin/peerflow|$P|g" "$sr/lib/systemd/system/$u" >"$tmp/units/$u"
  expect_eq "$u runs as peerflow, hardened" 4 \
    "$(grep -cE '^(User=peerflow|ProtectSystem=strict|NoNewPrivileges=true|PrivateTmp=true)$' "$tmp/units/$u")"
  expect_eq "$u checks the schema first" 1 "$(grep -c "^ExecStartPre=$P migrate --check$" "$tmp/units/$u")"
done
cp "$tmp/units/peerflow-worker@.service" "$tmp/units/peerflow-worker@mailer.service"
for u in peerflow.service peerflow-worker@.service peerflow-worker@mailer.service; do
  out=$(MANPATH=$sr/usr/share/man systemd-analyze verify "$tmp/units/$u" 2>&1)
  rc=$?
  expect_eq "systemd-analyze verify $u" "0 ''" "$rc '$out'"
done
expect_eq "the worker template runs worker --only %i" 1 \
  "$(grep -c "^ExecStart=$P worker --only %i$" "$tmp/units/peerflow-worker@.service")"

# --- man pages: no warnings, and peerflow(1) covers the usage
for page in man1/peerflow.1.gz man5/peerflow.conf.5.gz; do
  warnings=$(MANWIDTH=80 man --warnings -l "$sr/usr/share/man/$page" 2>&1 >/dev/null)
  expect_eq "man --warnings $page" "" "$warnings"
done
MANWIDTH=1000 man -l "$sr/usr/share/man/man1/peerflow.1.gz" 2>/dev/null | col -b >"$tmp/man1.txt"
"$P" --help >"$tmp/usage"
# commands: the words of each usage line up to the first argument, with
# a|b alternatives and "x | y" pairs expanded
awk '/^  [a-z]/ {
  line = $0; sub(/^ +/, "", line); sub(/   +.*/, "", line)  # the description column goes
  split(line, parts, / \| /)
  for (p in parts) {
    split(parts[p], w, " "); cmd = ""
    for (i = 1; i in w && w[i] ~ /^[a-z][a-z|-]*$/; i++) cmd = cmd (cmd ? " " : "") w[i]
    if (cmd == "") continue
    k = split(cmd, c, " "); last = c[k]; base = substr(cmd, 1, length(cmd) - length(last))
    m = split(last, alt, "|"); for (j = 1; j <= m; j++) print base alt[j]
  }
}' "$tmp/usage" | sort -u >"$tmp/commands"
expect_eq "the usage lists commands" yes "$([ "$(wc -l <"$tmp/commands")" -ge 20 ] && echo yes)"
while read -r cmd; do
  expect_eq "peerflow($cmd) in the man page" 1 "$(grep -qF "peerflow $cmd" "$tmp/man1.txt" && echo 1 || echo 0)"
done <"$tmp/commands"
grep -oE -- '--[a-z][a-z0-9-]*' "$tmp/usage" | sort -u >"$tmp/options"
while read -r opt; do
  expect_eq "option $opt in the man page" 1 "$(grep -qF -- "$opt" "$tmp/man1.txt" && echo 1 || echo 0)"
done <"$tmp/options"
# and every key of config check is in peerflow.conf(5)
MANWIDTH=1000 man -l "$sr/usr/share/man/man5/peerflow.conf.5.gz" 2>/dev/null | col -b >"$tmp/man5.txt"
"$P" --config "$conf" config check 2>/dev/null | awk 'NR > 1 && $1 != "configuration" {print $1}' >"$tmp/keys.txt"
expect_eq "config check lists the keys" yes "$([ "$(wc -l <"$tmp/keys.txt")" -ge 15 ] && echo yes)"
while read -r key; do
  expect_eq "key $key in peerflow.conf(5)" 1 "$(grep -qw -- "$key" "$tmp/man5.txt" && echo 1 || echo 0)"
done <"$tmp/keys.txt"

# --- bash completion: parses, and offers every command
comp=$sr/usr/share/bash-completion/completions/peerflow
expect_ok "completion parses" bash -n "$comp"
for c in $(cut -d' ' -f1 "$tmp/commands" | sort -u); do
  expect_eq "completion offers $c" 1 "$(grep -A2 'local cmds=' "$comp" | grep -qw -- "$c" && echo 1 || echo 0)"
done

echo "package: $(stat -c %s "$deb") bytes, $(grep -vc '/$' "$tmp/contents") files"
finish
