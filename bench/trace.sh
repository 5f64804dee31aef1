#!/usr/bin/env bash
# bench/trace.sh: what tracing costs.
#   1. nasops-trace exec around /bin/true, against /bin/true run directly,
#      against timeout(1), the wrapper cron lines use without tracing, and
#      against `nasops-trace --version` (the binary's start-up alone), taking
#      turns: the median wall time of RUNS runs each, the median and mean CPU
#      time (user+sys, children included) per run, and how many shared
#      libraries nasops-trace loads;
#   2. a tool's run (nasops-health disk) with TRACEPARENT unset and set, and
#      nasops-sync run of SYNC_FILES small files (and 4 large ones) to a local
#      folder with TRACEPARENT unset and set (wall and CPU time, spans written);
#   3. export throughput of SPANS spans to a local OTLP receiver that accepts
#      and discards (python3 http.server), with the CPU time of the exporter
#      and of the receiver, so that a receiver that is the bottleneck shows;
#   4. nasops-trace summary over the same SPANS spans: wall, CPU, peak RSS.
# Prints times and ratios; asserts nothing. Wall times mean something only on
# a quiet machine; CPU times are the figures to compare on a busy one.
#
#   bench/trace.sh [BUILD_DIR] [RUNS] [SPANS]     defaults: build, 200, 1000000
#   SYNC_FILES=N SYNC_RUNS=N bench/trace.sh ...   defaults: 2000 files, 5 runs each
#
# The peer the issue names, otel-cli (github.com/equinix-labs/otel-cli, Go),
# is in no Debian or language package registry this project installs from
# (the PyPI "otel-cli" is an unrelated Python tool), so it is not measured.
set -euo pipefail

build=${1:-build}
runs=${2:-200}
spans=${3:-1000000}
trace="$build/tools/nasops-trace"
health="$build/tools/nasops-health"
sync_tool="$build/tools/nasops-sync"
for b in "$trace" "$health" "$sync_tool"; do
    [[ -x $b ]] || { echo "bench/trace.sh: $b is not built (make -f Makefile.ops build)" >&2; exit 66; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nasops-bench-trace.XXXXXX")
receiver=
cleanup() {
    [[ -n $receiver ]] && kill "$receiver" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/state" "$work/log" "$work/run"
cat > "$work/nasops.toml" <<TOML
[paths]
state_dir = "$work/state"
log_dir = "$work/log"
run_dir = "$work/run"
[health]
disk_paths = ["/"]
TOML
unset TRACEPARENT NASOPS_CONFIG

# Microseconds taken by `runs` calls of the command given.
time_runs() {
    local start end
    start=$(date +%s%N)
    for ((i = 0; i < runs; ++i)); do "$@" >/dev/null 2>&1 || true; done
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000 ))"
}
per_run() { awk -v us="$1" -v n="$runs" 'BEGIN { printf "%.3f ms", us / n / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

echo "== 1. exec overhead ($runs runs each, taken in turns; median wall, median and mean CPU user+sys)"
# One process per run, started by python3 with posix_spawn and reaped with
# wait4: the wall time around both, and the CPU time of the process and its
# children from wait4's rusage. The commands take turns run after run, so
# that a machine busy with something else weighs on all of them alike.
python3 - "$runs" "$trace" "$work/nasops.toml" <<'PY'
import os, shutil, statistics, sys, time
runs, trace, config = int(sys.argv[1]), sys.argv[2], sys.argv[3]
commands = [
    ("/bin/true", ["/bin/true"]),
    ("timeout 1h /bin/true", [shutil.which("timeout"), "1h", "/bin/true"]),
    ("nasops-trace --version", [trace, "--version"]),
    ("nasops-trace exec -- /bin/true", [trace, "--config", config, "exec", "--", "/bin/true"]),
]
null = os.open(os.devnull, os.O_RDWR)
quiet = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
walls = {name: [] for name, _ in commands}
cpus = {name: [] for name, _ in commands}
for _ in range(runs):
    for name, argv in commands:
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=quiet)
        _, status, usage = os.wait4(pid, 0)
        walls[name].append(time.perf_counter() - t0)
        cpus[name].append(usage.ru_utime + usage.ru_stime)
        if status != 0:
            sys.exit(f"bench/trace.sh: {name} failed (wait status {status})")
