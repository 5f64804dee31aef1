#!/bin/sh
# nasops-dbmaint against sqlite3 on the same database, side by side:
#
#   bench/dbmaint.sh [BUILD_DIR] [ROWS] [PART]  (defaults: build, 1000000, all)
#
# Makes a sync database of ROWS completed media rows, each with 1 KiB of
# payload (about 1.1 GiB for a million), then prints (PART backup, purge or all):
#   backup: nasops-dbmaint backup (copy, fsync, SHA-256 sidecar, read-only
#           quick_check) vs sqlite3 .backup vs sqlite3 'VACUUM INTO', and
#           backup --gzip vs sqlite3 .backup then gzip -1; wall time and CPU
#           time (user + system) of each, and the ratios;
#   purge:  nasops-dbmaint purge (batches of at most 5,000) vs one DELETE
#           statement, each on a fresh copy of the database while a writer
#           (python3's sqlite3, as nasops-sync writes: synchronous=NORMAL, one
#           short IMMEDIATE transaction every 10 ms) runs, with the writer's longest wait
#           (its whole transaction, so an auto-checkpoint it runs counts too)
#           and p99, then where its longest wait went: waiting for the lock
#           (BEGIN IMMEDIATE) or in its COMMIT, and how many of its commits
#           ran a checkpoint that had pages to copy.
# Asserts nothing. The issue's goals: backup within 1.2x sqlite3 .backup, and
# a writer's longest wait under 100 ms during the purge.
# Needs sqlite3, python3 and /usr/bin/time; about 4x the database's size free in $TMPDIR.
set -eu
build=${1:-build}
rows=${2:-1000000}
part=${3:-all}
case $part in backup | purge | all) ;; *) echo "bench/dbmaint.sh: PART is backup, purge or all" >&2; exit 64 ;; esac
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

seconds() { # command...: "wall cpu" seconds of one run (cpu = user + system)
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > /dev/null
    awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$work/time"
}
warm() { cat "$db" > /dev/null; sync; }

if [ "$part" != purge ]; then
mkdir -p "$work/out"
warm; ours=$(seconds "$dbmaint" backup --quiet --config "$work/nasops.toml" --backup-dir "$work/out/ours")
warm; dot=$(seconds sqlite3 "$db" ".backup '$work/out/dot.db'")
rm -f "$work/out/dot.db"; sync
warm; into=$(seconds sqlite3 "$db" "VACUUM INTO '$work/out/into.db'")
rm -rf "$work/out"; mkdir -p "$work/out"; sync
warm; ours_gz=$(seconds "$dbmaint" backup --gzip --quiet --config "$work/nasops.toml" --backup-dir "$work/out/ours")
gz_bytes=$(stat -c %s "$work"/out/ours/nasops-*.db.gz)
rm -rf "$work/out"; mkdir -p "$work/out"; sync
warm; dot_gz=$(seconds sh -c "sqlite3 '$db' \".backup '$work/out/dot.db'\" && gzip -1 '$work/out/dot.db'")
rm -rf "$work/out"
echo "$ours $dot $into $ours_gz $dot_gz $gz_bytes $size" | awk '{
    printf "backup  nasops-dbmaint backup   %6.2f s (cpu %6.2f s) | sqlite3 .backup   %6.2f s (cpu %6.2f s) | wall x%.2f, cpu x%.2f\n", $1, $2, $3, $4, $1 / $3, $2 / $4
    printf "        nasops-dbmaint backup   %6.2f s (cpu %6.2f s) | VACUUM INTO       %6.2f s (cpu %6.2f s) | wall x%.2f, cpu x%.2f\n", $1, $2, $5, $6, $1 / $5, $2 / $6
    printf "        nasops-dbmaint --gzip   %6.2f s (cpu %6.2f s) | .backup + gzip -1 %6.2f s (cpu %6.2f s) | wall x%.2f, cpu x%.2f; the .db.gz is %.0f%% of the database\n", $7, $8, $9, $10, $7 / $9, $8 / $10, 100 * $11 / $12 }'
echo "        (nasops-dbmaint also fsyncs, hashes the copy for its sidecar and quick_checks it read-only)"
fi
[ "$part" = backup ] && exit 0

cat > "$work/writer.py" <<'PY'
import os, sqlite3, sys, time
path, stop = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path, timeout=60, isolation_level=None)
# As nasops-sync's store opens it (common/src/db/store.cpp): with SQLite's
# default FULL, each commit's own fsync of the WAL waits behind the purge's
# checkpoint writes, a wait nasops-sync never has.
db.execute("PRAGMA synchronous = NORMAL")
waits, locks, commits, checkpointing, n = [], [], [], [], 0
shm = None
while not os.path.exists(stop):
    t = time.monotonic()
    db.execute("BEGIN IMMEDIATE")
    t1 = time.monotonic()
    db.execute("INSERT INTO media_files (source, rel_path, state) VALUES ('/w', ?, 'pending')", ("w%d" % n,))
    # The WAL's frames and how many of them are checkpointed, from the -shm
    # header: a commit that leaves 1000 frames or more in the WAL runs a
    # checkpoint (wal_autocheckpoint), which copies the frames not yet copied.
    # The descriptor is never closed: closing one would drop SQLite's POSIX locks.
    if shm is None:
        shm = os.open(path + "-shm", os.O_RDONLY)
    header = os.pread(shm, 100, 0)
    frames, copied = int.from_bytes(header[16:20], "little"), int.from_bytes(header[96:100], "little")
    db.execute("COMMIT")
    t2 = time.monotonic()
    waits.append(t2 - t); locks.append(t1 - t); commits.append(t2 - t1)
    checkpointing.append(frames + 1 >= 1000 and copied < frames + 1)
    n += 1
    time.sleep(0.01)
worst = sorted(range(n), key=lambda i: waits[i])[-1]
ck = [commits[i] for i in range(n) if checkpointing[i]]
print("%.1f %d %.1f %.1f %.1f %d %.1f" % (waits[worst] * 1000, n, sorted(waits)[int(n * 0.99)] * 1000,
      locks[worst] * 1000, commits[worst] * 1000, len(ck), max(ck or [0]) * 1000))
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
    read -r worst writes p99 lock commit ckpts ckpt_worst < "$work/writer.out"
    printf '%-34s %7.2f s (cpu %5.2f s), writer: %5d writes, longest wait %8.1f ms, p99 %7.1f ms\n' "$label" \
        ${t% *} ${t#* } "$writes" "$worst" "$p99"
    printf '%-34s the longest: %.1f ms for the lock + %.1f ms in COMMIT; %d commits ran a checkpoint (longest %.1f ms)\n' \
        "" "$lock" "$commit" "$ckpts" "$ckpt_worst"
    rm -rf "$work/copystate"
}
purge_with_writer "purge  nasops-dbmaint purge" "$dbmaint" purge --quiet --config "$work/copy.toml"
purge_with_writer "purge  one DELETE statement" sqlite3 -cmd ".timeout 60000" "$work/copystate/nasops.db" \
    "DELETE FROM media_files WHERE completed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 days') AND state = 'completed'"
