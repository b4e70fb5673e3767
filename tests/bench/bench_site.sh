#!/usr/bin/env bash
# Benchmark of the site server (ferryd) with many clients, against nginx for the idle poll.
#
#   tests/bench/bench_site.sh [--clients N] [--inventory N] [--duration S] [--connections C]
#                             [--post-connections C] [--batch M] [--build-dir DIR] [--out FILE]
#
# Builds Ferry in Release (build-bench/ by default, with FERRY_BUILD_BENCH=ON for seed_site),
# makes a fresh site in a temporary directory (ferryd init --role site, listening on 127.0.0.1
# only) and measures, in this order:
#   a. seeding N clients (default 100,000) with seed_site: enrolled, active, 16 facts and
#      150-300 software packages each, written straight into the database;
#      then ferryd starts and builds the first policy of every client (for information);
#   b. full inventory reports over HTTP: --inventory clients (default: all but 500), in random
#      order, each POST a new full inventory (wrk, site_inventory.lua); extrapolated to N;
#   c. collection queries over the N clients: POST /api/v1/collections/preview (three queries,
#      median of 3) and collection create (one query matching every client, one realistic);
#   d. the publisher/package/RFC/release/readiness path with ferryctl, then one advertisement to
#      the collection of every client: the time until every client's policy is rebuilt and
#      re-signed (no client_policy_dirty left and N new policies in the feed);
#   e. policy polls with wrk (keep-alive, --connections, 2 threads, --duration s): idle polls
#      (If-None-Match with each client's ETag: 304) and full ones (200), rotating over 1,000
#      clients; and nginx serving a static file of the same size on 127.0.0.1 in the same run,
#      with the same request headers (304 with nginx's ETag, and 200);
#   f. status ingestion: batches of --batch messages (default 500) per POST from 1,000 clients
#      (wrk, site_status.lua, --post-connections connections, default 16): messages/s;
#   g. ferryd's resident memory: sampled every 0.5 s in every phase, and VmHWM at the end.
#
# Needs cmake, a C++ compiler, wrk, nginx, sqlite3, curl and ss; it installs nothing: when one
# is missing it says so (apt-get install -y wrk nginx-light sqlite3 curl). The site (about
# 2 GiB for 100,000 clients) lives under ${TMPDIR:-/tmp} and is removed on exit, with every
# process the script started. Not a timed test: run it by hand (docs/benchmarks.md).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
clients=100000
inventory=  # default: every client but the 500 of step b'
duration=15
connections=64
post_connections=16
batch=500
build_dir="$repo/build-bench"
out_file=""
readonly THREADS=2 POLL_CLIENTS=1000