results = {}
for name, _ in commands:
    results[name] = (statistics.median(walls[name]) * 1e3, statistics.median(cpus[name]) * 1e3,
                     statistics.mean(cpus[name]) * 1e3)
    wall, cpu, cpu_mean = results[name]
    print(f"{name:<40} median {wall:7.3f} ms   cpu median {cpu:7.3f} ms, mean {cpu_mean:7.3f} ms")
direct, wrapped = results["/bin/true"], results["nasops-trace exec -- /bin/true"]
startup, timeout = results["nasops-trace --version"], results["timeout 1h /bin/true"]
print(f"{'exec overhead':<40} median {wrapped[0] - direct[0]:7.3f} ms   cpu median {wrapped[1] - direct[1]:7.3f} ms"
      f"   (goal < 2 ms; {wrapped[0] / timeout[0]:.2f}x timeout(1) wall, {wrapped[1] / timeout[1]:.2f}x CPU)")
print(f"{'  of which start-up (--version)':<40} median {startup[0] - direct[0]:7.3f} ms   cpu median {startup[1] - direct[1]:7.3f} ms")
PY
printf '%-40s %s (timeout(1): %s)\n' "shared libraries nasops-trace loads" \
    "$(ldd "$trace" | grep -c '=>')" "$(ldd "$(command -v timeout)" | grep -c '=>')"

echo "== 2. a tool with TRACEPARENT unset and set ($runs runs each)"
unset_us=$(time_runs "$health" --config "$work/nasops.toml" --no-cpu disk)
set_us=$(TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \
    time_runs "$health" --config "$work/nasops.toml" --no-cpu disk)
printf '%-40s %s\n' "nasops-health disk, TRACEPARENT unset" "$(per_run "$unset_us")"
printf '%-40s %s (%s)\n' "nasops-health disk, TRACEPARENT set" "$(per_run "$set_us")" "$(ratio "$set_us" "$unset_us")"

sync_files=${SYNC_FILES:-2000}
sync_runs=${SYNC_RUNS:-5}
echo "-- nasops-sync run: $sync_files x 4 KiB + 4 x 1 MiB to a local folder ($sync_runs runs each, order turning, after sync(1))"
mkdir -p "$work/media/big"
python3 - "$work/media" "$sync_files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(4096))
for i in range(4):
    with open(os.path.join(root, "big", "b%d.bin" % i), "wb") as f:
        f.write(os.urandom(1 << 20))
PY
# One fresh state and NAS folder per run: every run uploads every file.
sync_once() {  # sync_once MODE -> "wall user sys spans"
    local dir="$work/sync-$1" times spans=0
    rm -rf "$dir"
    mkdir -p "$dir/state" "$dir/log" "$dir/run" "$dir/nas"
    printf '[paths]\nstate_dir = "%s"\nlog_dir = "%s"\nrun_dir = "%s"\n[sync]\nsources = ["%s"]\ntarget = "%s"\nmin_age = "0s"\n' \
        "$dir/state" "$dir/log" "$dir/run" "$work/media" "$dir/nas" > "$dir/nasops.toml"
    sync  # no run pays for the writeback of the one before
    local with=(env -u TRACEPARENT)
    [[ $1 == set ]] && with=(env TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01)
    "${with[@]}" /usr/bin/time -o "$dir/time" -f '%e %U %S' \
        "$sync_tool" --config "$dir/nasops.toml" run --quiet >/dev/null 2>&1 || echo "nasops-sync run failed" >&2
    times=$(tail -n 1 "$dir/time")
    [[ -f $dir/log/traces.jsonl ]] && spans=$(wc -l < "$dir/log/traces.jsonl")
    echo "$times $spans"
}
sums_unset="0 0 0 0"
sums_set="0 0 0 0"
add4() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%s %s %s %s", x[1]+y[1], x[2]+y[2], x[3]+y[3], x[4]+y[4] }'; }
for ((r = 0; r < sync_runs; ++r)); do  # the order turns each round
    if ((r % 2 == 0)); then
        sums_unset=$(add4 "$sums_unset" "$(sync_once unset)")
        sums_set=$(add4 "$sums_set" "$(sync_once set)")
    else
        sums_set=$(add4 "$sums_set" "$(sync_once set)")
        sums_unset=$(add4 "$sums_unset" "$(sync_once unset)")
    fi
