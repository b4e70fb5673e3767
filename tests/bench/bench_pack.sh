#!/usr/bin/env bash
# Benchmark of ferry-pack against the equivalent stock-tool pipeline, side by side.
#
#   tests/bench/bench_pack.sh [--size MIB] [--runs N] [--small MIB] [--build-dir DIR] [--out FILE]
#
# Builds Ferry in Release (build-bench/ by default, with FERRY_BUILD_BENCH=ON for
# extract_bench), generates a package source tree of about MIB MiB (default 500) with
# samples/make-large-package.sh in a temporary directory, and measures wall time and peak RSS of
#   build+sign     ferry:     ferry-pack build TREE -o pkg.ferry --key k.key
#                  reference: tar -cf - -C TREE . | zstd -3 -T2 -o ref.tar.zst
#                             b2sum -l 256 ref.tar.zst
#                             minisign -S -s mk.key -m ref.tar.zst
#   verify+extract ferry:     extract_bench pkg.ferry k.pub DIR  (signature check, then
#                             extract_package: every entry checked and hashed, tree synced)
#                  reference: minisign -Vm ref.tar.zst -p mk.pub
#                             mkdir DIR && tar -I zstd -xf ref.tar.zst -C DIR
# plus, for information, ferry-pack verify alone. Each measurement runs once to warm up, then
# N times (default 3), ferry and reference alternating; the table shows medians. Page caches
# cannot be dropped here, so every run reads warm data: this compares CPU and write costs, not
# cold disk reads. Peak RSS is GNU time's %M; a step of several commands reports the largest
# of them, and a pipeline the sum of its processes (they run at the same time). Finally the
# ferry build and extraction run once on a small tree (default 100 MiB) to show that peak RSS
# does not grow with package size.
#
# Needs cmake, a C++ compiler, GNU time (/usr/bin/time), minisign, zstd, b2sum and GNU tar;
# missing time/minisign/zstd are installed with apt-get when running as root. Temporary data
# (about 2N+4 times MIB: every run's extracted trees are kept until the end) lives under
# ${TMPDIR:-/tmp} and is removed on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
size=500
runs=3
small=100
build_dir="$repo/build-bench"
out_file=""

usage() {
    cat <<EOF
usage: tests/bench/bench_pack.sh [--size MIB] [--runs N] [--small MIB] [--build-dir DIR] [--out FILE]

Builds Ferry in Release, generates a package tree, and compares ferry-pack build+sign and
verify+extract with tar/zstd/b2sum/minisign: wall time and peak RSS, median of N runs.
  --size MIB       size of the benchmark tree (default 500)
  --runs N         measured runs after one warm-up; the median is reported (default 3)
  --small MIB      size of the second tree for the RSS-versus-size check (default 100, 0 = skip)
  --build-dir DIR  Release build directory (default build-bench in the repository)
  --out FILE       also write the markdown results to FILE
EOF
}

