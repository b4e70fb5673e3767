#!/usr/bin/env bash
# Benchmark of a distribution point answering many agents' idle policy polls (issue 5: "a DP
# serving 40,000 simulated clients' idle policy polls at the rate of one poll per client per
# minute, without falling behind"), side by side with nginx on the same machine in the same run.
#
#   tests/bench/bench_dp_polls.sh [--clients N] [--period S] [--duration S] [--keepalive S]
#                                 [--change S] [--steps R,R…] [--wrk-duration S]
#                                 [--connections C] [--build-dir DIR] [--out FILE]
#
# Builds Ferry in Release (build-bench/ by default, with FERRY_BUILD_BENCH=ON for seed_site and
# poll_load), then, in a temporary directory, on 127.0.0.1 only:
#   a. a site (ferryd init --role site) seeded with N enrolled, active clients (seed_site,
#      default 40,000) whose first policies ferryd builds;
#   b. a collection of every client, a DP registered (ferryctl dp add) and assigned to it, the
#      DP initialised (ferryd init --role dp) and started: the time until it holds every
#      client's current policy (its ETag equal to the site's) is reported;
#   c. the load of the issue against the DP: every client polls its own policy (its token,
#      If-None-Match with its ETag: 304) once per --period seconds (default 60), an open-loop
#      constant rate of N / period polls a second, for --duration seconds (default 120, so every
#      client polls twice), with a new connection per poll as agents do (poll_load; latency
#      counted from the moment each poll was due). The DP's CPU and peak RSS during the run;
#   d. the same against nginx serving a static file of the same bytes with its own ETag;
#   e. the same rate over 8 keep-alive connections for --keepalive seconds (default 20; 0: no),
#      DP and nginx, to show what the connection per poll costs;
#   e′. higher rates, still a connection per poll, 10 s each (--steps, default 2000,4000,8000
#      polls a second; "": none), DP and nginx: where polls start to fail;
#   f. the most idle polls a second each answers: wrk, keep-alive, --connections (default 16:
#      the DP serves 16 keep-alive connections at a time, one thread each, and more would only
#      wait unanswered, which wrk does not count), 2 threads, --wrk-duration seconds (default
#      15), rotating over 1,000 clients;
#   g. a change to every client's policy while they poll (--change seconds, default 120; 0: no):
#      5 s into the same load a second DP reports its address for the collection, so the site
#      signs every policy again; the DP replicates them while serving, and each client takes its
#      new policy (200) and ETag at its next poll: when the DP held them all, when the last
#      client had its own, and how the polls fared meanwhile.
# Prints a Markdown table (--out FILE also writes it to FILE).
#
# Needs cmake, a C++ compiler, nginx, wrk, curl, python3 and sqlite3; it installs nothing: when
# one is missing it says so (apt-get install -y nginx-light wrk curl python3 sqlite3). About
# 10 minutes and 1 GiB under ${TMPDIR:-/tmp} for 40,000 clients; everything it starts is stopped
# and the directory removed on exit, also on Ctrl-C. Not a timed test: run it by hand
# (docs/benchmarks.md).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
clients=40000
period=60
duration=120
keepalive=20
change=120
wrk_duration=15
connections=16
steps=2000,4000,8000
build_dir="$repo/build-bench"
out_file=""
readonly KEEPALIVE_CONNECTIONS=8 WRK_CLIENTS=1000 POLL_TIMEOUT=10 CHANGE_AT=5 STEP_SECONDS=10

