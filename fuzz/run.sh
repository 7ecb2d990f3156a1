#!/usr/bin/env bash
# Runs every fuzz target built in BUILD_DIR for SECONDS each, JOBS at a time, and prints a table of
# executions per target. Usage: fuzz/run.sh BUILD_DIR SECONDS [JOBS [TARGET...]] (default: all)
#
# Seeds are made from ../shared by fuzz/make_corpus.py into BUILD_DIR/seeds (never into the repo);
# what a target learns is kept in BUILD_DIR/corpus/<target> for the next run; a crash leaves its
# input in BUILD_DIR/crashes/<target>/ and the log in BUILD_DIR/logs/<target>.log, and makes this
# script exit 1. Reproduce one with: BUILD_DIR/<target> BUILD_DIR/crashes/<target>/crash-...
set -euo pipefail
build="$1"
seconds="$2"
jobs="${3:-1}"
shift $(($# < 3 ? $# : 3))
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="$repo/../shared"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in "$repo"/fuzz/*_fuzz.cc; do targets+=("$(basename "$source" .cc)"); done
fi

rm -rf "$build/seeds"
python3 "$repo/fuzz/make_corpus.py" "$shared" "$build/seeds"
mkdir -p "$build/logs"
for target in "${targets[@]}"; do rm -f "$build/logs/$target".*; done

run_one() {
  local target="$1" dict=() flags=()
  mkdir -p "$build/corpus/$target" "$build/crashes/$target" "$build/seeds/$target"
  [ -f "$repo/fuzz/$target.dict" ] && dict=(-dict="$repo/fuzz/$target.dict")
  # fuzz/<target>.flags: libFuzzer flags of one target, one a line, '#' comments saying why.
  [ -f "$repo/fuzz/$target.flags" ] && mapfile -t flags < <(grep -v '^#' "$repo/fuzz/$target.flags")
  # -timeout: one input taking longer is a hang, reported like a crash. -rss_limit_mb bounds a
  # target's memory (the API target rebuilds its world, so growth means a leak).
  if "$build/$target" "${dict[@]}" "${flags[@]}" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 \
       -print_final_stats=1 -artifact_prefix="$build/crashes/$target/" \
       "$build/corpus/$target" "$build/seeds/$target" >"$build/logs/$target.log" 2>&1; then
    echo ok >"$build/logs/$target.result"
  else
    echo FAILED >"$build/logs/$target.result"
  fi
}
export -f run_one
export build seconds repo
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

failed=0
printf '%-22s %14s %10s %8s  %s\n' target executions "exec/s" corpus result
for target in "${targets[@]}"; do
  log="$build/logs/$target.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=$(cat "$build/logs/$target.result")
  [ "$result" = ok ] || failed=1
  printf '%-22s %14s %10s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" \
    "$(ls "$build/corpus/$target" | wc -l)" "$result"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzzing found a crash: see $build/logs/<target>.log and $build/crashes/<target>/" >&2
  exit 1
fi
