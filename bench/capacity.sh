#!/usr/bin/env bash
# bench/capacity.sh: nasops-capacity forecast over one year of hourly samples
# for 20 targets (175,200 samples, --window 365d), against the same fit done by
# python3 (statistics.linear_regression over the same rows of the same
# database, as the handbook's Python CapacityPlanner would); and
# nasops-capacity record of the local file systems (no NAS) against `df -P` of
# the same folders. Prints the mean wall and CPU (user + sys) time of each,
# the issue's goal (forecast under 100 ms, record under 50 ms plus the NAS
# round trip) and the ratios. Asserts nothing.
#
#   bench/capacity.sh [BUILD_DIR] [RUNS]     defaults: build, 20
set -euo pipefail

build=${1:-build}
runs=${2:-20}
capacity="$build/tools/nasops-capacity"

[[ -x $capacity ]] || { echo "bench/capacity.sh: $capacity is not built (make -f Makefile.ops build)" >&2; exit 66; }
command -v sqlite3 >/dev/null || { echo "bench/capacity.sh: sqlite3 is missing (apt-get install sqlite3)" >&2; exit 69; }

work=$(mktemp -d "${TMPDIR:-/tmp}/nasops-bench-capacity.XXXXXX")
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
mkdir -p "$work/state" "$work/log" "$work/run" "$work/t"
for i in $(seq 1 5); do mkdir -p "$work/t/$i"; done
cat > "$work/nasops.toml" <<TOML
[paths]
state_dir = "$work/state"
log_dir = "$work/log"
run_dir = "$work/run"
[capacity]
targets = ["$work/t/1", "$work/t/2", "$work/t/3", "$work/t/4", "$work/t/5", "/"]
TOML

# The schema comes from nasops-capacity itself; then a year of hourly samples per target.
"$capacity" record --config "$work/nasops.toml" --no-nas --quiet
now=$(date +%s)
sqlite3 "$work/state/nasops.db" <<SQL
DELETE FROM capacity_samples;
WITH RECURSIVE h(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM h WHERE i < 8759),
               t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 20)
INSERT INTO capacity_samples (target, ts, used, total)
SELECT '/bench/volume' || n, $now - (8759 - i) * 3600,
       100000000000 + i * 90000000 * n / 10 + abs(random() % 2000000000), 10000000000000
FROM h, t;
SQL
echo "samples: $(sqlite3 "$work/state/nasops.db" 'SELECT count(*) FROM capacity_samples') in $(sqlite3 "$work/state/nasops.db" 'SELECT count(DISTINCT target) FROM capacity_samples') targets"

cat > "$work/peer.py" <<'PY'
import sqlite3, statistics, sys, time
db = sqlite3.connect(sys.argv[1])
since = int(time.time()) - 365 * 86400
for (target,) in db.execute("SELECT DISTINCT target FROM capacity_samples ORDER BY target"):
    rows = db.execute("SELECT ts, used, total FROM capacity_samples WHERE target = ? AND ts >= ? ORDER BY ts",
                      (target, since)).fetchall()
    xs = [r[0] for r in rows]
    ys = [r[1] for r in rows]
    fit = statistics.linear_regression(xs, ys)
    total = rows[-1][2]
    days = (total - (fit.intercept + fit.slope * xs[-1])) / fit.slope / 86400 if fit.slope > 0 else None
    print(target, fit.slope * 86400, days)
PY

# measure COMMAND...: "WALL CPU", the means of $runs runs in milliseconds; CPU is
# user + sys (of the command's children too), the figure a loaded machine
# disturbs least.
measure() {
    local t
    t=$( { TIMEFORMAT='%R %U %S'; time (for ((i = 0; i < runs; i++)); do "$@" >/dev/null 2>>"$work/stderr"; done); } 2>&1 )
    awk -v r="$runs" '{ printf "%.1f %.1f", $1 * 1000 / r, ($2 + $3) * 1000 / r }' <<<"$t"
}

# report WHAT GOAL_MS NAME "WALL CPU" PEER "WALL CPU": one line, side by side, with the ratios.
report() {
    local what=$1 goal=$2 name=$3 ours=$4 peer=$5 theirs=$6
    awk -v what="$what" -v goal="$goal" -v name="$name" -v peer="$peer" -v o="$ours" -v t="$theirs" 'BEGIN {
        split(o, a, " "); split(t, b, " ")
        printf "%s (goal: under %d ms wall): %s %.1f ms wall, %.1f ms CPU (%s); %s %.1f ms wall, %.1f ms CPU;" \
               " ratio %.1fx wall, %.1fx CPU\n", what, goal, name, a[1], a[2], (a[1] < goal ? "met" : "NOT met"),
               peer, b[1], b[2], (a[1] > 0 ? b[1] / a[1] : 0), (a[2] > 0 ? b[2] / a[2] : 0)
    }'
}

echo "means of $runs runs; the peer's time over nasops-capacity's is the ratio (above 1: nasops-capacity is faster)"
forecast=$(measure "$capacity" forecast --config "$work/nasops.toml" --window 365d --format json)
peer=$(measure /usr/bin/python3 "$work/peer.py" "$work/state/nasops.db")
report "forecast, 20 targets x 8760 hourly samples" 100 nasops-capacity "$forecast" "python3 statistics" "$peer"

# The first record run downsamples the year of hourly samples (to daily after 30 days); the
# timed runs are the steady state an hourly cron job meets.
"$capacity" record --config "$work/nasops.toml" --no-nas --quiet
echo "after downsampling: $(sqlite3 "$work/state/nasops.db" 'SELECT count(*) FROM capacity_samples') samples"
record=$(measure "$capacity" record --config "$work/nasops.toml" --no-nas --quiet)
df=$(measure df -P "$work/t/1" "$work/t/2" "$work/t/3" "$work/t/4" "$work/t/5" / "$work/state")
report "record, local file systems (no NAS; the goal is 50 ms plus the NAS round trip)" 50 nasops-capacity "$record" \
    "df -P" "$df"