die() { echo "bench_pack.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --size) [[ $# -ge 2 ]] || die "--size needs a value"; size=$2; shift 2 ;;
        --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; runs=$2; shift 2 ;;
        --small) [[ $# -ge 2 ]] || die "--small needs a value"; small=$2; shift 2 ;;
        --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a value"; build_dir=$2; shift 2 ;;
        --out) [[ $# -ge 2 ]] || die "--out needs a value"; out_file=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[[ "$size" =~ ^[0-9]+$ ]] && (( size >= 4 )) || die "--size must be a whole number of MiB, at least 4"
[[ "$runs" =~ ^[0-9]+$ ]] && (( runs >= 1 )) || die "--runs must be at least 1"
[[ "$small" =~ ^[0-9]+$ ]] && (( small == 0 || small >= 4 )) || die "--small must be 0 or at least 4"
[[ "$out_file" == "" || "$out_file" == /* ]] || out_file="$PWD/$out_file"

log() { echo "== $*" >&2; }

# --- tools ----------------------------------------------------------------------------------
missing=()
[[ -x /usr/bin/time ]] || missing+=(time)
command -v minisign > /dev/null || missing+=(minisign)
command -v zstd > /dev/null || missing+=(zstd)
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
        log "installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
    else
        die "missing ${missing[*]}: install them (apt-get install ${missing[*]})"
    fi
fi
for tool in cmake b2sum tar; do
    command -v "$tool" > /dev/null || die "$tool is needed"
done

# --- build ------------------------------------------------------------------------------------
log "building Ferry (Release) in $build_dir"
generator=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja > /dev/null; then generator=(-G Ninja); fi
cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF \
    -DFERRY_BUILD_BENCH=ON > "$build_dir.cmake.log" 2>&1 || { cat "$build_dir.cmake.log" >&2; die "cmake failed"; }
rm -f "$build_dir.cmake.log"
cmake --build "$build_dir" -j "$(nproc)" --target ferry-pack extract_bench > /dev/null || die "build failed"
ferry_pack="$build_dir/packager/ferry-pack"
extract_bench="$build_dir/tests/bench/extract_bench"
[[ -x "$ferry_pack" && -x "$extract_bench" ]] || die "ferry-pack or extract_bench missing in $build_dir"

# --- scratch space ----------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX")
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# The tree, two packages, and 2 extracted trees per run (kept: see ferry_extract).
need_kib=$(( (size * (2 * runs + 4) + small * 3 + 64) * 1024 ))
free_kib=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
(( free_kib >= need_kib )) || die "$tmp has $((free_kib / 1024)) MiB free, needs about $((need_kib / 1024)) MiB"

log "generating a ${size} MiB tree"
"$repo/samples/make-large-package.sh" "$tmp/tree" "$size" 2> "$tmp/generate.log" || { cat "$tmp/generate.log" >&2; exit 1; }
tree_bytes=$(du -sb --apparent-size "$tmp/tree/files" | cut -f1)
tree_files=$(find "$tmp/tree/files" -type f | wc -l)
"$ferry_pack" keygen -o "$tmp/k" > /dev/null 2>&1
minisign -G -W -p "$tmp/mk.pub" -s "$tmp/mk.key" > /dev/null

# --- measuring --------------------------------------------------------------------------------
# Results: "$tmp/results/NAME" holds one "wall_s cpu_s rss_kib" line per measured run.
mkdir -p "$tmp/results"
measuring=0  # 0 during the warm-up: nothing is recorded

if [[ -n "${EPOCHREALTIME:-}" ]]; then
    now() { echo "${EPOCHREALTIME/,/.}"; }
else
    now() { date +%s.%N; }
fi
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
max() { if (( $1 > $2 )); then echo "$1"; else echo "$2"; fi; }
readonly TIME_FORMAT='%U %S %M'
# GNU time's last line: user s, system s, peak RSS KiB.
cpu_of() { tail -n 1 "$1" | awk '{ printf "%.3f", $1 + $2 }'; }
rss_of() { tail -n 1 "$1" | awk '{ print $3 }'; }

record() {  # NAME WALL CPU RSS_KIB
    (( measuring )) && echo "$2 $3 $4" >> "$tmp/results/$1"
    return 0
}

# Writeback of one step's output must not be charged to the next step: flush before each.
# (Ferry's own fsync/syncfs of what it writes stays inside its time: that is its durability.)
settle() { sync; }

# timed NAME CMD...: one command under GNU time; sets WALL, CPU and RSS.
timed() {
    local name=$1 t0 t1
    shift
    t0=$(now)
    /usr/bin/time -f "$TIME_FORMAT" -o "$tmp/time.$name" "$@" > "$tmp/out.$name" 2> "$tmp/err.$name" ||
        { cat "$tmp/err.$name" >&2; die "$name failed: $*"; }
    t1=$(now)
    WALL=$(elapsed "$t0" "$t1")
    CPU=$(cpu_of "$tmp/time.$name")
    RSS=$(rss_of "$tmp/time.$name")
    record "$name" "$WALL" "$CPU" "$RSS"
}

ferry_build() {
    rm -f "$tmp/pkg.ferry" "$tmp/pkg.ferry.minisig"
    settle
    timed ferry_build "$ferry_pack" build "$tmp/tree" -o "$tmp/pkg.ferry" --key "$tmp/k.key"
    local id
    id=$(tail -n 1 "$tmp/out.ferry_build")
    if [[ -f "$tmp/object_id" ]]; then
        [[ "$id" == "$(cat "$tmp/object_id")" ]] || die "ferry-pack build is not reproducible: $id != $(cat "$tmp/object_id")"
    else
        echo "$id" > "$tmp/object_id"
    fi
}

ref_build() {
    rm -f "$tmp/ref.tar.zst" "$tmp/ref.tar.zst.minisig"
    local t0 t1 wall cpu rss
    settle
    t0=$(now)
    /usr/bin/time -f "$TIME_FORMAT" -o "$tmp/time.tar" tar -cf - -C "$tmp/tree" . |
        /usr/bin/time -f "$TIME_FORMAT" -o "$tmp/time.zstd" zstd -q -3 -T2 -o "$tmp/ref.tar.zst"
    t1=$(now)
    wall=$(elapsed "$t0" "$t1")
    cpu=$(add "$(cpu_of "$tmp/time.tar")" "$(cpu_of "$tmp/time.zstd")")
    rss=$(( $(rss_of "$tmp/time.tar") + $(rss_of "$tmp/time.zstd") ))  # they run at the same time
    record ref_compress "$wall" "$cpu" "$rss"
    settle
    timed ref_b2sum b2sum -l 256 "$tmp/ref.tar.zst"
    wall=$(add "$wall" "$WALL"); cpu=$(add "$cpu" "$CPU"); rss=$(max "$rss" "$RSS")
    settle
    timed ref_sign minisign -S -s "$tmp/mk.key" -m "$tmp/ref.tar.zst"
    wall=$(add "$wall" "$WALL"); cpu=$(add "$cpu" "$CPU"); rss=$(max "$rss" "$RSS")
    record ref_build "$wall" "$cpu" "$rss"
}

# Extracted trees are all kept until the measuring is over: on ext4 without a journal (as
# here), creating files right after thousands were deleted makes the kernel skip every
# "recently deleted" inode, one lookup each, which once made tar -x four times slower. A fresh
# directory for every run keeps that out of both sides' times.
ferry_extract() {
    settle
    timed ferry_extract "$extract_bench" "$tmp/pkg.ferry" "$tmp/k.pub" "$tmp/x-ferry-$run"
}

ferry_verify() {
    settle
    timed ferry_verify "$ferry_pack" verify "$tmp/pkg.ferry" --pub "$tmp/k.pub"
}

ref_extract() {
    local wall cpu rss
    settle
    timed ref_verify minisign -Vm "$tmp/ref.tar.zst" -p "$tmp/mk.pub"
    wall=$WALL; cpu=$CPU; rss=$RSS
    mkdir "$tmp/x-ref-$run"
    settle
    timed ref_untar tar -I zstd -xf "$tmp/ref.tar.zst" -C "$tmp/x-ref-$run"
    wall=$(add "$wall" "$WALL"); cpu=$(add "$cpu" "$CPU"); rss=$(max "$rss" "$RSS")
    record ref_extract "$wall" "$cpu" "$rss"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((run = 0; run <= runs; run++)); do
    if (( run == 0 )); then log "warm-up"; else log "run $run of $runs"; fi
    measuring=$(( run > 0 ))
    ferry_build
    ref_build
    ferry_extract
    ref_extract
    ferry_verify
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
pkg_bytes=$(stat -c %s "$tmp/pkg.ferry")
ref_bytes=$(stat -c %s "$tmp/ref.tar.zst")

# The same package from a small tree: does peak RSS grow with size?
small_rows=""
small_build=""
small_extract=""
if (( small > 0 )); then
    log "RSS check on a ${small} MiB tree"
    "$repo/samples/make-large-package.sh" "$tmp/small" "$small" 2> /dev/null
    settle
    timed small_build "$ferry_pack" build "$tmp/small" -o "$tmp/small.ferry" --key "$tmp/k.key"
    small_build="$WALL $CPU $RSS"
    settle
    timed small_extract "$extract_bench" "$tmp/small.ferry" "$tmp/k.pub" "$tmp/x-small"
    small_extract="$WALL $CPU $RSS"
    small_rows=$(echo "$small_build" | awk -v sz="$small" \
                     '{ printf "| ferry build+sign, %d MiB tree (1 run) | %.2f | | %.2f | %.1f |\n", sz, $1, $2, $3 / 1024 }'
                 echo "$small_extract" | awk -v sz="$small" \
                     '{ printf "| ferry verify+extract, %d MiB tree (1 run) | %.2f | | %.2f | %.1f |\n", sz, $1, $2, $3 / 1024 }')
fi
rm -rf "$tmp"/x-* "$tmp/small" "$tmp/small.ferry"*

# --- report -----------------------------------------------------------------------------------
median() {  # FILE COLUMN
    cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) printf "%s", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
range() { cut -d' ' -f1 "$1" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }'; }
row() {  # LABEL NAME
    local f="$tmp/results/$2"
    awk -v l="$1" -v w="$(median "$f" 1)" -v r="$(range "$f")" -v c="$(median "$f" 2)" -v m="$(median "$f" 3)" \
        'BEGIN { printf "| %s | %.2f | %s | %.2f | %.1f |\n", l, w, r, c, m / 1024 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fbc=$(median "$tmp/results/ferry_build" 2)
rbc=$(median "$tmp/results/ref_build" 2)
fxc=$(median "$tmp/results/ferry_extract" 2)
rxc=$(median "$tmp/results/ref_extract" 2)
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t ? "met" : "**missed**") }'; }

fb=$(median "$tmp/results/ferry_build" 1)
rb=$(median "$tmp/results/ref_build" 1)
fx=$(median "$tmp/results/ferry_extract" 1)
rx=$(median "$tmp/results/ref_extract" 1)
rss_max=$(cat "$tmp/results/ferry_build" "$tmp/results/ferry_extract" "$tmp/results/ferry_verify" |
          cut -d' ' -f3 | sort -n | tail -n 1)
if (( small > 0 )); then
    for line in "$small_build" "$small_extract"; do
        r=$(echo "$line" | cut -d' ' -f3)
        (( r > rss_max )) && rss_max=$r
    done
fi
rss_mib=$(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k / 1024 }')
b_ratio=$(ratio "$fb" "$rb")
x_ratio=$(ratio "$fx" "$rx")

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
report=$(cat <<EOF
### Results: ${size} MiB tree, median of ${runs} runs after one warm-up

Tree: ${tree_files} files, $((tree_bytes / 1048576)) MiB. Package: $((pkg_bytes / 1048576)) MiB
(ferry), $((ref_bytes / 1048576)) MiB (reference tar.zst). Object id $(cat "$tmp/object_id"),
identical in every run. Machine: $(nproc) CPUs (${cpu}), ${mem} RAM; commit
$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- core 2>/dev/null || echo " + uncommitted core changes"). Load average
(1, 5, 15 min) ${load_start} at the start, ${load_end} at the end: other work on the machine
inflates wall times, CPU times much less.

| step | wall s (median) | wall s (min–max) | CPU s, user+sys (median) | peak RSS MiB (median) |
| --- | ---: | ---: | ---: | ---: |
$(row "**ferry build+sign** (ferry-pack build --key)" ferry_build)
$(row "**reference build+sign** (total of the three below)" ref_build)
$(row "&nbsp;&nbsp;tar \| zstd -3 -T2" ref_compress)
$(row "&nbsp;&nbsp;b2sum -l 256" ref_b2sum)
$(row "&nbsp;&nbsp;minisign -S" ref_sign)
$(row "**ferry verify+extract** (extract_bench)" ferry_extract)
$(row "**reference verify+extract** (total of the two below)" ref_extract)
$(row "&nbsp;&nbsp;minisign -V" ref_verify)
$(row "&nbsp;&nbsp;tar -I zstd -x" ref_untar)
$(row "ferry-pack verify (signature + every hash, no writes; for information)" ferry_verify)
${small_rows}

| target | ferry | reference | ratio | target | |
| --- | ---: | ---: | ---: | ---: | --- |
| build+sign wall time | ${fb} s | ${rb} s | ${b_ratio}× | ≤ 1.2× | $(verdict "$b_ratio" 1.2) |
| verify+extract wall time | ${fx} s | ${rx} s | ${x_ratio}× | ≤ 1.2× | $(verdict "$x_ratio" 1.2) |
| build+sign CPU time (for information) | ${fbc} s | ${rbc} s | $(ratio "$fbc" "$rbc")× | | |
| verify+extract CPU time (for information) | ${fxc} s | ${rxc} s | $(ratio "$fxc" "$rxc")× | | |
| ferry peak RSS (largest of all ferry runs, both sizes) | ${rss_mib} MiB | | | ≤ 64 MiB | $(verdict "$rss_mib" 64) |
EOF
)
echo
echo "$report"
[[ -z "$out_file" ]] || echo "$report" > "$out_file"