usage() {
    cat <<EOF
usage: tests/bench/bench_dp_polls.sh [--clients N] [--period S] [--duration S] [--keepalive S]
                                     [--change S] [--steps R,R…] [--wrk-duration S]
                                     [--connections C] [--build-dir DIR] [--out FILE]

A site with N clients, a DP serving all of them, and every client polling its policy from the
DP once per period (open loop, a connection per poll), side by side with nginx.
  --clients N        simulated clients (default 40000)
  --period S         seconds between two polls of one client (default 60)
  --duration S       seconds of polling, DP and nginx each (default 120)
  --keepalive S      seconds of the same rate over $KEEPALIVE_CONNECTIONS keep-alive connections (default 20; 0: skip)
  --change S         seconds of polling the DP while every policy changes (default 120; 0: skip)
  --wrk-duration S   seconds of each wrk run for the maximum rate (default 15)
  --steps R,R…       higher rates (polls/s) for $STEP_SECONDS s each, a connection per poll (default 2000,4000,8000; "": none)
  --connections C    wrk connections (default 16: the DP's threads; more wait unanswered)
  --build-dir DIR    Release build directory (default build-bench in the repository)
  --out FILE         also write the markdown results to FILE
EOF
}

die() { echo "bench_dp_polls.sh: $*" >&2; exit 2; }
number() { [[ "$2" =~ ^[0-9]+$ ]] && (( $2 >= $3 )) || die "$1 must be a whole number, at least $3"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --clients) [[ $# -ge 2 ]] || die "--clients needs a value"; clients=$2; shift 2 ;;
        --period) [[ $# -ge 2 ]] || die "--period needs a value"; period=$2; shift 2 ;;
        --duration) [[ $# -ge 2 ]] || die "--duration needs a value"; duration=$2; shift 2 ;;
        --keepalive) [[ $# -ge 2 ]] || die "--keepalive needs a value"; keepalive=$2; shift 2 ;;
        --change) [[ $# -ge 2 ]] || die "--change needs a value"; change=$2; shift 2 ;;
        --steps) [[ $# -ge 2 ]] || die "--steps needs a value"; steps=$2; shift 2 ;;
        --wrk-duration) [[ $# -ge 2 ]] || die "--wrk-duration needs a value"; wrk_duration=$2; shift 2 ;;
        --connections) [[ $# -ge 2 ]] || die "--connections needs a value"; connections=$2; shift 2 ;;
        --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a value"; build_dir=$2; shift 2 ;;
        --out) [[ $# -ge 2 ]] || die "--out needs a value"; out_file=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
number --clients "$clients" "$WRK_CLIENTS"
number --period "$period" 1
number --duration "$duration" 1
number --keepalive "$keepalive" 0
number --change "$change" 0
(( change == 0 || change > CHANGE_AT )) || die "--change must be more than $CHANGE_AT s (or 0)"
number --wrk-duration "$wrk_duration" 1
number --connections "$connections" 2
[[ "$steps" =~ ^([0-9]+(,[0-9]+)*)?$ ]] || die "--steps: rates in polls a second, separated by commas"
[[ "$out_file" == "" || "$out_file" == /* ]] || out_file="$PWD/$out_file"

log() { echo "== $(date -u +%H:%M:%S) $*" >&2; }

# --- tools: nothing is installed behind the user's back ---------------------------------------
missing=()
for tool in nginx wrk curl python3 sqlite3; do
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
for tool in cmake awk ps; do
    command -v "$tool" > /dev/null || die "$tool is needed"
done

# --- build ------------------------------------------------------------------------------------
log "building Ferry (Release) in $build_dir"
generator=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja > /dev/null; then generator=(-G Ninja); fi
cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF \
    -DFERRY_BUILD_BENCH=ON > "$build_dir.cmake.log" 2>&1 || { cat "$build_dir.cmake.log" >&2; die "cmake failed"; }
rm -f "$build_dir.cmake.log"
cmake --build "$build_dir" -j "$(nproc)" --target ferryd ferryctl seed_site poll_load > /dev/null ||
    die "build failed"
ferryd="$build_dir/server/ferryd"
ferryctl="$build_dir/server/ferryctl"
seed_site="$build_dir/tests/bench/seed_site"
poll_load="$build_dir/tests/bench/poll_load"
for program in "$ferryd" "$ferryctl" "$seed_site" "$poll_load"; do
    [[ -x "$program" ]] || die "$program missing"
done

# --- scratch space and clean-up ---------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-dp-polls.XXXXXX")
pids=()  # everything started in the background, stopped on exit
nginx_pid=""
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
    rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
need_kib=$(( clients * 24 + 524288 ))  # about 19 KiB per client in the site's database, and slack
free_kib=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
(( free_kib >= need_kib )) || die "$tmp has $((free_kib / 1024)) MiB free, needs about $((need_kib / 1024)) MiB"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
site_db="$tmp/site/ferry.db"
dp_db="$tmp/dp/dp.db"
sql() { sqlite3 -cmd ".timeout 10000" "$site_db" "$@"; }
hz=$(getconf CLK_TCK)
cpu_ticks() {  # PID...: user + system ticks of these processes
    local pid total=0 ticks
    for pid in "$@"; do
        ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2> /dev/null || echo 0)
        total=$(( total + ticks ))
    done
    echo "$total"
}
cpu_s() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }'; }
cpu_pct() { awk -v t="$1" -v hz="$hz" -v s="$2" 'BEGIN { printf "%.1f", 100 * t / hz / s }'; }  # of one core
kib_of() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
# Peak RSS from now on: writing 5 to clear_refs resets VmHWM (Linux ≥ 4.0) of our own process.
reset_peak() { echo 5 > "/proc/$1/clear_refs" 2> /dev/null || log "warning: cannot reset VmHWM of $1"; }

wait_for_line() {  # TEXT FILE SECONDS
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$1" "$2" 2> /dev/null && return 0
        sleep 0.1
    done
    cat "$2" >&2 || true
    die "timed out waiting for \"$1\" in $2"
}

# --- a. the site ------------------------------------------------------------------------------
site_port=$(free_port)
site_url="http://127.0.0.1:$site_port"
log "a. a site on $site_url with $clients seeded clients"
"$ferryd" init --role site --dir "$tmp/site" --listen "127.0.0.1:$site_port" > "$tmp/site-init.out"
admin=$(tail -n 1 "$tmp/site-init.out")
[[ "$admin" == admin_* ]] || die "no admin token in the output of ferryd init"
t0=$(now)
"$seed_site" --db "$site_db" --clients "$clients" --tokens "$clients" --tokens-out "$tmp/tokens.txt" \
    > "$tmp/seed.out"
seed_s=$(elapsed "$t0" "$(now)")
cat "$tmp/seed.out" >&2

"$ferryd" --config "$tmp/site/ferryd.ini" > "$tmp/site.out" 2> "$tmp/site.err" &
site_pid=$!
pids+=("$site_pid")
wait_for_line "listening on" "$tmp/site.out" 30
dirty() { sql "SELECT count(*) FROM client WHERE policy_dirty = 1"; }
for ((i = 0; i < 6000; i++)); do
    [[ "$(dirty)" == 0 && "$(sql "SELECT count(*) FROM client_policy")" -ge "$clients" ]] && break
    sleep 0.2
done
[[ "$(dirty)" == 0 ]] || die "the site did not build its clients' first policies"

export FERRY_SERVER="$site_url" FERRY_TOKEN="$admin"
ctl() { "$ferryctl" "$@" 2>> "$tmp/ferryctl.err" || { cat "$tmp/ferryctl.err" >&2; die "ferryctl $* failed"; }; }
token_of() { sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' | sed -n 1p; }

# --- b. the DP, assigned the collection of every client --------------------------------------
log "b. a DP for the collection of all $clients clients"
ctl collection create all-clients --query 'has os.name' > /dev/null
members=$(sql "SELECT count(*) FROM collection_member m JOIN collection c ON c.id = m.collection_id WHERE c.name = 'all-clients'")
[[ "$members" == "$clients" ]] || die "collection all-clients has $members members, not $clients"
dp_token=$(ctl dp add edge --json | token_of)
[[ "$dp_token" == dp_* ]] || die "no DP token from ferryctl dp add"
ctl dp assign edge --collection all-clients > /dev/null
dp_port=$(free_port)
"$ferryd" init --role dp --dir "$tmp/dp" --parent "$site_url" --token "$dp_token" \
    --listen "127.0.0.1:$dp_port" > "$tmp/dp-init.out" 2>&1 || { cat "$tmp/dp-init.out" >&2; die "ferryd init --role dp failed"; }
site_ticks0=$(cpu_ticks "$site_pid")
t0=$(now)
"$ferryd" --config "$tmp/dp/ferryd.ini" > "$tmp/dp.out" 2> "$tmp/dp.err" &
dp_pid=$!
pids+=("$dp_pid")
wait_for_line "listening on" "$tmp/dp.out" 30
dp_url="http://127.0.0.1:$dp_port"
sync_interval=$(sed -n 's/^sync_interval *= *//p' "$tmp/dp/ferryd.ini")
# Replicated: the site has nothing left to build and the DP holds every client's policy with
# the ETag the site serves now (the DP's address in the policies' sources made the site sign
# them all again once the DP reported it).
current() {
    sqlite3 -cmd ".timeout 10000" "$site_db" "ATTACH '$dp_db' AS dp;
        SELECT count(*) FROM client c JOIN client_policy p ON p.client_id = c.id
        JOIN dp.policy d ON d.client_id = c.uid AND d.etag = p.etag" 2> /dev/null || echo 0
}
replicated=0
for ((i = 0; i < 1200; i++)); do
    if [[ -f "$dp_db" && "$(dirty)" == 0 ]]; then
        replicated=$(current)
        (( replicated >= clients )) && break
    fi
    sleep 0.5
done
replicate_s=$(elapsed "$t0" "$(now)")
(( replicated >= clients )) || die "the DP holds $replicated current policies of $clients after $replicate_s s"
replicate_dp_cpu=$(cpu_s "$(cpu_ticks "$dp_pid")")
replicate_site_cpu=$(cpu_s $(( $(cpu_ticks "$site_pid") - site_ticks0 )))
replicate_hwm=$(mib "$(kib_of "$dp_pid" VmHWM)")
site_versions=$(sql "SELECT min(version) || '-' || max(version) FROM client_policy")
dp_db_mib=$(( $(stat -c %s "$dp_db") / 1048576 ))
log "b. the DP holds $replicated current policies after $replicate_s s"

# The polls: each client's token and the ETag the DP serves it.
sqlite3 -cmd ".timeout 10000" -separator ' ' "$dp_db" "SELECT client_id, etag FROM policy" > "$tmp/etags.txt"
awk 'NR == FNR { etag[$1] = $2; next } ($1 in etag) { print $1, $2, etag[$1] }' "$tmp/etags.txt" \
    "$tmp/tokens.txt" > "$tmp/polls.txt"
[[ $(wc -l < "$tmp/polls.txt") -eq $clients ]] || die "the DP has no policy for some clients"
read -r uid1 token1 etag1 < "$tmp/polls.txt"
mkdir -p "$tmp/www" "$tmp/nginx"
# nginx's workers run as another user when started by root: they may pass through $tmp and
# read www/, nothing else.
chmod 711 "$tmp"
chmod 755 "$tmp/www"
code=$(curl -sS -o "$tmp/www/policy.json" -w '%{http_code}' -H "Authorization: Bearer $token1" "$dp_url/api/v1/clients/$uid1/policy")
[[ "$code" == 200 ]] || die "the DP answered GET policy with $code"
chmod 644 "$tmp/www/policy.json"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token1" -H "If-None-Match: $etag1" "$dp_url/api/v1/clients/$uid1/policy")
[[ "$code" == 304 ]] || die "the DP answered GET policy with its ETag with $code, not 304"
policy_bytes=$(stat -c %s "$tmp/www/policy.json")

# --- nginx: the same file for every client's policy path --------------------------------------
nginx_port=$(free_port)
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
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
        # The agents' path, so that the requests are the DP's byte for byte but the port.
        location /api/v1/clients/ { rewrite ^ /policy.json break; }
    }
}
EOF
"$nginx_bin" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!
pids+=("$nginx_pid")
nginx_url="http://127.0.0.1:$nginx_port"
for _ in $(seq 1 50); do
    curl -s -o /dev/null "$nginx_url/api/v1/clients/$uid1/policy" && break
    sleep 0.1
done
nginx_etag=$(curl -sS -D - -o /dev/null "$nginx_url/api/v1/clients/$uid1/policy" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' | tr -d '\r')
[[ -n "$nginx_etag" ]] || die "nginx sent no ETag"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" "$nginx_url/api/v1/clients/$uid1/policy")
[[ "$code" == 304 ]] || die "nginx answered $code to If-None-Match, not 304"
nginx_pids() { echo "$nginx_pid" $(ps -o pid= --ppid "$nginx_pid"); }

# --- c, d, e. the open-loop polls -------------------------------------------------------------
# poll_load NAME PORT SECONDS PIDS [ARGS...]: writes NAME.out (key=value), NAME.windows, and
# NAME.server (CPU % of one core, peak RSS in MiB, RSS in MiB at the start; of all the pids).
run_polls() {
    local name=$1 port=$2 seconds=$3 pid_list=$4
    shift 4
    local pid ticks0 t_start t_end rss0=0 k
    # The peak from here on; the RSS now is kept too: memory an earlier phase left (e.g. the
    # page caches of the SQLite connections wrk's load warmed) counts in the peak.
    for pid in $pid_list; do reset_peak "$pid"; k=$(kib_of "$pid" VmRSS); rss0=$(( rss0 + k )); done
    ticks0=$(cpu_ticks $pid_list)
    t_start=$(now)
    "$poll_load" --port "$port" --clients "$tmp/polls.txt" --period "$period" --duration "$seconds" \
        --timeout "$POLL_TIMEOUT" "$@" > "$tmp/$name.out" 2> "$tmp/$name.windows" ||
        { cat "$tmp/$name.windows" >&2; die "poll_load failed"; }
    t_end=$(now)
    local hwm=0
    for pid in $pid_list; do k=$(kib_of "$pid" VmHWM); hwm=$(( hwm + k )); done
    echo "$(cpu_pct $(( $(cpu_ticks $pid_list) - ticks0 )) "$(elapsed "$t_start" "$t_end")") $(mib "$hwm") $(mib "$rss0")" > "$tmp/$name.server"
    cat "$tmp/$name.windows" >&2
}
value() { sed -n "s/^$2=//p" "$tmp/$1.out"; }
rate=$(awk -v n="$clients" -v p="$period" 'BEGIN { printf "%.1f", n / p }')

log "c. $clients clients poll the DP once per $period s ($rate/s), a connection per poll, $duration s"
site_ticks0=$(cpu_ticks "$site_pid")
run_polls dp-close "$dp_port" "$duration" "$dp_pid"
site_cpu_polls=$(cpu_s $(( $(cpu_ticks "$site_pid") - site_ticks0 )))
log "d. the same against nginx"
run_polls nginx-close "$nginx_port" "$duration" "$(nginx_pids)" --etag "$nginx_etag"
if (( keepalive > 0 )); then
    log "e. the same rate over $KEEPALIVE_CONNECTIONS keep-alive connections, $keepalive s each"
    run_polls dp-keep "$dp_port" "$keepalive" "$dp_pid" --connections "$KEEPALIVE_CONNECTIONS"
    run_polls nginx-keep "$nginx_port" "$keepalive" "$(nginx_pids)" --connections "$KEEPALIVE_CONNECTIONS" --etag "$nginx_etag"
fi
# e′. The same clients polling faster (a shorter period), to find where a connection per poll
# stops working: poll_load's failures say how.
IFS=, read -r -a step_rates <<< "$steps"
for step in "${step_rates[@]}"; do
    step_period=$(awk -v n="$clients" -v r="$step" 'BEGIN { printf "%.6f", n / r }')
    log "e′. $step polls a second, a connection per poll, $STEP_SECONDS s each"
    run_polls "dp-step-$step" "$dp_port" "$STEP_SECONDS" "$dp_pid" --period "$step_period"
    run_polls "nginx-step-$step" "$nginx_port" "$STEP_SECONDS" "$(nginx_pids)" --period "$step_period" --etag "$nginx_etag"
done

# --- f. the maximum idle-poll rate with wrk ---------------------------------------------------
log "f. the most idle polls a second: wrk, $connections keep-alive connections, $wrk_duration s"
head -n "$WRK_CLIENTS" "$tmp/polls.txt" > "$tmp/wrk-dp.txt"
awk -v e="$nginx_etag" '{ print $1, $2, e }' "$tmp/wrk-dp.txt" > "$tmp/wrk-nginx.txt"
run_wrk() {  # NAME URL POLLS PIDS
    local ticks0
    ticks0=$(cpu_ticks $4)
    wrk -t 2 -c "$connections" -d "${wrk_duration}s" --latency -s "$here/site_policy.lua" "$2" -- "$3" etag \
        > "$tmp/$1.wrk" 2>&1 || { cat "$tmp/$1.wrk" >&2; die "wrk failed"; }
    cpu_pct $(( $(cpu_ticks $4) - ticks0 )) "$wrk_duration" > "$tmp/$1.cpu"
}
run_wrk wrk-dp "$dp_url" "$tmp/wrk-dp.txt" "$dp_pid"
run_wrk wrk-nginx "$nginx_url" "$tmp/wrk-nginx.txt" "$(nginx_pids)"

# --- g. a change to every policy while the clients poll --------------------------------------
# A second DP assigned to the collection reports its address (as its first heartbeat would):
# every client's policy names it in its sources, so the site signs all of them again. The
# address is never contacted. poll_load runs the report CHANGE_AT s into the schedule and
# clients keep the ETag of a 200, as agents keep the policy they received.
if (( change > 0 )); then
    log "g. $change s of the same polls; $CHANGE_AT s in, every client's policy changes"
    edge2_token=$(ctl dp add edge2 --json | token_of)
    [[ "$edge2_token" == dp_* ]] || die "no token for the second DP"
    ctl dp assign edge2 --collection all-clients > /dev/null
    old_version=$(sql "SELECT max(version) FROM client_policy")
    cat > "$tmp/change.sh" <<EOF
date +%s.%N > "$tmp/changed_at"
curl -sS -o "$tmp/change.answer" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $edge2_token" \
    -H 'Content-Type: application/json' \
    --data '{"url": "http://127.0.0.1:$(free_port)", "objects": 0, "bytes": 0, "queue": 0, "lag": 0}' \
    "$site_url/api/v1/dps/register" > "$tmp/change.status"
EOF
    # The DP's side, once a second: when it holds every client's new policy (a version above
    # the old one). Bounded, so that it ends on its own.
    rm -f "$tmp/changed_at"
    (
        for ((i = 0; i < (change + 60); i++)); do
            sleep 1
            [[ -f "$tmp/changed_at" ]] || continue
            held=$(sqlite3 -cmd ".timeout 10000" "$dp_db" "SELECT count(*) FROM policy WHERE version > $old_version" 2> /dev/null || echo 0)
            if (( held >= clients )); then elapsed "$(cat "$tmp/changed_at")" "$(now)" > "$tmp/change.replicated"; exit 0; fi
        done
        echo "more than $(( change + 60 - CHANGE_AT ))" > "$tmp/change.replicated"
    ) &
    watcher=$!
    pids+=("$watcher")
    run_polls dp-change "$dp_port" "$change" "$dp_pid" --learn-etags --trigger-at "$CHANGE_AT" --trigger "sh $tmp/change.sh"
    [[ "$(cat "$tmp/change.status" 2> /dev/null)" == 200 ]] || die "the second DP's report was refused: $(cat "$tmp/change.answer" 2> /dev/null)"
    wait "$watcher" || true
    new_versions=$(sql "SELECT count(*) FROM client_policy WHERE version > $old_version")
fi
wrk_rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/$1.wrk"; }
wrk_cell() {
    local errors
    errors=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$tmp/$1.wrk")
    printf '%.0f/s (p50 %s, p99 %s, max %s; %s; %s%% CPU; socket errors: %s)' "$(wrk_rate "$1")" \
        "$(awk '/^ *50%/ { print $2 }' "$tmp/$1.wrk")" "$(awk '/^ *99%/ { print $2 }' "$tmp/$1.wrk")" \
        "$(awk '/^ *Latency +[0-9]/ { print $4 }' "$tmp/$1.wrk")" \
        "$(sed -n 's/^policy: //p' "$tmp/$1.wrk")" "$(cat "$tmp/$1.cpu")" "${errors:-none}"
}

# --- report -----------------------------------------------------------------------------------
# A run kept up when every poll was answered 304, none failed, and the answers came at the
# offered rate: the last one within a second of the last poll's due time.
kept_up() {
    local n=$1
    [[ "$(value "$n" errors)" == 0 && "$(value "$n" status_304)" == "$(value "$n" scheduled)" ]] &&
        awk -v l="$(value "$n" last_answer_after_last_due_ms)" 'BEGIN { exit !(l < 1000) }' &&
        echo yes || echo "**no**"
}
worst_window() {  # the worst p99 of the 10-s windows of the schedule
    sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' "$tmp/$1.windows" | sort -n | tail -n 1
}
row_polls() {  # LABEL NAME_DP NAME_NGINX FORMAT-FUNCTION
    echo "| $1 | $($4 "$2") | $($4 "$3") |"
}
counts() { echo "$(value "$1" scheduled) / $(value "$1" sent) / $(value "$1" answered) / $(value "$1" status_304) / $(value "$1" errors)"; }
rates() { echo "$(value "$1" offered_per_s) / $(value "$1" answered_per_s)"; }
latency() { echo "$(value "$1" latency_ms_p50) / $(value "$1" latency_ms_p99) / $(value "$1" latency_ms_p999) / $(value "$1" latency_ms_max) ms"; }
service() { echo "$(value "$1" service_ms_p50) / $(value "$1" service_ms_p99) / $(value "$1" service_ms_max) ms"; }
lateness() { echo "$(value "$1" late_ms_p50) / $(value "$1" late_ms_p99) / $(value "$1" late_ms_max) ms; $(value "$1" late_over_10ms) over 10 ms"; }
in_flight() { value "$1" max_in_flight; }
server_cpu() { echo "$(cut -d' ' -f1 "$tmp/$1.server")%"; }
server_rss() { echo "$(cut -d' ' -f2 "$tmp/$1.server") MiB ($(cut -d' ' -f3 "$tmp/$1.server") at the start)"; }
generator_cpu() { awk -v c="$(value "$1" generator_cpu_s)" -v w="$(value "$1" wall_s)" 'BEGIN { printf "%.1f%%", 100 * c / w }'; }
worst() { echo "$(worst_window "$1") ms"; }
errors_of() { value "$1" error_kinds; }

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo unknown)
dirty_tree=$(git -C "$repo" diff --quiet HEAD -- server core include 2> /dev/null || echo " + uncommitted server/core changes")
nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///')
report=$(cat <<EOF
### Results: ${clients} clients polling once per ${period} s

$(date -u +%Y-%m-%d). Commit ${commit}${dirty_tree}. Machine: $(nproc) CPUs (${cpu_model}), ${mem} RAM;
the site, the DP, nginx ${nginx_version}, poll_load and wrk share the CPUs. Load average (1, 5, 15 min) at
the end: $(cut -d' ' -f1-3 /proc/loadavg).
Command: \`tests/bench/bench_dp_polls.sh --clients $clients --period $period --duration $duration --keepalive $keepalive --change $change --steps $steps --wrk-duration $wrk_duration --connections $connections\`

Setup: seeding ${clients} clients ${seed_s} s. The DP, started after \`dp assign\`, held all
${clients} current policies after **${replicate_s} s** (sync_interval ${sync_interval} s; policy
versions at the site ${site_versions}; DP ${replicate_dp_cpu} CPU s, site ${replicate_site_cpu} CPU s
in that time; DP peak RSS ${replicate_hwm} MiB; dp.db ${dp_db_mib} MiB).

Open loop, ${rate} polls/s (each client every ${period} s, ${duration} s = $(value dp-close scheduled) polls), a new
connection per poll (\`Connection: close\`, as the agent); latencies from each poll's due time:

| measurement | ferryd dp | nginx (static ${policy_bytes}-byte file) |
| --- | ---: | ---: |
$(row_polls "polls due / sent / answered / 304 / failed" dp-close nginx-close counts)
$(row_polls "failures by kind" dp-close nginx-close errors_of)
$(row_polls "offered / answered polls per second" dp-close nginx-close rates)
$(row_polls "kept up (all 304, none failed, last answer < 1 s after the last due time)" dp-close nginx-close kept_up)
$(row_polls "latency from due time p50 / p99 / p99.9 / max" dp-close nginx-close latency)
$(row_polls "worst 10-s window's p99 latency" dp-close nginx-close worst)
$(row_polls "connect to last byte p50 / p99 / max" dp-close nginx-close service)
$(row_polls "generator: poll sent after its due time p50 / p99 / max" dp-close nginx-close lateness)
$(row_polls "most polls open at once" dp-close nginx-close in_flight)
$(row_polls "server CPU during the run (% of one core)" dp-close nginx-close server_cpu)
$(row_polls "server peak RSS during the run (VmHWM; nginx: master and workers)" dp-close nginx-close server_rss)
$(row_polls "poll_load's own CPU" dp-close nginx-close generator_cpu)
EOF
)
if (( keepalive > 0 )); then
    report+=$'\n'$(cat <<EOF
| **same rate, ${KEEPALIVE_CONNECTIONS} keep-alive connections, ${keepalive} s** | | |
$(row_polls "&nbsp;&nbsp;polls due / sent / answered / 304 / failed" dp-keep nginx-keep counts)
$(row_polls "&nbsp;&nbsp;latency from due time p50 / p99 / p99.9 / max" dp-keep nginx-keep latency)
$(row_polls "&nbsp;&nbsp;server CPU (% of one core)" dp-keep nginx-keep server_cpu)
EOF
)
fi
step_cell() {  # NAME: answered of due, failures, latency, most open, CPU
    echo "$(value "$1" answered) of $(value "$1" scheduled) answered ($(value "$1" errors) failed: $(value "$1" error_kinds)); p50 / p99 / max $(value "$1" latency_ms_p50) / $(value "$1" latency_ms_p99) / $(value "$1" latency_ms_max) ms; $(value "$1" max_in_flight) open at most; $(server_cpu "$1") CPU"
}
for step in "${step_rates[@]}"; do
    report+=$'\n'"| **${step} polls a second** ($(awk -v s="$step" -v r="$rate" 'BEGIN { printf "%.0f", s / r }')× the rate), a connection per poll, ${STEP_SECONDS} s | $(step_cell "dp-step-$step") | $(step_cell "nginx-step-$step") |"
done
if (( change > 0 )); then
    change_counts() { echo "$(value "$1" scheduled) / $(value "$1" answered) / $(value "$1" status_304) / $(value "$1" status_200) / $(value "$1" errors)"; }
    after_change() { awk -v m="$(value dp-change "$1")" 'BEGIN { printf "%.1f s", m / 1000 }'; }
    report+=$'\n'$(cat <<EOF
| **every policy changes ${CHANGE_AT} s into ${change} s of the same polls** (${new_versions} of ${clients} re-signed by the site) | | |
| &nbsp;&nbsp;polls due / answered / 304 / 200 / failed | $(change_counts dp-change) | |
| &nbsp;&nbsp;latency from due time p50 / p99 / p99.9 / max | $(latency dp-change) | |
| &nbsp;&nbsp;worst 10-s window's p99 latency | $(worst dp-change) | |
| &nbsp;&nbsp;the DP held every new policy, after the change | $(cat "$tmp/change.replicated" 2> /dev/null || echo "?") s | |
| &nbsp;&nbsp;clients given their new policy (a 200, then 304s with its ETag) | $(value dp-change clients_given_a_new_policy) of ${clients}: the first $(after_change first_200_ms), the last $(after_change last_200_ms) after the change | |
| &nbsp;&nbsp;DP CPU (% of one core) / peak RSS | $(server_cpu dp-change) / $(server_rss dp-change) | |
EOF
)
fi
report+=$'\n'$(cat <<EOF
| **most idle polls a second** (wrk -t2 -c${connections} -d${wrk_duration}s, keep-alive, ${WRK_CLIENTS} clients) | $(wrk_cell wrk-dp) | $(wrk_cell wrk-nginx) |
| &nbsp;&nbsp;that rate / ${rate} | $(awk -v a="$(wrk_rate wrk-dp)" -v r="$rate" 'BEGIN { printf "%.0f×", a / r }') | $(awk -v a="$(wrk_rate wrk-nginx)" -v r="$rate" 'BEGIN { printf "%.0f×", a / r }') |

The site's ferryd used ${site_cpu_polls} CPU s during the DP's ${duration}-s run (the DP's heartbeat and
feed every ${sync_interval} s). The DP logged $(grep -c '"level": "error"' "$tmp/dp.err" || true) error(s) and $(grep -c '"level": "warning"' "$tmp/dp.err" || true) warning(s)$(grep -m1 '"level": "\(error\|warning\)"' "$tmp/dp.err" | cut -c1-200 | sed 's/^/, the first: /' || true).
EOF
)
echo
echo "$report"
[[ -z "$out_file" ]] || echo "$report" > "$out_file"
