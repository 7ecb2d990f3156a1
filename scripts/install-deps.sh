#!/usr/bin/env bash
# Installs the Debian 12 packages medseal builds, tests and runs with, only those missing, and
# the npm packages of the JavaScript tests (tests/fhir_js, tests/portal); with --fuzz, what
# `make fuzz` needs besides those.
# Run as root (CI, fresh machines) or with sudo available. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libssl-dev            # SHA-256, Ed25519, TLS
  libsqlite3-dev        # the embedded store
  libpq-dev postgresql-15   # the PostgreSQL store; make test runs a throwaway cluster
  nlohmann-json3-dev    # JSON
  libcpp-httplib-dev    # HTTP server and client
  libcli11-dev          # command-line parsing
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and benchmarks
  golang-go golang-golang-x-mod-dev            # interop tests with Go's sumdb/note and sumdb/tlog
  curl sqlite3 procps
  openssl               # the command line scripts/test-pki.sh makes the test CA and certificates with
  rsyslog               # the syslog daemon the alert tests send RFC 5424 messages to
  chromium              # the browser the portal tests drive (tests/portal, playwright-core)
)

# --fuzz (make fuzz): clang 14 with libFuzzer and its sanitizer runtimes, and Python for the
# script that makes the seed corpora.
if [ "${1:-}" = "--fuzz" ]; then
  packages=(clang-14 libclang-rt-14-dev llvm-14 python3)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run tests/fhir_js. Asked for by command, not by package: a machine may have
# them from elsewhere (a nodejs package that bundles npm), and Debian's npm would conflict.
if [ "${1:-}" != "--fuzz" ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--fuzz" ] && exit 0

# The npm packages of tests/fhir_js and tests/portal, exactly as their package-lock.json files pin
# them; again only when node_modules is missing or older than the lock file.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for dir in "$root/tests/fhir_js" "$root/tests/portal"; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "npm ci in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
