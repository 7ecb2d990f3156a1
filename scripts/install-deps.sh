#!/usr/bin/env bash
# Installs the Debian 12 packages medseal builds, tests and runs with, only those missing, and
# the npm packages of the JavaScript FHIR tests (tests/fhir_js); with --fuzz, what `make fuzz`
# needs besides those.
# Run as root (CI, fresh machines) or with sudo available. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libssl-dev            # SHA-256, Ed25519, TLS
  libsqlite3-dev        # the embedded store
  nlohmann-json3-dev    # JSON
  libcpp-httplib-dev    # HTTP server and client
  libcli11-dev          # command-line parsing
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and benchmarks
  golang-go golang-golang-x-mod-dev            # interop tests with Go's sumdb/note and sumdb/tlog
  curl sqlite3 procps
  openssl               # the command line scripts/test-pki.sh makes the test CA and certificates with
  rsyslog               # the syslog daemon the alert tests send RFC 5424 messages to
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

# The npm packages of tests/fhir_js, exactly as its package-lock.json pins them; again only
# when node_modules is missing or older than the lock file.
fhir_js="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/fhir_js"
if [ ! -f "$fhir_js/node_modules/.package-lock.json" ] ||
   [ "$fhir_js/package-lock.json" -nt "$fhir_js/node_modules/.package-lock.json" ]; then
  echo "npm ci in tests/fhir_js"
  (cd "$fhir_js" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
