#!/bin/sh
# Alert throughput: records per second through 50 rules, and peak memory
# against the number of records (it must stay flat: the state grows with the
# number of alerts, not of records).
#
#   bench/alert.sh [BUILD_DIR]      (default: build)
#
# Prints one line per size (100,000 and 1,000,000 records): records, seconds,
# records/s, peak RSS; then the two RSS side by side. Asserts nothing; the
# issue's target is 200,000 records/s with RSS flat in the number of records.
# Needs python3 (to make the records) and /usr/bin/time.
set -eu
build=${1:-build}
tool=$build/tools/nasops-alert
[ -x "$tool" ] || { echo "bench/alert.sh: $tool is not built" >&2; exit 66; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 50 rules: 40 on check records (each on one check name), 10 on metrics with
# numeric conditions, a regex matcher among them.
{
    printf '[paths]\nstate_dir = "%s/state"\nlog_dir = "%s/log"\n\n[alert]\n' "$work" "$work"
    i=0
    while [ $i -lt 40 ]; do
        printf '[[alert.rule]]\nname = "check_%d"\nmatch = { kind = "check", name = "c%d" }\n' $i $((i % 20))
        printf 'expr = "value > %d%% and status >= \\"warning\\""\nfor = "5m"\nseverity = "warning"\n\n' $((50 + i))
        i=$((i + 1))
    done
    while [ $i -lt 50 ]; do
        printf '[[alert.rule]]\nname = "metric_%d"\nmatch = { kind = "metric", name = "=~m[0-9]+" }\n' $i
        printf 'expr = "value * 2 > %d and labels.job != \\"nightly\\""\nseverity = "critical"\n\n' $((1000 + i))
        i=$((i + 1))
    done
} > "$work/nasops.toml"
chmod 600 "$work/nasops.toml"

# Records cycle through 20 checks and 20 metrics on 50 hosts: about 2,000 series.
/usr/bin/python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
lines = []
for n in range(100000):
    host = "cam-%02d" % (n % 50)
    if n % 2:
        lines.append('{"v":1,"ts":"2026-11-22T04:00:00.000Z","tool":"health","host":"%s","kind":"check","name":"c%d","target":"/srv/%d","status":"%s","value":%.3f,"unit":"ratio","message":"%d%% used","duration_ms":3}\n'
                     % (host, n % 20, n % 3, ["ok", "warning", "critical"][n % 3], (n % 100) / 100.0, n % 100))
    else:
        lines.append('{"v":1,"ts":"2026-11-22T04:00:00.000Z","tool":"capacity","host":"%s","kind":"metric","name":"m%d","value":%d,"unit":"bytes","labels":{"job":"j%d"}}\n'
                     % (host, n % 20, n % 1200, n % 4))
with open(work + "/100k.jsonl", "w") as f:
    f.write("".join(lines))
PY

for copies in 1 10; do
    rm -rf "$work/state"
    i=0
    : > "$work/input.jsonl"
    while [ $i -lt $copies ]; do cat "$work/100k.jsonl" >> "$work/input.jsonl"; i=$((i + 1)); done
    records=$((copies * 100000))
    status=0
    /usr/bin/time -f '%e %U %M' -o "$work/time" "$tool" --config "$work/nasops.toml" --quiet \
        --input "$work/input.jsonl" > /dev/null || status=$?
    # 0, 1, 2: the worst severity firing; anything else is a failure.
    [ "$status" -le 2 ] || { echo "bench/alert.sh: nasops-alert exited $status" >&2; exit 1; }
    read -r seconds user rss_kib < "$work/time"
    # Wall-clock and CPU (user) figures: on a shared machine they differ.
    awk -v n=$records -v s="$seconds" -v u="$user" -v m="$rss_kib" \
        'BEGIN { printf "nasops-alert: %8d records, 50 rules: %6.2f s, %9.0f records/s (%9.0f per CPU-second), peak RSS %6.1f MiB\n", n, s, n / s, n / u, m / 1024 }'
    echo "$rss_kib" >> "$work/rss"
done
awk 'NR == 1 { small = $1 } NR == 2 { large = $1 }
     END { printf "nasops-alert: peak RSS 100k vs 1M records: %.1f vs %.1f MiB (x%.2f for 10x the records)\n", small / 1024, large / 1024, large / small }' "$work/rss"
