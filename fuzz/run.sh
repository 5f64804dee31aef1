#!/usr/bin/env bash
# Runs every fuzz target built in BUILD_DIR (or those named) for SECONDS each,
# under ASan+UBSan, one after another: `make -f Makefile.ops fuzz`.
# What a target finds grows its corpus in BUILD_DIR/fuzz-corpus/<target>
# (the repository's fuzz/corpus/<target> is read, never written); a crash,
# a broken property, a leak or an input slower than 10 s leaves the input in
# BUILD_DIR/fuzz-artifacts/<target>/ and makes the run exit 1, after all
# targets ran.
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
set -euo pipefail
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

if [ $# -eq 0 ]; then
  set -- $(cd "$build/fuzz" && ls ./*_fuzz | sed 's|^\./||; s|_fuzz$||')
fi

# The symbolizer the build found, for stacks with function names and lines.
symbolizer=$(sed -n 's/^NASOPS_LLVM_SYMBOLIZER:FILEPATH=//p' "$build/CMakeCache.txt")
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer

failed=()
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
printf '%-18s %8s %12s %8s  %s\n' target seconds runs corpus result >"$summary"
for target in "$@"; do
  corpus=$build/fuzz-corpus/$target artifacts=$build/fuzz-artifacts/$target log=$build/fuzz-$target.log
  mkdir -p "$corpus" "$artifacts"
  echo "fuzz: $target for ${seconds}s (log: $log)"
  start=$(date +%s)
  rc=0
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$here/corpus/$target" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc): $(ls "$artifacts" | head -1)"
    failed+=("$target")
    grep -m1 -E 'ERROR: |fuzz property failed|runtime error' "$log" || true
  fi
  printf '%-18s %8s %12s %8s  %s\n' "$target" $(($(date +%s) - start)) "${runs:-?}" \
    "$(ls "$corpus" | wc -l)" "$result" >>"$summary"
done
cat "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${failed[*]} found a failure; inputs in $build/fuzz-artifacts/, logs in $build/fuzz-*.log" >&2
  exit 1
fi
