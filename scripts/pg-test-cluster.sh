#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on loopback for the test run (the PostgreSQL half of "one suite,
# two stores"). Debian's postgresql-15 binaries; the cluster lives in a temporary directory owned
# by an unprivileged user (PostgreSQL refuses to run as root: the "postgres" user when this runs as
# root, else the caller), listens on 127.0.0.1 on a free port with trust authentication, and runs
# with fsync off unless PG_TEST_FSYNC=on (benchmarks): it holds only test data and is deleted
# afterwards, and the stores' own durability setting (synchronous_commit) is unchanged.
#
#   pg-test-cluster.sh start DIR     starts a cluster in DIR (new or empty); prints its URL
#   pg-test-cluster.sh stop DIR      stops it and deletes DIR
#   pg-test-cluster.sh run CMD...    starts one, runs CMD with MEDSEAL_TEST_PG set to its URL,
#                                    then stops and deletes it, also when CMD fails or is
#                                    interrupted; exits with CMD's status
set -euo pipefail

bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "${PG_TEST_USER:-postgres}" -- "$@"
  else
    "$@"
  fi
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local dir="$1"
  [ -x "$bin/initdb" ] || { echo "pg-test-cluster: no $bin/initdb (apt-get install postgresql-15)" >&2; exit 1; }
  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chown "${PG_TEST_USER:-postgres}" "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U medseal --auth=trust -E UTF8 --no-locale \
    --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  local port
  for _ in $(seq 1 20); do
    port=$(shuf -i 20000-59999 -n 1)
    port_is_free "$port" || continue
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o \
      "-h 127.0.0.1 -p $port -k $dir -c fsync=${PG_TEST_FSYNC:-off} -c full_page_writes=${PG_TEST_FSYNC:-off} -c max_connections=400" \
      >/dev/null; then
      local url="postgresql://medseal@127.0.0.1:$port/postgres"
      echo "$url" >"$dir/url"
      echo "$url"
      return 0
    fi
  done
  echo "pg-test-cluster: could not start PostgreSQL (see $dir/server.log)" >&2
  tail -5 "$dir/server.log" >&2 || true
  exit 1
}

stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

run() {
  run_dir=$(mktemp -d "${TMPDIR:-/tmp}/medseal-pg.XXXXXX")  # global: the EXIT trap reads it
  trap 'stop "$run_dir"' EXIT
  trap 'exit 130' INT TERM
  local url
  url=$(start "$run_dir")
  echo "pg-test-cluster: PostgreSQL for this run at $url"
  local rc=0
  MEDSEAL_TEST_PG="$url" "$@" || rc=$?
  return "$rc"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  run) shift; [ $# -ge 1 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }; run "$@" ;;
  *) echo "usage: $0 start DIR | stop DIR | run CMD..." >&2; exit 2 ;;
esac