done
awk -v u="$sums_unset" -v s="$sums_set" -v n="$sync_runs" 'BEGIN {
    split(u, a, " "); split(s, b, " ");
    printf "%-40s %.3f s wall, %.3f s CPU (user+sys), %d spans\n", "nasops-sync run, TRACEPARENT unset", a[1]/n, (a[2]+a[3])/n, a[4]/n;
    printf "%-40s %.3f s wall, %.3f s CPU (user+sys), %d spans\n", "nasops-sync run, TRACEPARENT set", b[1]/n, (b[2]+b[3])/n, b[4]/n;
    printf "%-40s %.3fx wall, %.3fx CPU\n", "set / unset", b[1]/a[1], (b[2]+b[3])/(a[2]+a[3]);
}'

echo "== 3. export of $spans spans"
python3 - "$work/log/traces.jsonl" "$spans" <<'PY'
import json, os, sys
path, n = sys.argv[1], int(sys.argv[2])
trace = os.urandom(16).hex()
with open(path, "w") as f:
    for i in range(n):
        d = (i * 7919) % 100000
        f.write(json.dumps({"v": 1, "ts": "2026-11-22T03:15:01.000Z", "tool": "dbmaint", "host": "cam-01",
                            "kind": "span", "name": "step %d" % (i % 20), "trace_id": trace,
                            "span_id": "%016x" % (i + 1), "parent_span_id": "00f067aa0ba902b7",
                            "span_kind": "internal", "start": "2026-11-22T03:15:00.000000000Z",
                            "end": "2026-11-22T03:15:00.%09dZ" % (d * 1000), "duration_ms": d / 1000.0,
                            "status": "error" if i % 50 == 0 else "unset",
                            "attributes": {"seq": i, "job": "nightly"}}, separators=(",", ":")) + "\n")
PY
port_file="$work/port"
python3 - "$port_file" <<'PY' &
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
receiver=$!
for _ in $(seq 100); do [[ -f $port_file ]] && break; sleep 0.1; done
# CPU seconds (user+sys) a process has used so far, from /proc.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
receiver_before=$(cpu_of "$receiver")
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$(cat "$port_file")" \
    /usr/bin/time -f '%e %U %S %M' -o "$work/export.time" \
    "$trace" --config "$work/nasops.toml" export --batch-size 2000
receiver_after=$(cpu_of "$receiver")
read -r wall user sys rss < "$work/export.time"
awk -v wall="$wall" -v user="$user" -v sys="$sys" -v rss="$rss" -v n="$spans" \
    -v recv="$(awk -v a="$receiver_before" -v b="$receiver_after" 'BEGIN { print b - a }')" 'BEGIN {
    printf "export: %.2f s wall, %.0f spans/s (goal >= 100000); exporter cpu %.2f s (%.0f spans per cpu-second), peak %d KiB\n",
        wall, n / wall, user + sys, n / (user + sys), rss
    printf "receiver (python3 http.server) cpu during the export: %.2f s (%.0f%% of the wall time)\n",
        recv, 100 * recv / wall }'
start=$(date +%s%N)
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$(cat "$port_file")" OTEL_EXPORTER_OTLP_COMPRESSION=none \
    "$trace" --config "$work/nasops.toml" export >/dev/null
end=$(date +%s%N)
awk -v ns=$((end - start)) 'BEGIN { printf "export again (nothing new): %.3f s\n", ns / 1e9 }'

echo "== 4. summary over $spans spans"
/usr/bin/time -f '%e %U %S %M' -o "$work/summary.time" \
    "$trace" --config "$work/nasops.toml" summary --since 100000d | head -3
read -r wall user sys rss < "$work/summary.time"
awk -v wall="$wall" -v user="$user" -v sys="$sys" -v rss="$rss" \
    'BEGIN { printf "summary: %.2f s wall (goal < 2 s), cpu %.2f s, peak %d KiB\n", wall, user + sys, rss }'
