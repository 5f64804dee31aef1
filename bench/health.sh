#!/usr/bin/env bash
# bench/health.sh: the local default check set of nasops-health (disk, memory,
# load, fds, process, db, logs; no CPU sample) against the equivalent
# monitoring-plugins commands run one after another, as an NRPE or cron setup
# runs them. Prints the total wall time of each side over the same number of
# runs, and the ratio. Asserts nothing.
#
#   bench/health.sh [BUILD_DIR] [RUNS]     defaults: build, 50
#
# Needs the Debian packages monitoring-plugins-basic and
# monitoring-plugins-standard (make -f Makefile.ops deps).
set -euo pipefail

build=${1:-build}
runs=${2:-50}
health="$build/tools/nasops-health"
plugins=/usr/lib/nagios/plugins

[[ -x $health ]] || { echo "bench/health.sh: $health is not built (make -f Makefile.ops build)" >&2; exit 66; }
for p in check_disk check_swap check_load check_procs check_file_age check_log; do
    [[ -x $plugins/$p ]] || { echo "bench/health.sh: $plugins/$p is missing (apt-get install monitoring-plugins-basic monitoring-plugins-standard)" >&2; exit 69; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nasops-bench-health.XXXXXX")
sleeper=
cleanup() {
    [[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The same targets for both sides: a database, a log folder, a daemon with a pidfile.
mkdir -p "$work/state" "$work/log" "$work/run"
sqlite3 "$work/state/nasops.db" "CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(100000));"
for i in $(seq 1 2000); do
    printf '%s nasops-sync[1] info: uploaded file %d\n' "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$i"
done > "$work/log/nasops-sync.log"
sleep 3600 &
sleeper=$!
echo "$sleeper" > "$work/run/sleeper.pid"
cat > "$work/nasops.toml" <<TOML
[paths]
state_dir = "$work/state"
log_dir = "$work/log"
run_dir = "$work/run"
[health]
disk_paths = ["/"]
processes = ["$work/run/sleeper.pid"]
TOML

nasops_once() {
    "$health" --config "$work/nasops.toml" --no-cpu --format nagios disk memory load fds process db logs >/dev/null || true
}

plugins_once() {
    {
        "$plugins/check_disk" -w 20% -c 10% -W 20% -K 10% -p /
        "$plugins/check_swap" -n ok -w 20% -c 10%
        "$plugins/check_load" -r -w 1.5,1.5,1.5 -c 2,2,2
        # fds: no monitoring-plugins check counts file handles; check_procs is the nearest per-process one.
        "$plugins/check_procs" -w 1: -c 1: -a "3600" -C sleep
        "$plugins/check_procs" -c 1:1 --ereg-argument-array="^sleep 3600$"
        "$plugins/check_file_age" -w 86400 -c 172800 -W 0 -C 0 -f "$work/state/nasops.db"
        "$plugins/check_file_age" -w 86400 -c 172800 -f "$work/log/nasops-sync.log"
        "$plugins/check_log" -F "$work/log/nasops-sync.log" -O "$work/check_log.old" -q ERROR
    } >/dev/null 2>&1 || true
}

# Seconds taken by `runs` calls of $1, with nanosecond clock readings.
time_runs() {
    local start end
    start=$(date +%s%N)
    for ((i = 0; i < runs; ++i)); do "$1"; done
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000 ))"  # microseconds
}

nasops_once; plugins_once  # warm the page cache for both

nasops_us=$(time_runs nasops_once)
plugins_us=$(time_runs plugins_once)

awk -v runs="$runs" -v n="$nasops_us" -v p="$plugins_us" 'BEGIN {
    printf "runs: %d (disk, memory, load, fds, process, db, logs; no CPU sample)\n", runs
    printf "nasops-health, one run:                 %8.2f ms per set\n", n / runs / 1000
    printf "monitoring-plugins, one after another:  %8.2f ms per set (8 commands)\n", p / runs / 1000
    printf "ratio monitoring-plugins / nasops-health: %.2fx\n", p / n
}'
