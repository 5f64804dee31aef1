#!/usr/bin/env bash
# bench/sync.sh: nasops-sync against its peers, side by side, on one loopback
# sshd restricted to aes128-ctr + hmac-sha2-256 (what libssh2 1.10 negotiates),
# so that every client pays the same cipher. Prints wall time, throughput and
# peak RSS and client CPU time of each, and ratios to nasops-sync. Asserts nothing.
#
#   bench/sync.sh BUILD_TOOLS_DIR [--quick] [--only small|big|link|incremental] [--jobs N] [--runs N] [--no-peers]
#
# --runs N measures each tool N times (default 1) and prints the medians; the
# order of the tools turns by one each round, so that none always runs right
# after the same other one. rclone runs in the first round only: it is an
# order of magnitude slower and its spread changes no ratio that matters.
# Every measurement starts after sync(1), so that no tool pays for the
# writeback of the one before.
# --no-peers runs nasops-sync alone, for quick turns while tuning it.
# NASOPS_BENCH_WRAP="perf record -g -o /tmp/sync.perf" (say) runs the first
# nasops-sync of each data set under that command, for profiling.
#
# Data: one 1 GiB file (also through a link of about a Gigabit: --only link)
# and 10,000 x 4 KiB files (--quick: 256 MiB and 2,000),
# each uploaded to a NAS folder on disk (/var/tmp) and on tmpfs (/dev/shm);
# then an incremental run over 100,000 already-synced files (--quick: 20,000).
# Peers: scp (SFTP protocol), rsync over ssh, rclone sftp (when installed),
# and `ssh host 'cat > /dev/null'` as the ceiling of the transport. nasops-sync
# runs twice: verifying by SHA-256 on the NAS (the default), and by size, which
# is what the peers check.
set -euo pipefail

tools=${1:?usage: bench/sync.sh BUILD_TOOLS_DIR [--quick] [--only small|big|link|incremental] [--jobs N] [--runs N] [--no-peers]}
tools=$(cd "$tools" && pwd)
shift
quick=0
only=
jobs=4
runs=1
peers=1
bwlimit=  # set for the link data set: nasops-sync's --bwlimit
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=1 ;;
        --only) only=$2; shift ;;
        --jobs) jobs=$2; shift ;;
        --runs) runs=$2; shift ;;
        --no-peers) peers=0 ;;
        *) echo "bench/sync.sh: unknown argument $1" >&2; exit 64 ;;
    esac
    shift
done
big_mib=1024 small_count=10000 incremental_count=100000
if [[ $quick == 1 ]]; then big_mib=256 small_count=2000 incremental_count=20000; fi

for cmd in /usr/sbin/sshd ssh ssh-keygen scp rsync /usr/bin/time python3; do
    command -v "$cmd" > /dev/null || { echo "bench/sync.sh: $cmd is missing (make -f Makefile.ops deps)" >&2; exit 69; }
done
have_rclone=0
command -v rclone > /dev/null && have_rclone=1

disk=$(mktemp -d /var/tmp/nasops-bench.XXXXXX)
mem=$(mktemp -d /dev/shm/nasops-bench.XXXXXX)
sshd_pid=
cleanup() {
    [[ -n $sshd_pid ]] && kill "$sshd_pid" 2> /dev/null || true
    rm -rf "$disk" "$mem"
}
trap cleanup EXIT

