#!/usr/bin/env bash
# Installs the Debian 12 packages medseal builds, tests and runs with, only those missing.
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
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