usage() {
    cat <<EOF
usage: tests/bench/bench_site.sh [--clients N] [--inventory N] [--duration S] [--connections C]
                                 [--post-connections C] [--batch M] [--build-dir DIR] [--out FILE]

Builds Ferry in Release, seeds a fresh site with N clients and their inventory, and measures
ferryd: inventory ingestion, collection queries, policy regeneration after an advertisement,
idle and full policy polls (side by side with nginx serving a static file), status ingestion,
and its resident memory.
  --clients N           clients seeded (default 100000)
  --inventory N         full inventory reports posted over HTTP, one per client, in random
                        client order (default: all clients but the 500 kept for step b')
  --duration S          seconds of each wrk run for polls and status (default 15)
  --connections C       wrk connections for policy polls, ferryd and nginx (default 64)
  --post-connections C  wrk connections for inventory and status posts (default 16)
  --batch M             status messages per POST (default 500, at most 1000)
  --build-dir DIR       Release build directory (default build-bench in the repository)
  --out FILE            also write the markdown results to FILE
EOF
}

die() { echo "bench_site.sh: $*" >&2; exit 2; }
number() { [[ "$2" =~ ^[0-9]+$ ]] && (( $2 >= $3 )) || die "$1 must be a whole number, at least $3"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --clients) [[ $# -ge 2 ]] || die "--clients needs a value"; clients=$2; shift 2 ;;
        --inventory) [[ $# -ge 2 ]] || die "--inventory needs a value"; inventory=$2; shift 2 ;;
        --duration) [[ $# -ge 2 ]] || die "--duration needs a value"; duration=$2; shift 2 ;;
        --connections) [[ $# -ge 2 ]] || die "--connections needs a value"; connections=$2; shift 2 ;;
        --post-connections) [[ $# -ge 2 ]] || die "--post-connections needs a value"; post_connections=$2; shift 2 ;;
        --batch) [[ $# -ge 2 ]] || die "--batch needs a value"; batch=$2; shift 2 ;;
        --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a value"; build_dir=$2; shift 2 ;;
        --out) [[ $# -ge 2 ]] || die "--out needs a value"; out_file=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
number --clients "$clients" "$POLL_CLIENTS"
[[ -z "$inventory" ]] || number --inventory "$inventory" "$THREADS"
number --duration "$duration" 1
number --connections "$connections" "$THREADS"
number --post-connections "$post_connections" "$THREADS"
number --batch "$batch" 1
(( batch <= 1000 )) || die "--batch: ferryd takes at most 1000 messages per POST"
[[ "$out_file" == "" || "$out_file" == /* ]] || out_file="$PWD/$out_file"

log() { echo "== $*" >&2; }

# --- tools: nothing is installed behind the user's back ---------------------------------------
missing=()
for tool in wrk nginx sqlite3 curl; do
    command -v "$tool" > /dev/null || [[ -x "/usr/sbin/$tool" ]] || missing+=("$tool")
done
if ((${#missing[@]})); then
    pkgs=()
    for tool in "${missing[@]}"; do
        if [[ "$tool" == nginx ]]; then pkgs+=(nginx-light); else pkgs+=("$tool"); fi
    done
    die "missing ${missing[*]}: install with apt-get install -y ${pkgs[*]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
for tool in cmake ss awk; do
    command -v "$tool" > /dev/null || die "$tool is needed"
done

# --- build ------------------------------------------------------------------------------------
log "building Ferry (Release) in $build_dir"
generator=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja > /dev/null; then generator=(-G Ninja); fi
cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF \
    -DFERRY_BUILD_BENCH=ON > "$build_dir.cmake.log" 2>&1 || { cat "$build_dir.cmake.log" >&2; die "cmake failed"; }
rm -f "$build_dir.cmake.log"
cmake --build "$build_dir" -j "$(nproc)" --target ferryd ferryctl ferry-pack seed_site > /dev/null ||
    die "build failed"
ferryd="$build_dir/server/ferryd"
ferryctl="$build_dir/server/ferryctl"
ferry_pack="$build_dir/packager/ferry-pack"
seed_site="$build_dir/tests/bench/seed_site"
for program in "$ferryd" "$ferryctl" "$ferry_pack" "$seed_site"; do
    [[ -x "$program" ]] || die "$program missing"
done

# --- scratch space and clean-up ---------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-site-bench.XXXXXX")
pids=()  # everything started in the background, stopped on exit
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
    rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
need_kib=$(( clients * 24 + 1048576 ))  # about 19 KiB per client in the database, and slack
free_kib=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
(( free_kib >= need_kib )) || die "$tmp has $((free_kib / 1024)) MiB free, needs about $((need_kib / 1024)) MiB"

if [[ -n "${EPOCHREALTIME:-}" ]]; then
    now() { echo "${EPOCHREALTIME/,/.}"; }
else
    now() { date +%s.%N; }
fi
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
db="$tmp/site/ferry.db"
sql() { sqlite3 -cmd ".timeout 10000" "$db" "$@"; }

free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$(( 20000 + RANDOM % 40000 ))
        [[ -z "$(ss -Htln "sport = :$port")" ]] && { echo "$port"; return; }
    done
    die "no free port found"
}

# waits until "$1" appears in file "$2" (at most $3 s)
wait_for_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$1" "$2" 2> /dev/null && return 0
        sleep 0.1
    done
    cat "$2" >&2 || true
    die "timed out waiting for \"$1\" in $2"
}

# --- the site ---------------------------------------------------------------------------------
log "initialising a site in $tmp/site"
"$ferryd" init --role site --dir "$tmp/site" --listen 127.0.0.1:0 > "$tmp/init.out"
admin=$(tail -n 1 "$tmp/init.out")
[[ "$admin" == admin_* ]] || die "no admin token in the output of ferryd init"

# a. seeding
# b' posts a few more reports, from the clients after b's.
[[ -n "$inventory" ]] || inventory=$(( clients > 2000 ? clients - 500 : clients * 3 / 4 ))
inventory2=$(( inventory / 3 > 500 ? 500 : inventory / 3 ))
(( inventory2 >= THREADS )) || inventory2=$THREADS
(( inventory + inventory2 <= clients )) || die "--inventory must leave $inventory2 clients for step b'"
tokens_wanted=$(( inventory + inventory2 > POLL_CLIENTS ? inventory + inventory2 : POLL_CLIENTS ))
log "a. seeding $clients clients"
t0=$(now)
"$seed_site" --db "$db" --clients "$clients" --tokens "$tokens_wanted" --tokens-out "$tmp/tokens.txt" \
    --pool-out "$tmp/pool.tsv" > "$tmp/seed.out"
t1=$(now)
seed_s=$(elapsed "$t0" "$t1")
# Agents report in no particular order. seed_site writes the first clients by id, whose rows
# sit side by side in every index, so taken in that order they would share pages and flatter
# SQLite's cache: shuffle them (the same way every run).
# The policy polls keep the first clients by id (step e reads their ETags by id).
cp "$tmp/tokens.txt" "$tmp/tokens-by-id.txt"
shuf --random-source=<(yes) -o "$tmp/tokens.txt" "$tmp/tokens-by-id.txt"
cat "$tmp/seed.out" >&2
seed_line=$(cat "$tmp/seed.out")
db_mib=$(( $(stat -c %s "$db") / 1048576 ))

# ferryd, with its memory sampled every 0.5 s; "$tmp/phase" names the current phase.
echo start > "$tmp/phase"
log "starting ferryd"
ferryd_start=$(now)
"$ferryd" --config "$tmp/site/ferryd.ini" > "$tmp/ferryd.out" 2> "$tmp/ferryd.err" &
ferryd_pid=$!
pids+=("$ferryd_pid")
wait_for_line "listening on" "$tmp/ferryd.out" 30
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/ferryd.out")
[[ -n "$port" ]] || die "cannot read ferryd's port: $(cat "$tmp/ferryd.out")"
url="http://127.0.0.1:$port"
(
    while kill -0 "$ferryd_pid" 2> /dev/null; do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$ferryd_pid/status" 2> /dev/null) || break
        echo "$(cat "$tmp/phase") $rss"
        sleep 0.5
    done
) >> "$tmp/rss.log" 2> /dev/null &
pids+=($!)
phase() { echo "$1" > "$tmp/phase"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$ferryd_pid/stat"; }
cpu_s() { awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }'; }
rss_peak() { awk -v p="$1" '$1 == p && $2 > m { m = $2 } END { printf "%.0f", m / 1024 }' "$tmp/rss.log"; }

dirty() { sql "SELECT count(*) FROM client WHERE policy_dirty = 1"; }
feed_max() { sql "SELECT coalesce(max(seq), 0) FROM feed"; }
# waits until no client is marked dirty and at least $1 policies have been issued after feed
# sequence $2; at most $3 s.
wait_policies() {
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        if [[ "$(dirty)" == 0 ]] && (( $(feed_max) - $2 >= $1 )); then return 0; fi
        sleep 0.2
    done
    die "policies not rebuilt within $3 s: $(dirty) client(s) still dirty, $(( $(feed_max) - $2 )) issued"
}
# waits until the builder has nothing left to do: no dirty client and no new policy for 1 s
# (the last batch claimed is still being built when the marks are gone); at most $1 s.
wait_quiet() {
    local i calm=0 seen=-1 feed
    for ((i = 0; i < $1 * 5; i++)); do
        feed=$(feed_max)
        if [[ "$(dirty)" == 0 && "$feed" == "$seen" ]]; then calm=$((calm + 1)); else calm=0; fi
        seen=$feed
        (( calm >= 5 )) && return 0
        sleep 0.2
    done
    die "the policy builder was still busy after $1 s"
}

log "first policies of $clients clients (for information)"
phase first-policies
c0=$(cpu_ticks)
wait_policies "$clients" 0 1800
first_policies_s=$(elapsed "$ferryd_start" "$(now)")
first_policies_cpu=$(cpu_s "$c0" "$(cpu_ticks)")

# b. inventory over HTTP
run_inventory() {  # NAME COUNT SKIP: COUNT reports from the clients after the first SKIP
    local name=$1 count=$2 skip=$3
    sed -n "$((skip + 1)),$((skip + count))p" "$tmp/tokens.txt" > "$tmp/$name.tokens"
    rm -rf "$tmp/$name.done"
    mkdir "$tmp/$name.done"
    wrk -t "$THREADS" -c "$post_connections" -d 3600s -s "$here/site_inventory.lua" "$url" -- \
        "$tmp/$name.tokens" "$tmp/pool.tsv" "$count" "$THREADS" 2 "$tmp/$name.done" > "$tmp/$name.wrk" 2>&1 &
    local wrk_pid=$! i
    pids+=("$wrk_pid")
    for ((i = 0; i < 36000; i++)); do
        [[ $(find "$tmp/$name.done" -name 'thread-*' | wc -l) -ge $THREADS ]] && break
        kill -0 "$wrk_pid" 2> /dev/null || { cat "$tmp/$name.wrk" >&2; die "wrk ended early"; }
        sleep 0.1
    done
    # wrk's own CPU (it builds the report bodies on the same CPUs as ferryd), for the record.
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f\n", ($14 + $15) / hz }' "/proc/$wrk_pid/stat" > "$tmp/$name.wrk-cpu" 2> /dev/null || true
    kill -INT "$wrk_pid"
    wait "$wrk_pid" || true
    grep -q '^inventory: ' "$tmp/$name.wrk" || { cat "$tmp/$name.wrk" >&2; die "no inventory result"; }
}
field() { sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" "$2" | tail -n 1; }
wrk_rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
wrk_latency() { awk '/^ *Latency +[0-9]/ { print $2 " avg, " $4 " max" }' "$1"; }
wrk_p99() { awk '/^ *99%/ { print $2 }' "$1"; }
wrk_errors() { grep -q 'Socket errors' "$1" && sed -n 's/.*Socket errors: \(.*\)/\1/p' "$1" || echo none; }

log "b. $inventory full inventory reports over HTTP"
phase inventory
c0=$(cpu_ticks)
run_inventory inventory "$inventory" 0
inventory_cpu=$(cpu_s "$c0" "$(cpu_ticks)")
inv_ok=$(field ok "$tmp/inventory.wrk")
inv_failed=$(field failed "$tmp/inventory.wrk")
inv_unchanged=$(field unchanged "$tmp/inventory.wrk")
inv_s=$(field elapsed_s "$tmp/inventory.wrk")
inv_rate=$(field per_s "$tmp/inventory.wrk")
inv_latency=$(wrk_latency "$tmp/inventory.wrk")
inv_timeouts=$(sed -n 's/.*timeout \([0-9]*\).*/\1/p' "$tmp/inventory.wrk")
inv_extrapolated=$(awk -v r="$inv_rate" -v n="$clients" 'BEGIN { printf "%.1f", n / r }')
inv_wrk_cpu=$(cat "$tmp/inventory.wrk-cpu" 2> /dev/null || echo "?")
log "   $inv_rate/s, $inv_s s for $inventory; $inventory_cpu ferryd CPU s, $inv_wrk_cpu wrk CPU s; extrapolated to $clients: $inv_extrapolated s"
(( inv_failed == 0 && inv_unchanged == 0 )) || log "warning: $inv_failed failed, $inv_unchanged unchanged inventory reports"
# Refused reports, by status and answer: "COUNT STATUS ANSWER…".
inv_failures=$(cat "$tmp"/inventory.done/failures-* 2> /dev/null | cut -c1-100 | sort | uniq -c | sort -rn | sed -n 1,3p |
               awk '{ $1 = $1 "×"; print }' | paste -sd';' - || true)

# c. collections
json_query() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
admin_post() {  # PATH BODY OUTFILE: prints the seconds curl took; fails on a non-2xx answer
    curl -sS --fail-with-body -o "$3" -w '%{time_total}' -X POST -H "Authorization: Bearer $admin" \
        -H 'Content-Type: application/json' --data-binary "$2" "$url$1" ||
        { cat "$3" >&2; die "POST $1 failed"; }
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
queries=(
    'os.name == "Debian" and hw.memory_mb >= 4096 and not software contains "nginx"'
    'os.name in ("Debian", "Ubuntu") and software contains "openssh-server" and hw.cores >= 4'
    'has os.name'
)
log "c. collection queries over $clients clients"
phase collections
preview_rows=""
preview_worst=0
for q in "${queries[@]}"; do
    times=()
    for _ in 1 2 3; do
        times+=("$(admin_post /api/v1/collections/preview "{\"query\": \"$(json_query "$q")\"}" "$tmp/preview.json")")
    done
    count=$(sed -n 's/.*"count": *\([0-9]*\).*/\1/p' "$tmp/preview.json")
    t=$(median3 "${times[@]}")
    preview_worst=$(awk -v a="$preview_worst" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
    preview_rows+="| preview \`$q\` ($count matches; median of 3) | $(awk -v t="$t" 'BEGIN { printf "%.3f s", t }') | ≤ 0.5 s | $(awk -v t="$t" 'BEGIN { print (t <= 0.5 ? "met" : "**missed**") }') |"$'\n'
done
feed0=$(feed_max)
create_all_s=$(admin_post /api/v1/collections "{\"name\": \"all-clients\", \"query\": \"has os.name\"}" "$tmp/all.json")
all_members=$(sed -n 's/.*"member_count": *\([0-9]*\).*/\1/p' "$tmp/all.json")
[[ "$all_members" == "$clients" ]] || die "collection all-clients has $all_members members, not $clients"
create_q1_s=$(admin_post /api/v1/collections "{\"name\": \"debian-4g\", \"query\": \"$(json_query "${queries[0]}")\"}" "$tmp/q1.json")
q1_members=$(sed -n 's/.*"member_count": *\([0-9]*\).*/\1/p' "$tmp/q1.json")
# Membership changed for every client: the builder checks them all (no new content, nothing signed).
t0=$(now)
c0=$(cpu_ticks)
wait_quiet 1800
recheck_s=$(elapsed "$t0" "$(now)")
recheck_cpu=$(cpu_s "$c0" "$(cpu_ticks)")
recheck_signed=$(( $(feed_max) - feed0 ))

# b'. inventory again, now that collections exist (each report re-evaluates every collection
# for its client)
log "b'. $inventory2 more inventory reports, with 2 collections"
phase inventory-with-collections
run_inventory inventory2 "$inventory2" "$inventory"
inv2_rate=$(field per_s "$tmp/inventory2.wrk")
wait_quiet 600

# d. release path, then one advertisement to every client
log "d. the release path with ferryctl, then an advertisement to all $clients clients"
phase release
export FERRY_SERVER="$url"
ctl() {  # TOKEN ARGS...
    local token=$1
    shift
    FERRY_TOKEN="$token" "$ferryctl" "$@" 2>> "$tmp/ferryctl.err" || { cat "$tmp/ferryctl.err" >&2; die "ferryctl $* failed"; }
}
token_of() { sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' | sed -n 1p; }
first_match() { grep -o "$1" | sed -n 1p || true; }
"$ferry_pack" keygen -o "$tmp/pub" > /dev/null 2>> "$tmp/pack.log"
"$ferry_pack" build "$repo/samples/packages/hello-1.0" -o "$tmp/hello.ferry" --key "$tmp/pub.key" > /dev/null 2>> "$tmp/pack.log"
ctl "$admin" publisher add Samples --pub "$tmp/pub.pub" --packages hello > /dev/null
"$ferry_pack" push "$tmp/hello.ferry" --server "$url" --token "$admin" > /dev/null 2>> "$tmp/pack.log"
rita=$(ctl "$admin" user add rita --role release-manager --json | token_of)
carl=$(ctl "$admin" user add carl --role cab --json | token_of)
rfc=$(ctl "$rita" rfc create --title "Roll out hello 1.0" | first_match 'RFC-[0-9]*')
[[ -n "$rfc" ]] || die "no RFC number from ferryctl rfc create"
ctl "$carl" rfc approve "$rfc" > /dev/null
ref=$(ctl "$rita" release create --title "hello 1.0" --rfc "$rfc" --package hello@1.0 | first_match 'REL-[0-9]*-[0-9]*')
[[ -n "$ref" ]] || die "no release reference from ferryctl release create"
ctl "$rita" release transition "$ref" building > /dev/null
ctl "$rita" release transition "$ref" testing > /dev/null
for item in 1 2 3 4 5 8; do ctl "$rita" release review "$ref" "$item" --go > /dev/null; done
for item in 6 11; do ctl "$carl" release review "$ref" "$item" --go > /dev/null; done
for item in 7 9 10; do ctl "$admin" release review "$ref" "$item" --go --note ok > /dev/null; done
ctl "$rita" release transition "$ref" ready > /dev/null
wait_quiet 600  # a publisher change rebuilds policies too: start from a quiet builder

phase advertisement
feed0=$(feed_max)
c0=$(cpu_ticks)
t0=$(now)
adv=$(ctl "$rita" advertise hello@1.0 --collection all-clients | first_match 'ADV-[0-9]*')
t_adv=$(now)
wait_policies "$clients" "$feed0" 1800
t1=$(now)
advertise_cmd_s=$(elapsed "$t0" "$t_adv")
resign_s=$(elapsed "$t0" "$t1")
[[ -n "$adv" ]] || die "no advertisement id from ferryctl advertise"
resign_cpu=$(cpu_s "$c0" "$(cpu_ticks)")
resigned=$(sql "SELECT count(*) FROM client_policy WHERE version >= 2")
policy_rows=$(sql "SELECT count(*) FROM client_policy")

# e. policy polls, ferryd and nginx
log "e. policy polls: ferryd and nginx, $connections connections, ${duration} s each"
sed -n "1,${POLL_CLIENTS}p" "$tmp/tokens-by-id.txt" > "$tmp/poll.tokens"
sqlite3 -cmd ".timeout 10000" -separator ' ' "$db" \
    "SELECT c.uid, p.etag FROM client c JOIN client_policy p ON p.client_id = c.id WHERE c.id <= $POLL_CLIENTS" > "$tmp/etags.txt"
awk 'NR == FNR { etag[$1] = $2; next } ($1 in etag) { print $1, $2, etag[$1] }' "$tmp/etags.txt" "$tmp/poll.tokens" > "$tmp/polls.txt"
[[ $(wc -l < "$tmp/polls.txt") -eq $POLL_CLIENTS ]] || die "ETags missing for some of the first $POLL_CLIENTS clients"
read -r uid1 token1 etag1 < "$tmp/polls.txt"
mkdir -p "$tmp/www" "$tmp/nginx"
# nginx's workers run as another user when started by root: they may pass through $tmp and
# read www/, nothing else.
chmod 711 "$tmp"
chmod 755 "$tmp/www"
code=$(curl -sS -o "$tmp/www/policy.json" -w '%{http_code}' -H "Authorization: Bearer $token1" "$url/api/v1/clients/$uid1/policy")
[[ "$code" == 200 ]] || die "GET policy answered $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token1" -H "If-None-Match: $etag1" "$url/api/v1/clients/$uid1/policy")
[[ "$code" == 304 ]] || die "GET policy with its ETag answered $code, not 304"
policy_bytes=$(stat -c %s "$tmp/www/policy.json")

phase polls-304
c0=$(cpu_ticks)
wrk -t "$THREADS" -c "$connections" -d "${duration}s" --latency -s "$here/site_policy.lua" "$url" -- \
    "$tmp/polls.txt" etag > "$tmp/ferryd-304.wrk" 2>&1
poll304_cpu=$(cpu_s "$c0" "$(cpu_ticks)")
phase polls-200
wrk -t "$THREADS" -c "$connections" -d "${duration}s" --latency -s "$here/site_policy.lua" "$url" -- \
    "$tmp/polls.txt" full > "$tmp/ferryd-200.wrk" 2>&1
grep -q '^policy: 200=0 304=[1-9][0-9]* other=0' "$tmp/ferryd-304.wrk" || log "warning: idle polls: $(grep '^policy:' "$tmp/ferryd-304.wrk")"
grep -q '^policy: 200=[1-9][0-9]* 304=0 other=0' "$tmp/ferryd-200.wrk" || log "warning: full polls: $(grep '^policy:' "$tmp/ferryd-200.wrk")"

nginx_port=$(free_port)
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    default_type application/json;
    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/www;
    }
}
EOF
"$nginx_bin" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$nginx_port/policy.json" && break
    sleep 0.1
done
nginx_etag=$(curl -sS -D - -o /dev/null "http://127.0.0.1:$nginx_port/policy.json" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' | tr -d '\r')
[[ -n "$nginx_etag" ]] || die "nginx sent no ETag"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" "http://127.0.0.1:$nginx_port/policy.json")
[[ "$code" == 304 ]] || die "nginx answered $code to If-None-Match, not 304"
phase nginx
wrk -t "$THREADS" -c "$connections" -d "${duration}s" --latency -H "Authorization: Bearer $token1" \
    -H "If-None-Match: $nginx_etag" "http://127.0.0.1:$nginx_port/policy.json" > "$tmp/nginx-304.wrk" 2>&1
wrk -t "$THREADS" -c "$connections" -d "${duration}s" --latency -H "Authorization: Bearer $token1" \
    "http://127.0.0.1:$nginx_port/policy.json" > "$tmp/nginx-200.wrk" 2>&1
kill "$(cat "$tmp/nginx/nginx.pid")" 2> /dev/null || true

f304=$(wrk_rate "$tmp/ferryd-304.wrk")
f200=$(wrk_rate "$tmp/ferryd-200.wrk")
n304=$(wrk_rate "$tmp/nginx-304.wrk")
n200=$(wrk_rate "$tmp/nginx-200.wrk")
ratio304=$(awk -v a="$f304" -v b="$n304" 'BEGIN { printf "%.1f", 100 * a / b }')
ratio200=$(awk -v a="$f200" -v b="$n200" 'BEGIN { printf "%.1f", 100 * a / b }')

# f. status
log "f. status: batches of $batch messages from $POLL_CLIENTS clients, $post_connections connections"
phase status
c0=$(cpu_ticks)
wrk -t "$THREADS" -c "$post_connections" -d "${duration}s" --latency -s "$here/site_status.lua" "$url" -- \
    "$tmp/poll.tokens" "$THREADS" "$adv" "$batch" > "$tmp/status.wrk" 2>&1
status_cpu=$(cpu_s "$c0" "$(cpu_ticks)")
status_new=$(field new_messages "$tmp/status.wrk")
status_failed=$(field failed "$tmp/status.wrk")
status_dup=$(field duplicates "$tmp/status.wrk")
status_s=$(field elapsed_s "$tmp/status.wrk")
status_rate=$(awk -v n="$status_new" -v s="$status_s" 'BEGIN { printf "%.0f", n / s }')
(( status_failed == 0 && status_dup == 0 )) || log "warning: status: $status_failed failed batches, $status_dup duplicates"
status_rows=$(sql "SELECT count(*) FROM status_message")

# g. memory
phase end
hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$ferryd_pid/status")
hwm_mib=$(( hwm_kib / 1024 ))
rss_rows=""
for p in first-policies inventory collections inventory-with-collections release advertisement polls-304 polls-200 status; do
    rss_rows+="$(rss_peak "$p") / "
done
rss_rows=${rss_rows% / }

# --- report -----------------------------------------------------------------------------------
verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = (dir == "le" ? v <= t : v >= t); print (ok ? "met" : "**missed**") }'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo unknown)
dirty_tree=$(git -C "$repo" diff --quiet HEAD -- server core include 2> /dev/null || echo " + uncommitted server/core changes")
report=$(cat <<EOF
### Results: ${clients} clients

Commit ${commit}${dirty_tree}. Machine: $(nproc) CPUs (${cpu}), ${mem} RAM; wrk, nginx and
ferryd share the CPUs. Database after seeding: ${db_mib} MiB. Load average (1, 5, 15 min) at the
end: $(cut -d' ' -f1-3 /proc/loadavg).
Command: \`tests/bench/bench_site.sh --clients $clients --inventory $inventory --duration $duration --connections $connections --post-connections $post_connections --batch $batch\`

| step | result | target | |
| --- | ---: | ---: | --- |
| a. seed ${clients} clients (seed_site: ${seed_line#seeded }) | ${seed_s} s | | |
| &nbsp;&nbsp;first policy of every client, from ferryd's start (for information) | ${first_policies_s} s, ${first_policies_cpu} CPU s | | |
| b. ${inventory} full inventory reports over HTTP (${inv_ok} applied), ${post_connections} connections | ${inv_s} s: **${inv_rate}/s** (latency ${inv_latency}; ${inv_timeouts:-0} over 2 s) | | |
| &nbsp;&nbsp;extrapolated to ${clients} reports | ${inv_extrapolated} s | ≤ 60 s | $(verdict "$inv_extrapolated" 60 le) |
| &nbsp;&nbsp;ferryd CPU during b; wrk's, building and sending the reports | ${inventory_cpu} CPU s; ${inv_wrk_cpu} CPU s | | |
| &nbsp;&nbsp;b′. ${inventory2} more reports with 2 collections defined (for information) | ${inv2_rate}/s | | |
${preview_rows}| c. create collection \`has os.name\` (${all_members} members) | $(awk -v t="$create_all_s" 'BEGIN { printf "%.3f s", t }') | ≤ 0.5 s | $(verdict "$create_all_s" 0.5 le) |
| c. create collection \`${queries[0]}\` (${q1_members} members) | $(awk -v t="$create_q1_s" 'BEGIN { printf "%.3f s", t }') | ≤ 0.5 s | $(verdict "$create_q1_s" 0.5 le) |
| &nbsp;&nbsp;policy check of every client after those membership changes (${recheck_signed} signed; for information) | ${recheck_s} s, ${recheck_cpu} CPU s | | |
| d. advertise to all ${clients} clients → every policy rebuilt and re-signed (${resigned} of ${policy_rows} at version ≥ 2) | **${resign_s} s** (${resign_cpu} CPU s; the advertise command itself ${advertise_cmd_s} s) | ≤ 10 s | $(verdict "$resign_s" 10 le) |
| e. idle policy poll (304), ferryd | ${f304} req/s (latency $(wrk_latency "$tmp/ferryd-304.wrk"), p99 $(wrk_p99 "$tmp/ferryd-304.wrk"); ferryd ${poll304_cpu} CPU s) | | |
| e. idle poll (304), nginx, static ${policy_bytes}-byte file | ${n304} req/s (latency $(wrk_latency "$tmp/nginx-304.wrk")) | | |
| &nbsp;&nbsp;ferryd / nginx, 304 | **${ratio304}%** | ≥ 50% | $(verdict "$ratio304" 50 ge) |
| e. full policy poll (200, ${policy_bytes} bytes), ferryd | ${f200} req/s (latency $(wrk_latency "$tmp/ferryd-200.wrk"), p99 $(wrk_p99 "$tmp/ferryd-200.wrk")) | | |
| e. 200, nginx | ${n200} req/s (latency $(wrk_latency "$tmp/nginx-200.wrk")) | | |
| &nbsp;&nbsp;ferryd / nginx, 200 (for information) | ${ratio200}% | | |
| f. status, ${batch} messages per POST, ${post_connections} connections | **${status_rate} messages/s** (${status_new} new in ${status_s} s; latency $(wrk_latency "$tmp/status.wrk"); ferryd ${status_cpu} CPU s; ${status_rows} rows stored) | ≥ 20,000/s | $(verdict "$status_rate" 20000 ge) |
| g. ferryd peak RSS (VmHWM) | **${hwm_mib} MiB** | ≤ 200 MiB | $(verdict "$hwm_mib" 200 le) |
| &nbsp;&nbsp;largest VmRSS sample per phase, MiB: first policies / b / c / b′ / release / d / e 304 / e 200 / f | ${rss_rows} | | |

Refused inventory reports: ${inv_failures:-none}. ferryd logged $(grep -c '"level": "error"' "$tmp/ferryd.err" || true) error(s)$(grep -m1 '"level": "error"' "$tmp/ferryd.err" | cut -c1-160 | sed 's/^/, the first: /' || true).
wrk socket errors (timeout: an answer slower than 2 s): inventory $(wrk_errors "$tmp/inventory.wrk");
ferryd 304 $(wrk_errors "$tmp/ferryd-304.wrk"); ferryd 200 $(wrk_errors "$tmp/ferryd-200.wrk"); status $(wrk_errors "$tmp/status.wrk").
EOF
)
echo
echo "$report"
[[ -z "$out_file" ]] || echo "$report" > "$out_file"
