#!/usr/bin/env bash
# Benchmark of a rollout reaching many clients through one distribution point (issue 6: "a
# rollout to 10,000 simulated clients through one DP: time from the wave's start until every
# client has its policy; time from the error threshold being crossed until the halt is in every
# client's policy; both reported with the poll intervals used, and the site's CPU and RSS").
#
#   tests/bench/bench_rollout.sh [--clients N] [--period S] [--sync-interval S] [--error P]
#                                [--build-dir DIR] [--out FILE]
#
# Builds Ferry in Release (build-bench/ by default, FERRY_BUILD_BENCH=ON), then, in a temporary
# directory, on 127.0.0.1 only:
#   1. a site seeded with N active clients (seed_site, default 10,000); the sample package hello
#      through the real path: a publisher, ferry-pack build and push, an RFC approved by the CAB,
#      a release hello@1.0 through building and testing, the 11-item readiness review, ready;
#   2. a collection of every client, a DP assigned to it (ferryd init --role dp --sync-interval
#      S, default 5) until it holds every client's current policy;
#   3. every client polls its policy from the DP once per --period seconds (default 60), open
#      loop, a connection per poll, keeping the ETag of each 200 (poll_load --learn-etags), and
#      poll_load records when each client first received (200) a policy naming the
#      advertisement, and one saying "halted" (--match, --seen-out); meanwhile:
#      A1. ferryctl rollout create hello@1.0 --collection all --waves 1%,100% --success 95
#          --error P: until every client of wave 1 has the advertisement;
#      A2. wave 1's clients report `installed` (POST /api/v1/status with their own tokens, to the
#          site): wave 1 completes, wave 2 (the other 99%) starts by itself; until every client
#          of wave 2 has the advertisement;
#      B.  just over P% of wave 2's clients report `failed` (the same way, 16 at a time): the
#          rollout halts by itself; until every client holding the advertisement has a policy
#          with "rollout_state": "halted".
#      For each phase: from the action (our clock) and from the site's record of it (the wave's
#      started_at, the halt's change-log entry: whole seconds), when the site had signed every
#      affected policy, when the DP held them all, and when the last client had its own (plus
#      the median client); the site's and the DP's CPU (% of one core, /proc/PID/stat) and peak
#      RSS (VmHWM, reset at the start of each phase) during it.
# Prints a Markdown table (--out FILE also writes it to FILE).
#
# Needs cmake, a C++ compiler, curl, python3 and sqlite3; installs nothing. About 5 minutes with
# --period 60 for 10,000 clients; everything it starts is stopped and the directory removed on
# exit, also on Ctrl-C. Not a timed test: run it by hand (docs/benchmarks-rollout.md).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
clients=10000
period=60
sync_interval=5
error=5
build_dir="$repo/build-bench"
out_file=""
readonly WARMUP=10 POLL_TIMEOUT=10 SAMPLE=0.5