# ---- a loopback sshd ----------------------------------------------------------
keys=$disk/keys
mkdir -p "$keys" "$disk/home"
ssh-keygen -q -t ed25519 -N '' -f "$keys/host" -C nasops-bench-host
ssh-keygen -q -t ed25519 -N '' -f "$keys/client" -C nasops-bench-client
cp "$keys/client.pub" "$keys/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=$(id -un)
[[ $(id -u) == 0 ]] && mkdir -p /run/sshd
cat > "$keys/sshd_config" << EOF
ListenAddress 127.0.0.1
Port $port
HostKey $keys/host
PidFile $keys/sshd.pid
AuthorizedKeysFile $keys/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
UseDNS no
Subsystem sftp internal-sftp
Ciphers aes128-ctr
MACs hmac-sha2-256
MaxStartups 64
MaxSessions 64
SetEnv HOME=$disk/home
EOF
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$keys/host.pub")" > "$keys/known_hosts"
/usr/sbin/sshd -D -e -f "$keys/sshd_config" 2> "$keys/sshd.log" &
sshd_pid=$!
for _ in $(seq 100); do grep -q "Server listening" "$keys/sshd.log" 2> /dev/null && break; sleep 0.05; done
grep -q "Server listening" "$keys/sshd.log" || { cat "$keys/sshd.log" >&2; exit 69; }

ssh_opts=(-i "$keys/client" -o "UserKnownHostsFile=$keys/known_hosts" -o StrictHostKeyChecking=yes
          -o BatchMode=yes -c aes128-ctr -o MACs=hmac-sha2-256)
ssh_cmd="ssh ${ssh_opts[*]} -p $port"
cat > "$disk/rclone.conf" << EOF
[nas]
type = sftp
host = 127.0.0.1
port = $port
user = $user
key_file = $keys/client
known_hosts_file = $keys/known_hosts
shell_type = unix
EOF

# ---- measuring ----------------------------------------------------------------
# samples[key]="wall rss_kib cpu_s;..." ; results[key]=median seconds ; rss[key]=median KiB ;
# cpu[key]=median client CPU seconds (user + system)
declare -A samples results rss cpu
measure() {  # measure KEY CMD...: one sample
    local key=$1
    shift
    sync
    local out=$disk/time.$$
    if /usr/bin/time -f '%e %M %U %S' -o "$out" "$@" > "$disk/last.out" 2> "$disk/last.err"; then
        local wall kib user system
        read -r wall kib user system < "$out"
        samples["$key"]+="$wall $kib $user $system;"
    else
        samples["$key"]+="FAILED;"
        echo "  $key failed:" >&2
        tail -5 "$disk/last.err" >&2
    fi
}
summarize() {  # summarize KEY: the medians of its samples into results, rss and cpu
    local key=$1 line
    line=$(python3 - "${samples[$key]}" << 'PY'
import statistics, sys
runs = [r.split() for r in sys.argv[1].split(";") if r]
if not runs or any(r == ["FAILED"] for r in runs):
    print("FAILED 0 0")
else:
    wall = statistics.median(float(r[0]) for r in runs)
    kib = statistics.median(int(r[1]) for r in runs)
    cpu = statistics.median(float(r[2]) + float(r[3]) for r in runs)
    print(f"{wall:.2f} {int(kib)} {cpu:.2f}")
PY
)
    read -r "results[$key]" "rss[$key]" "cpu[$key]" <<< "$line"
}

nasops_config() {  # nasops_config STATE_DIR SOURCE REMOTE_ROOT
    cat > "$1/nasops.toml" << EOF
[paths]
state_dir = "$1"
log_dir = "$1/log"
run_dir = "$1/run"
[nas]
host = "127.0.0.1"
port = $port
user = "$user"
identity_file = "$keys/client"
known_hosts = "$keys/known_hosts"
remote_root = "$3"
[sync]
sources = ["$2"]
min_age = "0s"
jobs = $jobs
EOF
    chmod 600 "$1/nasops.toml"
}

fresh() { rm -rf "$1"; mkdir -p "$1"; }

