#!/usr/bin/env bash
# Installs the Debian packages peerflow needs to build, run and test, and
# only those that are missing. Does nothing when everything is there.
# Not root and something missing: says what to install and fails.
set -euo pipefail

packages=(
  build-essential pkg-config clang libclang-rt-14-dev
  libpq-dev libmicrohttpd-dev libjansson-dev libsodium-dev libcmocka-dev
  libcurl4-openssl-dev libssl-dev
  postgresql postgresql-contrib
  openvswitch-switch openvswitch-common iproute2 iputils-ping iperf3
  python3-aiosmtpd python3-jsonschema
  chromium nodejs
  wrk curl jq procps
  bird2 frr
  debhelper devscripts lintian scdoc
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# The browser tests' npm packages (playwright-core, pinned by its lock
# file; it drives Debian's chromium, it downloads no browser).
npm_deps() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules/playwright-core" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  npm_deps
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "peerflow: missing Debian packages: ${missing[*]}" >&2
  echo "peerflow: run 'sudo make deps' or 'sudo apt-get install ${missing[*]}'" >&2
  exit 1
fi

echo "peerflow: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# bird2 and frr are for the routers the tests and the demo start in
# namespaces with their own files (tests/e2e/routers.sh); a system-wide
# daemon that installing them started is not ours to run: stop it again
# (where policy-rc.d forbids starting services, as in containers, none was).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for p in "${missing[@]}"; do
    case $p in
      frr) systemctl disable --now frr.service >/dev/null 2>&1 || true ;;
      bird2) systemctl disable --now bird.service >/dev/null 2>&1 || true ;;
    esac
  done
fi
npm_deps
