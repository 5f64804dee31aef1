#!/usr/bin/env bash
# bench/capacity.sh: nasops-capacity forecast over one year of hourly samples
# for 20 targets (175,200 samples, --window 365d), against the same fit done by
# python3 (statistics.linear_regression over the same rows of the same
# database, as the handbook's Python CapacityPlanner would); and
# nasops-capacity record of the local file systems (no NAS) against `df -P` of
# the same folders. Prints the mean wall time of each and the ratios. Asserts
# nothing.
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

# mean_ms COMMAND...: the mean wall time of $runs runs, in milliseconds.
mean_ms() {
    local start end
    start=$(date +%s%N)
    for ((i = 0; i < runs; i++)); do "$@" >/dev/null; done
    end=$(date +%s%N)
    echo $(((end - start) / runs / 1000000))
}

forecast_ms=$(mean_ms "$capacity" forecast --config "$work/nasops.toml" --window 365d --format json)
peer_ms=$(mean_ms /usr/bin/python3 "$work/peer.py" "$work/state/nasops.db")
echo "forecast, 20 targets x 8760 hourly samples: nasops-capacity ${forecast_ms} ms, python3 statistics ${peer_ms} ms," \
     "ratio $(awk -v a="$peer_ms" -v b="$forecast_ms" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')x"

# The first record run downsamples the year of hourly samples (to daily after 30 days); the
# timed runs are the steady state an hourly cron job meets.
"$capacity" record --config "$work/nasops.toml" --no-nas --quiet
echo "after downsampling: $(sqlite3 "$work/state/nasops.db" 'SELECT count(*) FROM capacity_samples') samples"
record_ms=$(mean_ms "$capacity" record --config "$work/nasops.toml" --no-nas --quiet)
df_ms=$(mean_ms df -P "$work/t/1" "$work/t/2" "$work/t/3" "$work/t/4" "$work/t/5" / "$work/state")
echo "record, local file systems (no NAS): nasops-capacity ${record_ms} ms, df -P ${df_ms} ms," \
     "ratio $(awk -v a="$record_ms" -v b="$df_ms" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')x"