usage() {
    sed -n '7,8p' "${BASH_SOURCE[0]}" | sed 's/^# *//'
    cat <<EOF
  --clients N        simulated clients (default 10000)
  --period S         seconds between two polls of one client (default 60)
  --sync-interval S  the DP's sync interval (default 5)
  --error P          the rollout's error threshold in percent (default 5)
  --build-dir DIR    Release build directory (default build-bench in the repository)
  --out FILE         also write the markdown results to FILE
EOF
}
die() { echo "bench_rollout.sh: $*" >&2; exit 2; }
number() { [[ "$2" =~ ^[0-9]+$ ]] && (( $2 >= $3 )) || die "$1 must be a whole number, at least $3"; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --clients) [[ $# -ge 2 ]] || die "--clients needs a value"; clients=$2; shift 2 ;;
        --period) [[ $# -ge 2 ]] || die "--period needs a value"; period=$2; shift 2 ;;
        --sync-interval) [[ $# -ge 2 ]] || die "--sync-interval needs a value"; sync_interval=$2; shift 2 ;;
        --error) [[ $# -ge 2 ]] || die "--error needs a value"; error=$2; shift 2 ;;
        --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a value"; build_dir=$2; shift 2 ;;
        --out) [[ $# -ge 2 ]] || die "--out needs a value"; out_file=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
number --clients "$clients" 200
number --period "$period" 1
number --sync-interval "$sync_interval" 1
number --error "$error" 0
(( error < 50 )) || die "--error must be below 50"
[[ "$out_file" == "" || "$out_file" == /* ]] || out_file="$PWD/$out_file"
log() { echo "== $(date -u +%H:%M:%S) $*" >&2; }

for tool in cmake curl python3 sqlite3 awk; do
    command -v "$tool" > /dev/null || die "$tool is needed (apt-get install -y $tool)"
done

# --- build ------------------------------------------------------------------------------------
log "building Ferry (Release) in $build_dir"
generator=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja > /dev/null; then generator=(-G Ninja); fi
cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF \
    -DFERRY_BUILD_BENCH=ON > "$build_dir.cmake.log" 2>&1 || { cat "$build_dir.cmake.log" >&2; die "cmake failed"; }
rm -f "$build_dir.cmake.log"
cmake --build "$build_dir" -j "$(nproc)" --target ferryd ferryctl ferry-pack seed_site poll_load > /dev/null ||
    die "build failed"
ferryd="$build_dir/server/ferryd"
ferryctl="$build_dir/server/ferryctl"
pack="$build_dir/packager/ferry-pack"
seed_site="$build_dir/tests/bench/seed_site"
poll_load="$build_dir/tests/bench/poll_load"
for program in "$ferryd" "$ferryctl" "$pack" "$seed_site" "$poll_load"; do
    [[ -x "$program" ]] || die "$program missing"
done

# --- scratch space and clean-up ---------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-rollout.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
    rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
site_db="$tmp/site/ferry.db"
dp_db="$tmp/dp/dp.db"
sql() { sqlite3 -cmd ".timeout 10000" "$site_db" "$@"; }
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2> /dev/null || echo 0; }
kib_of() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
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

# --- 1. the site, its clients, hello@1.0 ready -------------------------------------------------
site_port=$(free_port)
site_url="http://127.0.0.1:$site_port"
log "1. a site on $site_url with $clients seeded clients"
"$ferryd" init --role site --dir "$tmp/site" --listen "127.0.0.1:$site_port" > "$tmp/site-init.out"
admin=$(tail -n 1 "$tmp/site-init.out")
[[ "$admin" == admin_* ]] || die "no admin token in the output of ferryd init"
"$seed_site" --db "$site_db" --clients "$clients" --tokens "$clients" --tokens-out "$tmp/tokens.txt" \
    > "$tmp/seed.out"
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

export FERRY_SERVER="$site_url"
as() {  # TOKEN ARGS...
    local token=$1
    shift
    FERRY_TOKEN="$token" "$ferryctl" "$@" 2>> "$tmp/ferryctl.err" || { cat "$tmp/ferryctl.err" >&2; die "ferryctl $* failed"; }
}
json_field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" | sed -n 1p; }
rita=$(as "$admin" user add rita --role release-manager --json | json_field token)
carl=$(as "$admin" user add carl --role cab --json | json_field token)
(
    cd "$tmp"
    "$pack" keygen -o pub > /dev/null
    "$pack" build "$repo/samples/packages/hello-1.0" -o hello-1.0.ferry --key pub.key > /dev/null 2>&1
) || die "ferry-pack build failed"
as "$admin" publisher add Samples --pub "$tmp/pub.pub" --packages hello > /dev/null
"$pack" push "$tmp/hello-1.0.ferry" --server "$site_url" --token "$admin" > /dev/null 2>&1 || die "ferry-pack push failed"
rfc=$(as "$rita" rfc create --title "hello to everyone" | awk 'NR == 1 { print $1 }')
as "$carl" rfc approve "$rfc" --reason "reviewed at the CAB" > /dev/null
ref=$(as "$rita" release create --title "hello 1.0" --rfc "$rfc" --package hello@1.0 | grep -o 'REL-[0-9-]*' | sed -n 1p)
as "$rita" release transition "$ref" building > /dev/null
as "$rita" release transition "$ref" testing > /dev/null
for item in 1 2 3 4 5 8; do as "$rita" release review "$ref" "$item" --go > /dev/null; done
for item in 6 11; do as "$carl" release review "$ref" "$item" --go > /dev/null; done
for item in 7 9 10; do as "$admin" release review "$ref" "$item" --go --note checked > /dev/null; done
as "$rita" release transition "$ref" ready > /dev/null
log "1. $ref (hello@1.0, $rfc) is ready"

# --- 2. the DP --------------------------------------------------------------------------------
log "2. a DP for the collection of all $clients clients, sync interval $sync_interval s"
as "$rita" collection create all --query 'has os.name' > /dev/null
members=$(sql "SELECT count(*) FROM collection_member m JOIN collection c ON c.id = m.collection_id WHERE c.name = 'all'")
[[ "$members" == "$clients" ]] || die "collection all has $members members, not $clients"
dp_token=$(as "$admin" dp add edge --json | json_field token)
[[ "$dp_token" == dp_* ]] || die "no DP token from ferryctl dp add"
as "$admin" dp assign edge --collection all > /dev/null
dp_port=$(free_port)
# ferryd init --role dp asks the site for its feed; the site has answered that with a 500 while
# it rebuilt the policies dp assign made dirty: retried (at most 3 times), and said so.
dp_init_retries=0
until "$ferryd" init --role dp --dir "$tmp/dp" --parent "$site_url" --token "$dp_token" \
    --listen "127.0.0.1:$dp_port" --sync-interval "$sync_interval" > "$tmp/dp-init.out" 2>&1; do
    cat "$tmp/dp-init.out" >&2
    grep '"level": "error"' "$tmp/site.err" | tail -n 3 >&2 || true
    (( ++dp_init_retries <= 3 )) || die "ferryd init --role dp failed"
    log "warning: ferryd init --role dp failed; retrying in 2 s"
    rm -rf "$tmp/dp"
    sleep 2
done
t0=$(now)
"$ferryd" --config "$tmp/dp/ferryd.ini" > "$tmp/dp.out" 2> "$tmp/dp.err" &
dp_pid=$!
pids+=("$dp_pid")
wait_for_line "listening on" "$tmp/dp.out" 30
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
log "2. the DP holds every current policy after $replicate_s s"
sqlite3 -cmd ".timeout 10000" -separator ' ' "$dp_db" "SELECT client_id, etag FROM policy" > "$tmp/etags.txt"
awk 'NR == FNR { etag[$1] = $2; next } ($1 in etag) { print $1, $2, etag[$1] }' "$tmp/etags.txt" \
    "$tmp/tokens.txt" > "$tmp/polls.txt"
[[ $(wc -l < "$tmp/polls.txt") -eq $clients ]] || die "the DP has no policy for some clients"

# --- helpers for the phases -------------------------------------------------------------------
# The first advertisement of a fresh site; checked against the rollout once it exists.
adv=ADV-0001
# status.py STATE ADV FILE: POSTs one status message per "UID TOKEN" line of FILE to the site,
# with that client's token, 16 at a time; prints the Unix time when the last was accepted.
cat > "$tmp/status.py" <<'EOF'
import concurrent.futures, json, sys, time, urllib.request
url, state, adv, path = sys.argv[1:5]
lines = [l.split() for l in open(path) if l.strip()]
def post(line):
    uid, token = line[0], line[1]
    message = {"seq": 1, "advertisement": adv, "state": state, "at": int(time.time())}
    if state == "failed":
        message.update({"exit_code": 3, "log_tail": "bench: simulated failure"})
    request = urllib.request.Request(url + "/api/v1/status", method="POST",
        data=json.dumps({"messages": [message]}).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        if answer.status != 200: raise SystemExit(f"{uid}: HTTP {answer.status}")
    return time.time()
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    print("%.6f" % max(pool.map(post, lines)))
EOF
# The site's and the DP's progress, every SAMPLE s: "UNIX PHASE WAVE SITE DP", per wave (1-based
# from rollout_client, 0 before the rollout places the client): how many clients' policies the
# site has signed again, and the DP holds, in a version above the one at the start of PHASE
# (PHASE.base, written by phase_begin before the phase's action; version numbers, not the JSON,
# so that sampling costs the servers' machine little).
cat > "$tmp/monitor.py" <<'EOF'
import sqlite3, sys, time, os
site, dp, tmp, out, stop, every = sys.argv[1:7]
db = sqlite3.connect("file:" + site + "?mode=ro", uri=True, timeout=10)
db.execute("ATTACH ? AS dp", ("file:" + dp + "?mode=ro",))
query = """SELECT c.uid, coalesce((SELECT rc.wave + 1 FROM rollout_client rc WHERE rc.client_id = c.id
      AND rc.rollout_id = (SELECT max(id) FROM rollout)), 0), p.version, coalesce(d.version, 0)
  FROM client c JOIN client_policy p ON p.client_id = c.id LEFT JOIN dp.policy d ON d.client_id = c.uid"""
phase, base = None, {}
with open(out, "a") as f:
    while not os.path.exists(stop):
        t = time.time()
        try:
            name = open(os.path.join(tmp, "phase")).read().strip()
        except OSError:
            name = None
        if name and name != phase:
            phase = name
            base = dict(l.split() for l in open(os.path.join(tmp, name + ".base")))
        if phase:
            try:
                counts = {}
                for uid, wave, site_v, dp_v in db.execute(query):
                    b = int(base.get(uid, 0))
                    c = counts.setdefault(wave, [0, 0])
                    c[0] += site_v > b
                    c[1] += dp_v > b
                for wave, (s_n, d_n) in sorted(counts.items()):
                    f.write("%.3f %s %d %d %d\n" % (t, phase, wave, s_n, d_n))
                f.flush()
            except sqlite3.OperationalError as e:
                print("monitor:", e, file=sys.stderr)
        time.sleep(max(0.0, float(every) - (time.time() - t)))
EOF
# Per phase: CPU ticks and VmHWM of the site and the DP.
phase_begin() {  # NAME
    sql -separator ' ' "SELECT c.uid, p.version FROM client c JOIN client_policy p ON p.client_id = c.id" > "$tmp/$1.base"
    echo "$1" > "$tmp/phase.new" && mv "$tmp/phase.new" "$tmp/phase"
    sleep 1  # the monitor's first sample of the phase: nothing changed yet
    reset_peak "$site_pid"; reset_peak "$dp_pid"
    echo "$(now) $(cpu_ticks "$site_pid") $(cpu_ticks "$dp_pid")" > "$tmp/$1.begin"
}
phase_end() {  # NAME
    local t0 s0 d0 t1
    read -r t0 s0 d0 < "$tmp/$1.begin"
    t1=$(now)
    awk -v t="$(elapsed "$t0" "$t1")" -v s="$(( $(cpu_ticks "$site_pid") - s0 ))" -v d="$(( $(cpu_ticks "$dp_pid") - d0 ))" \
        -v hz="$hz" -v sh="$(kib_of "$site_pid" VmHWM)" -v dh="$(kib_of "$dp_pid" VmHWM)" \
        'BEGIN { printf "%.1f %.1f %.1f %.0f %.0f\n", t, 100 * s / hz / t, 100 * d / hz / t, sh / 1024, dh / 1024 }' \
        > "$tmp/$1.resources"
}
# seen INDEX UIDS_FILE: how many of those clients poll_load saw with match INDEX.
seen() { awk -v i="$1" 'NR == FNR { want[$1] = 1; next } $2 == i && ($1 in want) { n++ } END { print n + 0 }' "$2" "$tmp/seen.txt"; }
wait_seen() {  # INDEX UIDS_FILE SECONDS
    local n total i
    total=$(wc -l < "$2")
    for ((i = 0; i < $3 * 2; i++)); do
        n=$(seen "$1" "$2")
        (( n >= total )) && return 0
        sleep 0.5
    done
    log "warning: only $n of $total clients saw it after $3 s"
    return 1
}
wave_uids() {  # WAVE (1-based) FILE
    sql "SELECT c.uid FROM rollout_client rc JOIN client c ON c.id = rc.client_id
         WHERE rc.rollout_id = (SELECT max(id) FROM rollout) AND rc.wave = $(( $1 - 1 )) ORDER BY c.uid" > "$2"
}
with_tokens() { awk 'NR == FNR { want[$1] = 1; next } ($1 in want) { print $1, $2 }' "$1" "$tmp/tokens.txt"; }
# timeline NAME INDEX UIDS_FILE FROM WAVES: when the site had signed every affected policy again
# and when the DP held them all (the first monitor sample of phase NAME with all of WAVES'
# clients), and the clients' own times (seen.txt, match INDEX), in seconds after FROM: NAME.servers
# "site dp", NAME.clients "median last count".
timeline() {
    local name=$1 index=$2 uids=$3 from=$4 waves=$5 total
    total=$(wc -l < "$uids")
    awk -v name="$name" -v from="$from" -v waves="$waves" -v total="$total" '
        BEGIN { n = split(waves, w, ","); for (k = 1; k <= n; k++) want[w[k]] = 1 }
        $2 == name && ($3 in want) { s[$1] += $4; d[$1] += $5; if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } }
        END {
            site = "never"; dp = "never"
            for (k = 1; k <= m; k++) {
                t = order[k]
                if (site == "never" && s[t] >= total) site = sprintf("%.1f", t - from)
                if (dp == "never" && d[t] >= total) dp = sprintf("%.1f", t - from)
            }
            print site, dp
        }' "$tmp/monitor.txt" > "$tmp/$name.servers"
    awk -v i="$index" -v from="$from" 'NR == FNR { want[$1] = 1; next } $2 == i && ($1 in want) { print $3 - from }' \
        "$uids" "$tmp/seen.txt" | sort -n > "$tmp/$name.delays"
    awk '{ d[NR] = $1 } END {
            if (NR == 0) { print "none none 0"; exit }
            printf "%.1f %.1f %d\n", d[int((NR + 1) / 2)], d[NR], NR }' "$tmp/$name.delays" > "$tmp/$name.clients"
}

# --- 3. the polls and the rollout -------------------------------------------------------------
rate=$(awk -v n="$clients" -v p="$period" 'BEGIN { printf "%.1f", n / p }')
log "3. $clients clients poll the DP once per $period s ($rate/s); $WARMUP s later the rollout"
: > "$tmp/seen.txt"
"$poll_load" --port "$dp_port" --clients "$tmp/polls.txt" --period "$period" --duration 3600 \
    --timeout "$POLL_TIMEOUT" --learn-etags --match "$adv" --match halted --seen-out "$tmp/seen.txt" \
    --stop-file "$tmp/stop" > "$tmp/polls.out" 2> "$tmp/polls.windows" &
poll_pid=$!
pids+=("$poll_pid")
python3 "$tmp/monitor.py" "$site_db" "$dp_db" "$tmp" "$tmp/monitor.txt" "$tmp/stop" "$SAMPLE" 2>> "$tmp/monitor.err" &
pids+=("$!")
sleep "$WARMUP"

# A1. The rollout; wave 1 (1%) starts within a second.
phase_begin a1
a1_action=$(now)
rollout_json=$(as "$rita" rollout create hello@1.0 --collection all --waves 1%,100% --success 95 \
    --error "$error" --json)
rollout=$(echo "$rollout_json" | json_field id)
[[ "$(echo "$rollout_json" | json_field advertisement)" == "$adv" ]] || die "the rollout's advertisement is not $adv: $rollout_json"
for ((i = 0; i < 100; i++)); do
    started1=$(sql "SELECT started_at FROM rollout_wave WHERE rollout_id = (SELECT max(id) FROM rollout) AND number = 0")
    [[ -n "$started1" ]] && break
    sleep 0.1
done
[[ -n "$started1" ]] || die "wave 1 of $rollout did not start"
wave_uids 1 "$tmp/wave1.uids"
wave_uids 2 "$tmp/wave2.uids"
n1=$(wc -l < "$tmp/wave1.uids")
n2=$(wc -l < "$tmp/wave2.uids")
log "A1. $rollout ($adv): wave 1 ($n1 clients) started at $started1; waiting for its clients"
wait_seen 0 "$tmp/wave1.uids" $(( 2 * period + 120 )) || true
phase_end a1

# A2. Wave 1 installed: wave 2 starts by itself.
sleep 2
phase_begin a2
with_tokens "$tmp/wave1.uids" > "$tmp/wave1.tokens"
a2_action_start=$(now)
a2_action=$(python3 "$tmp/status.py" "$site_url" installed "$adv" "$tmp/wave1.tokens") || die "status installed failed"
for ((i = 0; i < 300; i++)); do
    started2=$(sql "SELECT started_at FROM rollout_wave WHERE rollout_id = (SELECT max(id) FROM rollout) AND number = 1")
    [[ -n "$started2" ]] && break
    sleep 0.1
done
[[ -n "$started2" ]] || die "wave 2 did not start after wave 1 installed: $(as "$rita" rollout show "$rollout")"
log "A2. wave 1 reported installed ($(elapsed "$a2_action_start" "$a2_action") s for $n1 reports); wave 2 ($n2 clients) started at $started2"
wait_seen 0 "$tmp/wave2.uids" $(( 2 * period + 180 )) || true
phase_end a2

# B. Just over the error threshold of wave 2 fails: the rollout halts.
sleep 2
phase_begin b
failing=$(( error * n2 / 100 + 1 ))
head -n "$failing" "$tmp/wave2.uids" > "$tmp/failing.uids"
with_tokens "$tmp/failing.uids" > "$tmp/failing.tokens"
cat "$tmp/wave1.uids" "$tmp/wave2.uids" > "$tmp/all.uids"
b_action_start=$(now)
b_action=$(python3 "$tmp/status.py" "$site_url" failed "$adv" "$tmp/failing.tokens") || die "status failed failed"
for ((i = 0; i < 300; i++)); do
    halted_at=$(sql "SELECT at FROM changelog WHERE action = 'rollout.state' AND after LIKE '%halted%' ORDER BY id LIMIT 1")
    [[ -n "$halted_at" ]] && break
    sleep 0.1
done
[[ -n "$halted_at" ]] || die "$rollout did not halt: $(as "$rita" rollout show "$rollout")"
halt_reason=$(as "$rita" rollout show "$rollout" --json | json_field reason)
log "B. $failing of $n2 reported failed ($(elapsed "$b_action_start" "$b_action") s); halted at $halted_at: $halt_reason"
wait_seen 1 "$tmp/all.uids" $(( 2 * period + 180 )) || true
phase_end b

touch "$tmp/stop"
wait "$poll_pid" || die "poll_load failed: $(cat "$tmp/polls.windows")"
sleep 1

# --- report -----------------------------------------------------------------------------------
timeline a1 0 "$tmp/wave1.uids" "$a1_action" 1
timeline a2 0 "$tmp/wave2.uids" "$a2_action" 2
timeline b 1 "$tmp/all.uids" "$b_action" 1,2
value() { sed -n "s/^$1=//p" "$tmp/polls.out"; }
field() { cut -d' ' -f"$2" "$tmp/$1"; }
plus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.-]+$/) printf "%.1f", a + b; else print a }'; }
# The site's record is in whole seconds: "from the record" = from our action + (action - record).
offset() { awk -v a="$1" -v r="$2" 'BEGIN { printf "%.1f", a - r }'; }
a1_off=$(offset "$a1_action" "$started1")
a2_off=$(offset "$a2_action" "$started2")
b_off=$(offset "$b_action" "$halted_at")
cpu_s() { awk -v t="$(field "$1.resources" 1)" -v p="$(field "$1.resources" "$2")" 'BEGIN { printf "%.1f", t * p / 100 }'; }
row() {  # LABEL PHASE OFFSET
    local p=$2 o=$3
    echo "| $1 | $(field "$p.servers" 1) s | $(field "$p.servers" 2) s | $(field "$p.clients" 1) s | **$(field "$p.clients" 2) s** ($(field "$p.clients" 3) clients) | $(plus "$(field "$p.clients" 2)" "$o") s | $(field "$p.resources" 2)% ($(cpu_s "$p" 2) CPU s) / $(field "$p.resources" 4) MiB | $(field "$p.resources" 3)% ($(cpu_s "$p" 3) CPU s) / $(field "$p.resources" 5) MiB |"
}
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo unknown)
dirty_tree=$(git -C "$repo" diff --quiet HEAD -- server core include client 2> /dev/null || echo " + uncommitted product changes")
report=$(cat <<EOF
### Results: ${clients} clients, one poll each per ${period} s, DP sync interval ${sync_interval} s

$(date -u +%Y-%m-%d). Commit ${commit}${dirty_tree}. Machine: $(nproc) CPUs (${cpu_model}), ${mem} RAM, shared;
the site, the DP, poll_load and the scripts share the CPUs. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg).
Command: \`tests/bench/bench_rollout.sh --clients $clients --period $period --sync-interval $sync_interval --error $error\`

Rollout ${rollout} (${adv}): \`ferryctl rollout create hello@1.0 --collection all --waves 1%,100% --success 95 --error ${error}\`;
wave 1 ${n1} clients, wave 2 ${n2}. Polls: ${rate}/s open loop, a connection per poll, keeping each 200's ETag.
Times in seconds after the action (A1: \`rollout create\` issued; A2: the last of wave 1's
${n1} \`installed\` reports accepted; B: the last of ${failing} \`failed\` reports of wave 2 accepted, which
crosses the ${error}% threshold); "site" and "DP" are the first ${SAMPLE}-s sample in which every affected
policy was signed again / held by the DP (policy versions); "from the site's record" adds the gap between the action and the site's
record of it (the wave's \`started_at\`: ${started1}, ${started2}; the halt's \`rollout.state\` change-log
entry: ${halted_at}; whole seconds, so ±1 s).

| phase | site signed all | DP held all | clients: median | clients: last | last, from the site's record | site CPU (% of a core) / peak RSS | DP CPU / peak RSS |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
$(row "A1. wave 1 (1%) starts: the advertisement in its ${n1} clients' policies" a1 "$a1_off")
$(row "A2. wave 1 installed → wave 2 (99%) starts: the advertisement in its ${n2} clients' policies" a2 "$a2_off")
$(row "B. ${failing} of wave 2 failed → halt: \`\"rollout_state\": \"halted\"\` in all ${clients} clients' policies" b "$b_off")

Phase lengths (CPU averaged over them): A1 $(field a1.resources 1) s, A2 $(field a2.resources 1) s, B $(field b.resources 1) s. Reporting took $(elapsed "$a2_action_start" "$a2_action") s for
${n1} \`installed\` and $(elapsed "$b_action_start" "$b_action") s for ${failing} \`failed\` (16 at a time, to the site). Halt: "${halt_reason}".
Polls during the whole run: $(value scheduled) due, $(value answered) answered ($(value status_200) × 200, $(value status_304) × 304),
$(value errors) failed ($(value error_kinds)); latency from due time p50 / p99 / max $(value latency_ms_p50) / $(value latency_ms_p99) / $(value latency_ms_max) ms.
ferryd init --role dp retried: ${dp_init_retries} time(s). The DP logged $(grep -c '"level": "error"' "$tmp/dp.err" || true) error(s) and $(grep -c '"level": "warning"' "$tmp/dp.err" || true) warning(s); the site $(grep -c '"level": "error"' "$tmp/site.err" || true) error(s).
EOF
)
echo
echo "$report"
[[ -z "$out_file" ]] || echo "$report" > "$out_file"