run_one() {  # run_one TOOL LABEL SOURCE_DIR NAS_ROOT: one measurement of TOOL
    local tool=$1 label=$2 src=$3 nas=$4
    local key="$label $tool"
    case $tool in
        ssh-cat)
            fresh "$nas/cat"
            measure "$key" bash -c "tar cf - -C '$src' . | $ssh_cmd $user@127.0.0.1 'cat > /dev/null'" ;;
        scp)
            fresh "$nas/scp"
            measure "$key" scp -q -r "${ssh_opts[@]}" -P "$port" "$src" "$user@127.0.0.1:$nas/scp/" ;;
        rsync)
            fresh "$nas/rsync"
            measure "$key" rsync -a -e "$ssh_cmd" "$src/" "$user@127.0.0.1:$nas/rsync/" ;;
        rclone)
            # By default rclone checks each file with a remote md5sum/sha1sum of
            # its own; rclone-nohash leaves that out, as a plain copy does.
            fresh "$nas/rclone"
            measure "$key" rclone --config "$disk/rclone.conf" copy --transfers 4 "$src" "nas:$nas/rclone" ;;
        rclone-nohash)
            fresh "$nas/rclone"
            measure "$key" rclone --config "$disk/rclone.conf" copy --transfers 4 --sftp-disable-hashcheck \
                "$src" "nas:$nas/rclone" ;;
        nasops-sync | nasops-size)
            fresh "$nas/nasops"
            local state=$disk/state-$RANDOM
            fresh "$state"
            nasops_config "$state" "$src" "$nas/nasops"
            if [[ $tool == nasops-sync ]]; then
                measure "$key" ${NASOPS_BENCH_WRAP:-} "$tools/nasops-sync" run --quiet ${bwlimit:+--bwlimit "$bwlimit"} \
                    --config "$state/nasops.toml"
                [[ $(find "$nas/nasops" -type f | wc -l) == $(find "$src" -type f | wc -l) ]] ||
                    echo "  nasops-sync: the NAS folder does not hold every file!" >&2
            else
                # The same with the cheaper check, to show what the remote sha256sum costs.
                measure "$key" "$tools/nasops-sync" run --quiet --verify size ${bwlimit:+--bwlimit "$bwlimit"} \
                    --config "$state/nasops.toml"
            fi
            rm -rf "$state" ;;
    esac
}

