#!/bin/sh
# nasops-dbmaint against sqlite3 on the same database, side by side:
#
#   bench/dbmaint.sh [BUILD_DIR] [ROWS]     (defaults: build, 1000000)
#
# Makes a sync database of ROWS completed media rows, each with 1 KiB of
# payload (about 1.1 GiB for a million), then prints:
#   backup: nasops-dbmaint backup (copy, fsync, SHA-256 sidecar, read-only
#           quick_check) vs sqlite3 .backup vs sqlite3 'VACUUM INTO', and the ratios;
#   purge:  nasops-dbmaint purge (batches of 5,000) vs one DELETE statement,
#           each on a fresh copy of the database while a writer (python3's
#           sqlite3, as nasops-sync writes: one short IMMEDIATE transaction
#           every 10 ms) runs, with the writer's longest wait for the lock
#           (its whole transaction, so an auto-checkpoint it runs counts too) and p99.
# Asserts nothing. The issue's goals: backup within 1.2x sqlite3 .backup, and
# a writer's longest wait under 100 ms during the purge.
# Needs sqlite3, python3 and /usr/bin/time; about 4x the database's size free in $TMPDIR.
set -eu
build=${1:-build}
rows=${2:-1000000}
dbmaint=$build/tools/nasops-dbmaint
sync=$build/tools/nasops-sync
for t in "$dbmaint" "$sync"; do
    [ -x "$t" ] || { echo "bench/dbmaint.sh: $t is not built" >&2; exit 66; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state" "$work/media" "$work/nas" "$work/out"
cat > "$work/nasops.toml" <<TOML
[paths]
state_dir = "$work/state"
log_dir = "$work/log"
run_dir = "$work/run"

[sync]
sources = ["$work/media"]
target = "$work/nas"
TOML
chmod 600 "$work/nasops.toml"

# The tables as nasops-sync makes them (with its purge declaration), then the rows.
"$sync" run --quiet --config "$work/nasops.toml"
db=$work/state/nasops.db
sqlite3 "$db" <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO media_files (source, rel_path, size, state, discovered_at, completed_at, last_error)
SELECT '$work/media', 'cam/' || i || '.mp4', 1048576, 'completed', '2026-01-01T00:00:00.000Z',
       '2026-01-01T00:10:00.000Z', hex(randomblob(512)) FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
size=$(stat -c %s "$db")
awk -v r="$rows" -v s="$size" 'BEGIN { printf "database: %d rows, %.0f MiB\n", r, s / 1048576 }'

seconds() { # command...: wall-clock seconds of one run
    /usr/bin/time -f '%e' -o "$work/time" "$@" > /dev/null
    cat "$work/time"
}
warm() { cat "$db" > /dev/null; sync; }

warm; ours=$(seconds "$dbmaint" backup --quiet --config "$work/nasops.toml" --backup-dir "$work/out/ours")
warm; dot=$(seconds sqlite3 "$db" ".backup '$work/out/dot.db'")
sync
warm; into=$(seconds sqlite3 "$db" "VACUUM INTO '$work/out/into.db'")
rm -rf "$work/out"
awk -v o="$ours" -v d="$dot" -v v="$into" 'BEGIN {
    printf "backup  nasops-dbmaint backup %6.2f s | sqlite3 .backup %6.2f s (x%.2f) | VACUUM INTO %6.2f s (x%.2f)\n", o, d, o / d, v, o / v }'
echo "        (nasops-dbmaint also fsyncs, hashes the copy for its sidecar and quick_checks it read-only)"

cat > "$work/writer.py" <<'PY'
import os, sqlite3, sys, time
path, stop = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path, timeout=60, isolation_level=None)
waits, n = [], 0
while not os.path.exists(stop):
    t = time.monotonic()
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO media_files (source, rel_path, state) VALUES ('/w', ?, 'pending')", ("w%d" % n,))
    db.execute("COMMIT")
    waits.append(time.monotonic() - t)
    n += 1
    time.sleep(0.01)
waits.sort()
print("%.1f %d %.1f" % (waits[-1] * 1000, n, waits[int(len(waits) * 0.99)] * 1000))
PY

purge_with_writer() { # label command...
    label=$1; shift
    cp "$db" "$work/copy.db"
    rm -f "$work/stop"
    sed "s|$work/state|$work/copystate|" "$work/nasops.toml" > "$work/copy.toml"
    mkdir -p "$work/copystate"; mv "$work/copy.db" "$work/copystate/nasops.db"
    /usr/bin/python3 "$work/writer.py" "$work/copystate/nasops.db" "$work/stop" > "$work/writer.out" &
    writer=$!
    sleep 1
    t=$(seconds "$@")
    touch "$work/stop"
    wait "$writer"
    read -r worst writes p99 < "$work/writer.out"
    printf '%-34s %7.2f s, writer: %5d writes, longest wait %8.1f ms, p99 %7.1f ms\n' "$label" "$t" "$writes" "$worst" "$p99"
    rm -rf "$work/copystate"
}
purge_with_writer "purge  nasops-dbmaint purge" "$dbmaint" purge --quiet --config "$work/copy.toml"
purge_with_writer "purge  one DELETE statement" sqlite3 -cmd ".timeout 60000" "$work/copystate/nasops.db" \
    "DELETE FROM media_files WHERE completed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days') AND state = 'completed'"