run_peers() {  # run_peers LABEL SOURCE_DIR BYTES NAS_ROOT
    local label=$1 src=$2 bytes=$3 nas=$4
    echo "== $label: $(du -sh --apparent-size "$src" | cut -f1) in $(find "$src" -type f | wc -l) files, NAS folder in $nas$( ((runs > 1)) && echo ", medians of $runs runs")"
    local all=(nasops-sync nasops-size)
    if [[ $peers == 1 ]]; then
        all=(ssh-cat scp rsync nasops-sync nasops-size)
        [[ $have_rclone == 1 ]] && all+=(rclone rclone-nohash)
    fi
    local n=${#all[@]} round i tool
    for ((round = 0; round < runs; round++)); do
        for ((i = 0; i < n; i++)); do
            tool=${all[(i + round) % n]}
            [[ $tool == rclone && $round -gt 0 ]] && continue
            run_one "$tool" "$label" "$src" "$nas"
        done
    done
    for tool in "${all[@]}"; do summarize "$label $tool"; done
    report "$label" "$bytes" "$(find "$src" -type f | wc -l)"
}

# Client CPU is shown per GiB and per file too: the first is what the SSH
# library's cipher costs (issue 20: libssh2 spends about twice OpenSSH's CPU
# per byte), the second what each file costs besides its bytes.
report() {  # report LABEL BYTES FILES
    local label=$1 bytes=$2 files=$3 base=${results["$1 nasops-sync"]}
    printf '  %-12s %9s %10s %9s %8s %10s %11s %12s\n' tool seconds MB/s "RSS MiB" "CPU s" "CPU s/GiB" "CPU us/file" \
        "time/nasops"
    local t
    for t in ssh-cat scp rsync rclone rclone-nohash nasops-sync nasops-size; do
        local s=${results["$label $t"]:-}
        [[ -z $s ]] && continue
        if [[ $s == FAILED ]]; then printf '  %-12s %9s\n' "$t" FAILED; continue; fi
        python3 - "$t" "$s" "$bytes" "${rss["$label $t"]}" "$base" "${cpu["$label $t"]}" "$files" << 'PY'
import sys
tool, secs, size, rss, base = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
cpu, files = float(sys.argv[6]), int(sys.argv[7])
per_gib = cpu / (size / 2**30) if size > 0 else 0.0
per_file = cpu / files * 1e6 if files > 0 else 0.0
rate = size / secs / 1e6 if secs > 0 else float("inf")
ratio = f"{secs / float(base):.2f}" if base not in ("", "FAILED") and float(base) > 0 else "-"
note = {"ssh-cat": "  (ceiling)", "nasops-sync": "  (--verify auto: remote sha256sum)",
        "nasops-size": "  (--verify size)"}.get(tool, "")
print(f"  {tool:<12} {secs:9.2f} {rate:10.1f} {rss / 1024:9.1f} {cpu:8.2f} {per_gib:10.2f} {per_file:11.1f} {ratio:>12}{note}")
PY
    done
}

# ---- data sets ------------------------------------------------------------------
if [[ -z $only || $only == big ]]; then
    mkdir -p "$disk/big"
    head -c $((big_mib * 1024 * 1024)) /dev/urandom > "$disk/big/file.bin"
    run_peers big-disk "$disk/big" $((big_mib * 1024 * 1024)) "$disk"
    run_peers big-tmpfs "$disk/big" $((big_mib * 1024 * 1024)) "$mem"
    rm -rf "$disk/big"
fi

# The 1 GiB file through a link of about a Gigabit (nasops-sync --bwlimit
# 110M), nasops-sync alone: on this bench the NAS shares the client's two
# cores, which an unthrottled upload keeps busy, so hashing on the NAS while
# the file is written cannot run beside the upload; behind a link, as with a
# real NAS, it can, and this shows what verifying by SHA-256 then costs.
if [[ -z $only || $only == link ]]; then
    mkdir -p "$disk/big"
    head -c $((big_mib * 1024 * 1024)) /dev/urandom > "$disk/big/file.bin"
    saved_peers=$peers peers=0 bwlimit=110M
    run_peers big-link-disk "$disk/big" $((big_mib * 1024 * 1024)) "$disk"
    peers=$saved_peers bwlimit=
    rm -rf "$disk/big"
fi

if [[ -z $only || $only == small ]]; then
    mkdir -p "$disk/small"
    python3 - "$disk/small" "$small_count" << 'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
block = os.urandom(4096)
for i in range(count):
    d = os.path.join(root, f"d{i % 50:02}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06}.bin"), "wb") as f:
        f.write(block[i % 64:] + block[:i % 64])
PY
    run_peers small-disk "$disk/small" $((small_count * 4096)) "$disk"
    run_peers small-tmpfs "$disk/small" $((small_count * 4096)) "$mem"
    rm -rf "$disk/small"
fi

if [[ -z $only || $only == incremental ]]; then
    echo "== incremental: $incremental_count files already on the NAS (tmpfs), nothing new"
    src=$mem/inc-src
    mkdir -p "$src"
    python3 - "$src" "$incremental_count" << 'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = os.path.join(root, f"d{i % 500:03}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06}"), "wb") as f:
        f.write(b"x")
PY
    state=$disk/state-inc
    fresh "$state"
    nasops_config "$state" "$src" "$mem/inc-nas"
    measure "inc first" "$tools/nasops-sync" run --quiet --config "$state/nasops.toml"
    measure "inc again" "$tools/nasops-sync" run --quiet --config "$state/nasops.toml"
    measure "inc rsync" rsync -a -e "$ssh_cmd" "$src/" "$user@127.0.0.1:$mem/inc-nas/"
    for key in "inc first" "inc again" "inc rsync"; do summarize "$key"; done
    printf '  first run (uploads all):     %8ss  RSS %s KiB\n' "${results[inc first]}" "${rss[inc first]}"
    printf '  incremental nasops-sync run: %8ss  RSS %s KiB\n' "${results[inc again]}" "${rss[inc again]}"
    printf '  incremental rsync:           %8ss  RSS %s KiB\n' "${results[inc rsync]}" "${rss[inc rsync]}"
fi
