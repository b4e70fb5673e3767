#!/usr/bin/env bash
# Ferry's main job, end to end, on the embedded defaults and on loopback only (127.0.0.1,
# ephemeral ports): the sample packages built, signed and verified; a site, a distribution point
# and workstation agents (real ferry-agent daemons, each with its own state and install root);
# changes approved by the CAB; releases through building, testing, the pilot and the readiness
# review, rolled out in waves; a broken package halting its own rollout; a release backed out;
# the change log. It checks every outcome and exits 0 only when each came out as it must.
#
#   ./scripts/run.sh          install what is missing, build in build/, run the demo
#   ./scripts/run.sh --stay   … and keep the site, the DP and the agents running until Ctrl-C
#
# Environment:
#   FERRY_DEMO_BUILD=DIR   use the binaries already built in DIR and skip setup.sh (the e2e test)
#   FERRY_DEMO_OUT=DIR     where everything goes (default out/demo); replaced on each run, but
#                          only if it is empty or a previous demo's output
#   FERRY_DEMO_AGENTS=N    how many workstations (default 6; 4 to 20)
#
# Everything it starts is stopped when it ends, on Ctrl-C and on any failure; the data stays in
# the output directory for inspection.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

stay=false
for arg in "$@"; do
  case $arg in
    --stay) stay=true ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run.sh: unknown argument \"$arg\" (--stay, --help)" >&2; exit 2 ;;
  esac
done
count=${FERRY_DEMO_AGENTS:-6}
if ! [[ $count =~ ^[0-9]+$ ]] || ((count < 4 || count > 20)); then
  echo "run.sh: FERRY_DEMO_AGENTS must be a number from 4 to 20" >&2; exit 2
fi

if [ -n "${FERRY_DEMO_BUILD:-}" ]; then
  build=$(cd "$FERRY_DEMO_BUILD" && pwd)
else
  build=$repo/build
  "$repo/scripts/setup.sh" "$build"
fi
pack=$build/packager/ferry-pack
ferryd=$build/server/ferryd
ferryctl=$build/server/ferryctl
agent=$build/client/ferry-agent
for program in "$pack" "$ferryd" "$ferryctl" "$agent"; do
  [ -x "$program" ] || { echo "run.sh: $program is missing; build first (scripts/setup.sh)" >&2; exit 2; }
done
for tool in b2sum minisign cmp dd setsid readlink; do
  command -v "$tool" > /dev/null || { echo "run.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 2; }
done

# --- the output directory, and whatever a previous run left running in it -------------------
out=${FERRY_DEMO_OUT:-$repo/out/demo}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# The process groups a run started, from its pid file, if they still run from this directory.
stop_groups_of() {
  local file=$1/demo.pids pid name signal
  [ -f "$file" ] || return 0
  for signal in TERM KILL; do
    while read -r pid name; do
      grep -qsF "$1/" "/proc/$pid/cmdline" && kill "-$signal" -- "-$pid" 2> /dev/null || true
    done < "$file"
    [ $signal = TERM ] && sleep 1
  done
  return 0
}
if [ -e "$out" ]; then
  if [ -f "$out/.ferry-demo" ] || [ "$out" = "$repo/out/demo" ]; then
    stop_groups_of "$out"
    rm -rf "$out"
  elif [ -n "$(ls -A "$out")" ]; then
    echo "run.sh: $out is not empty and not a previous demo's output; not touching it" >&2; exit 2
  fi
fi
mkdir -p "$out/logs" "$out/agents"
touch "$out/.ferry-demo"
cd "$out"

# --- starting and stopping ----------------------------------------------------------------------
# Each daemon runs in its own session (its pid is its process group), listed in demo.pids.
# Whatever way this script ends, every group it started is sent SIGTERM, then SIGKILL after 5 s.
groups=()
waiting_for=  # a long foreground wait (rollout watch), run in the background to stay interruptible
start_daemon() {  # NAME LOG COMMAND…
  local name=$1 log=$2
  shift 2
  setsid "$@" < /dev/null > "$log" 2>&1 &
  groups+=("$!")
  echo "$! $name" >> "$out/demo.pids"
}
running() {  # PID: alive and not a zombie
  local stat
  stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
cleanup() {
  local rc=$? pid left
  # A second signal (a process group's TERM reaches this script and its children one after
  # another; an impatient Ctrl-C) must not cut the cleanup short and leave daemons running.
  trap '' INT TERM
  trap - EXIT
  # (set -e holds here too: a command that fails must not end the cleanup early)
  [ -z "$waiting_for" ] || kill "$waiting_for" 2> /dev/null || true
  if ((${#groups[@]})); then
    for pid in "${groups[@]}"; do kill -TERM -- "-$pid" 2> /dev/null || true; done
    for _ in $(seq 50); do
      left=0
      for pid in "${groups[@]}"; do running "$pid" && left=1; done
      ((left)) || break
      sleep 0.1
    done
    for pid in "${groups[@]}"; do kill -KILL -- "-$pid" 2> /dev/null || true; done
  fi
  [ -z "${watchdog:-}" ] || kill -KILL "$watchdog" 2> /dev/null || true
  wait 2> /dev/null || true
  if ((rc != 0)); then
    echo "run.sh: stopped (exit $rc); everything it started is stopped; data and logs: $out" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# If this script is killed outright (SIGKILL), a watchdog stops what it started.
(
  trap '' INT TERM HUP
  while kill -0 $$ 2> /dev/null; do sleep 1; done
  while read -r pid name; do kill -KILL -- "-$pid" 2> /dev/null; done < "$out/demo.pids"
) > /dev/null 2>&1 &
watchdog=$!
# COMMAND…: run it in the background and wait for it, so that a signal is handled at once.
interruptible() {
  local rc=0
  "$@" &
  waiting_for=$!
  wait "$waiting_for" || rc=$?
  waiting_for=
  return $rc
}

# --- output ---------------------------------------------------------------------------------------
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
chapter=0
step() { chapter=$((chapter + 1)); printf '\n%s==> %d. %s%s\n' "$bold" "$chapter" "$*" "$plain"; }
note() { printf '    %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
fail() { printf 'run.sh: FAILED: %s\n' "$*" >&2; exit 1; }
started=$SECONDS

step "packages: built, signed and verified (ferry-pack, b2sum, minisign)"
"$pack" keygen -o publisher > /dev/null
for name in hello-1.0 hello-1.1 broken-1.0; do
  id=$("$pack" build "$repo/samples/packages/$name" -o "$name.ferry" --key publisher.key 2> /dev/null)
  sum=$(b2sum -l 256 "$name.ferry" | cut -d' ' -f1)
  [ "$id" = "$sum" ] || fail "$name: object id $id but b2sum -l 256 says $sum"
  "$pack" verify "$name.ferry" --pub publisher.pub > /dev/null
  minisign -Vqm "$name.ferry" -p publisher.pub
  note "$name.ferry  $id  (= b2sum -l 256; signature good for ferry-pack verify and minisign -V)"
done
"$pack" build "$repo/samples/packages/hello-1.0" -o rebuilt.ferry > /dev/null 2>&1
cmp -s hello-1.0.ferry rebuilt.ferry || fail "a rebuild of hello-1.0 gave other bytes"
note "rebuilt hello-1.0: the same bytes (reproducible)"
cp hello-1.0.ferry tampered.ferry
cp hello-1.0.ferry.minisig tampered.ferry.minisig
printf '\x00' | dd of=tampered.ferry bs=1 seek=600 conv=notrunc status=none
if "$pack" verify tampered.ferry --pub publisher.pub > /dev/null 2> tampered.txt; then
  fail "a tampered package verified"
fi
note "one byte flipped: refused ($(sed -n 1p tampered.txt))"

step "a site and a distribution point, on loopback"
"$ferryd" init --role site --dir "$out/site" --listen 127.0.0.1:0 > site-init.txt
admin=$(tail -n 1 site-init.txt)
start_daemon site "$out/logs/site.log" "$ferryd" --config "$out/site/ferryd.ini"
# LOG PATTERN: the URL the daemon printed after PATTERN.
url_in() {
  local line
  for _ in $(seq 100); do
    line=$(grep -m 1 "$2" "$1" || true)
    [ -n "$line" ] && { echo "$line" | sed -n 's/.*listening on \(https\{0,1\}:\/\/[^ ]*\).*/\1/p'; return; }
    sleep 0.1
  done
  fail "no \"$2\" in $1"
}
site=$(url_in "$out/logs/site.log" "ferryd: listening on")
export FERRY_SERVER=$site
declare -A token=([admin]=$admin)
as() { local who=$1; shift; FERRY_TOKEN=${token[$who]} "$ferryctl" "$@"; }
shown() {  # ARGS…: as one would type them
  local arg line=
  for arg in "$@"; do
    if [[ $arg =~ ^[-A-Za-z0-9_@%.,:/=+]+$ ]]; then
      line+=" $arg"
    elif [[ $arg == *\'* ]]; then
      line+=" \"$arg\""
    else
      line+=" '$arg'"
    fi
  done
  echo "${line# }"
}
# WHO ARGS…: shows the command with who runs it, then runs it.
run_as() { local who=$1; shift; echo "$who\$ ferryctl $(shown "$@")"; as "$who" "$@"; }
# WHO ARGS…: the same, for a command that takes a while (rollout watch): interruptible.
watch_as() {
  local who=$1
  shift
  echo "$who\$ ferryctl $(shown "$@")"
  FERRY_TOKEN=${token[$who]} interruptible "$ferryctl" "$@"
}
# FILTER WHO ARGS…: the same, its output through FILTER (a shell command line).
piped() { local filter=$1 who=$2; shift 2; echo "$who\$ ferryctl $(shown "$@")"; as "$who" "$@" | eval "$filter"; }
json_field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" | sed -n 1p; }
for person in rita:release-manager carl:cab cleo:cab paula:packager vera:viewer; do
  token[${person%%:*}]=$(as admin user add "${person%%:*}" --role "${person#*:}" --json | json_field token)
done
note "site  $site  (data $out/site, log logs/site.log)"
note "people: rita (release-manager), carl and cleo (cab), paula (packager), vera (viewer)"
dp_token=$(as admin dp add edge --json | json_field token)
"$ferryd" init --role dp --dir "$out/dp" --parent "$site" --token "$dp_token" \
  --listen 127.0.0.1:0 > /dev/null
sed -i 's/^sync_interval *=.*/sync_interval = 1/' "$out/dp/ferryd.ini"  # demo pace: every second
start_daemon dp "$out/logs/dp.log" "$ferryd" --config "$out/dp/ferryd.ini"
dp=$(url_in "$out/logs/dp.log" "distribution point listening on")
note "DP    $dp  (\"edge\", data $out/dp, log logs/dp.log, replicating every second)"

step "the Definitive Software Library: the publisher trusted, the packages pushed"
run_as admin publisher add Samples --pub publisher.pub --packages hello,broken
for name in hello-1.0 hello-1.1 broken-1.0; do
  "$pack" push "$name.ferry" --server "$site" --token "${token[paula]}" > /dev/null
done
note "paula pushed hello-1.0, hello-1.1 and broken-1.0 (ferry-pack push)"
run_as vera package list

step "$count workstations: ferry-agent daemons enrol, report inventory, join collections"
secret=$(as admin secret create --name lab --json | json_field secret)
hosts=() ids=()
for i in $(seq "$count"); do
  host=$(printf 'ws-%02d' "$i")
  home=$out/agents/$host
  hosts+=("$host")
  enrolled=$("$agent" enroll --server "$site" --secret "$secret" --hostname "$host" \
    --state-dir "$home/state" --root "$home/root" 2>&1) || fail "$host did not enrol: $enrolled"
  ids+=("$(echo "$enrolled" | sed -n 's/^enrolled as \(cl_[0-9a-f]*\) .*/\1/p')")
  start_daemon "agent $host" "$out/logs/$host.log" \
    "$agent" run --interval 1 --state-dir "$home/state" --root "$home/root"
  note "$host  ${ids[-1]}  ferry-agent run --interval 1 --state-dir agents/$host/state --root agents/$host/root"
done
query='os.name == "Debian" and hostname matches "ws-*"'
wait_all() {  # SECONDS WHAT COMMAND…: until COMMAND succeeds
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what: not after $limit s"
    sleep 0.3
  done
}
wait_all 30 "every workstation's inventory" \
  eval 'as rita collection preview "$query" | grep "^$count client(s) match" > /dev/null'
piped 'cut -c 1-100' rita collection preview "$query"
run_as rita collection create pilots --pilot --members "${ids[0]}" --description "the pilot workstation"
piped 'sed -n 1p' rita collection create workstations --query "$query"
note "the query runs over the inventory the agents reported; membership follows each new report"
run_as admin dp assign edge --collection workstations
note "the workstations' signed policies now name the DP first; the site stays their fallback"

# The version of PACKAGE installed on HOST ("-" when none).
current() { readlink "$out/agents/$1/root/$2/current" 2> /dev/null || echo -; }
all_on() {  # PACKAGE VERSION: true when every workstation has it current
  local host
  for host in "${hosts[@]}"; do [ "$(current "$host" "$1")" = "$2" ] || return 1; done
}
declare -A before
fleet() {  # PACKAGE: each workstation's version (and the one in $before) and what the program says
  local host version says
  for host in "${hosts[@]}"; do
    version=$(current "$host" "$1")
    says=$([ "$version" = - ] || "$out/agents/$host/root/$1/current/files/bin/$1" 2>&1 || true)
    printf '    %s  %s%-4s %s\n' "$host" "${before[$host]:+${before[$host]} -> }" "$version" "$says"
  done
}
release_state() { as vera release show "$1" | awk 'NR == 1 {print $2}'; }
rollout_id() { grep -o 'RO-[0-9]*' "$1" | sed -n 1p; }
readiness_review() {  # REF: each of the 11 items signed go by its role, then ready
  local item
  for item in 1 2 3 4 5 8; do as rita release review "$1" $item --go > /dev/null; done
  for item in 6 11; do as cleo release review "$1" $item --go > /dev/null; done
  for item in 7 9 10; do as admin release review "$1" $item --go --note "checked" > /dev/null; done
}
# RFC-TITLE RISK RELEASE-TITLE PACKAGE: an RFC approved by the CAB, a release through
# building into testing; sets $ref.
change() {
  local title=$1 risk=$2 release=$3 package=$4 rfc
  as rita rfc create --title "$title" --risk "$risk" > rfc.txt
  rfc=$(awk 'NR == 1 {print $1}' rfc.txt)
  piped 'tail -n 1' carl rfc approve "$rfc" --reason "reviewed at the CAB"
  if [ "$risk" = high ]; then piped 'tail -n 1' cleo rfc approve "$rfc"; fi
  as rita release create --title "$release" --rfc "$rfc" --package "$package" --priority high \
    > release.txt
  ref=$(awk 'NR == 1 {print $1}' release.txt)
  as rita release transition "$ref" building > /dev/null
  as rita release transition "$ref" testing > /dev/null
  note "$rfc \"$title\" ($risk risk) approved; $ref \"$release\" carries $package: building, then testing"
}

step "hello 1.0: an RFC through the CAB, a release through building and testing"
run_as rita rfc create --title "Give every workstation the hello greeting" --risk high \
  --business-need "users asked for a friendly greeting"
piped 'tail -n 1' carl rfc approve RFC-0001 --reason "tested in the lab"
piped 'tail -n 1' cleo rfc approve RFC-0001
piped 'tee release.txt | sed -n 1,2p' rita release create --title "hello 1.0" --rfc RFC-0001 \
  --package hello@1.0 --priority high
rel1=$(awk 'NR == 1 {print $1}' release.txt)
piped 'sed -n 1p' rita release transition "$rel1" building
piped 'sed -n 1p' rita release transition "$rel1" testing

step "hello 1.0 in waves: the pilot while the release is testing"
piped 'tee rollout.txt' rita rollout create hello@1.0 --collection workstations --waves pilots,50% \
  --success 100 --error 10 --mandatory
ro1=$(rollout_id rollout.txt)
wait_all 60 "$ro1's pilot wave" eval 'as vera rollout show "$ro1" | grep "^now: wave 2 (production) waits" > /dev/null'
run_as rita rollout show "$ro1"
[ "$(current ws-01 hello)" = 1.0 ] || fail "the pilot ws-01 does not have hello 1.0"
for host in "${hosts[@]:1}"; do [ "$(current "$host" hello)" = - ] || fail "$host got hello before the readiness review"; done
note "the pilot ws-01 runs hello 1.0; production waits for the readiness review (the gate)"

step "the release readiness review: 11 items, each signed go by its role"
readiness_review "$rel1"
note "items 1-5 and 8 by rita (release manager), 6 and 11 by cleo (CAB), 7, 9, 10 by admin"
piped "sed -n '1p;/readiness review/,\$p'" rita release transition "$rel1" ready --reason "go"

step "hello 1.0: the production waves follow by themselves (ferryctl rollout watch)"
watch_as rita rollout watch "$ro1" --interval 1 --timeout 90 || fail "$ro1 did not complete"
run_as rita rollout show "$ro1"
all_on hello 1.0 || fail "not every workstation has hello 1.0: $(fleet hello)"
fleet hello
[ "$(release_state "$rel1")" = deployed ] || fail "$rel1 is $(release_state "$rel1"), not deployed"
ok "hello 1.0 installed on all $count workstations after its waves ($ro1 completed, $rel1 deployed)"

step "hello 1.1: the next change, its release reviewed, the same waves"
change "Roll out hello 1.1 and its new greeting" medium "hello 1.1" hello@1.1
rel2=$ref
readiness_review "$rel2"
piped 'sed -n 1p' rita release transition "$rel2" ready --reason "go"
piped 'tee rollout.txt | sed -n 1p' rita rollout create hello@1.1 --collection workstations \
  --waves pilots,50% --success 100 --mandatory
ro2=$(rollout_id rollout.txt)
watch_as rita rollout watch "$ro2" --interval 1 --timeout 90 || fail "$ro2 did not complete"
all_on hello 1.1 || fail "not every workstation has hello 1.1: $(fleet hello)"
fleet hello
[ "$(release_state "$rel2")" = deployed ] || fail "$rel2 is $(release_state "$rel2"), not deployed"
ok "hello 1.1 installed on all $count workstations after its waves ($ro2 completed, $rel2 deployed)"

step "broken 1.0: its health check fails on the pilot, and its rollout halts by itself"
change "Ship the broken tool" low "broken 1.0" broken@1.0
rel3=$ref
piped 'tee rollout.txt | sed -n 1,2p' rita rollout create broken@1.0 --collection workstations \
  --waves pilots,50% --error 10 --mandatory
ro3=$(rollout_id rollout.txt)
adv3=$(grep -o 'ADV-[0-9]*' rollout.txt | sed -n 1p)
if watch_as rita rollout watch "$ro3" --interval 1 --timeout 60; then
  fail "$ro3 completed; broken's health check should have failed"
fi
run_as rita rollout show "$ro3"
as vera rollout show "$ro3" | sed -n 1p | grep " halted " > /dev/null || fail "$ro3 is not halted"
reason=$(as vera rollout show "$ro3" | sed -n 's/^now: //p')
note "what the pilot's agent did (ferry-agent list on ws-01, and its log of broken's scripts):"
echo "ws-01# ferry-agent list --state-dir agents/ws-01/state --root agents/ws-01/root"
"$agent" list --state-dir "$out/agents/ws-01/state" --root "$out/agents/ws-01/root"
echo "ws-01# cat agents/ws-01/state/logs/broken.log"
cat "$out/agents/ws-01/state/logs/broken.log"
for host in "${hosts[@]}"; do
  [ "$(current "$host" broken)" = - ] || fail "$host has broken installed"
done
ok "broken's rollout $ro3 halted by itself: $reason"
ok "the pilot's agent rolled broken back; no workstation has it, the production waves never started"
piped 'sed -n 1p' rita release transition "$rel3" cancelled \
  --reason "the pilot failed its health check"

step "backing out hello 1.1: one command returns every workstation to its previous version"
for host in "${hosts[@]}"; do before[$host]=$(current "$host" hello); done
piped 'tee backout.txt' rita release backout "$rel2" --reason "1.1 loses the users' saved greetings"
ro4=$(rollout_id backout.txt)
watch_as rita rollout watch "$ro4" --interval 1 --timeout 90 || fail "$ro4 did not complete"
run_as rita rollout show "$ro4"
all_on hello 1.0 || fail "not every workstation is back on hello 1.0: $(fleet hello)"
fleet hello
[ "$(release_state "$rel2")" = backed-out ] || fail "$rel2 is $(release_state "$rel2"), not backed-out"
ok "$rel2 backed out: all $count workstations returned from hello 1.1 to their previous version, 1.0 ($ro4 completed)"

query='software contains "ferry:hello" version == "1.0"'
wait_all 30 "the inventory of every workstation naming hello 1.0" \
  eval 'as vera collection preview "$query" | grep "^$count client(s) match" > /dev/null'
piped 'cut -c 1-100' vera collection preview "$query"
note "the CMDB agrees: every agent reported the change in its inventory"

step "the signed policy of ws-01, verified with stock minisign and the site key"
as admin client policy "${ids[0]}" --out policy.json > /dev/null
minisign -Vm policy.json -p "$out/site/keys/site.pub"

step "where things stand: releases, rollouts, the distribution point, the change log"
run_as vera release list
run_as vera rollout list
run_as admin dp show edge
as vera changelog > changelog.txt
echo "vera\$ ferryctl changelog   (all $(($(wc -l < changelog.txt) - 1)) entries are in changelog.txt;" \
  "here the life of hello 1.1, $rel2, and the halt of $ro3)"
# Columns are separated by two spaces or more; narrower ones fit a terminal.
grep -E "RFC-0002|$rel2|$ro2 |$ro4 |ADV-0002|rollout\.state +$ro3 " changelog.txt \
  | grep -v "release.review" \
  | awk -F '  +' '{printf "%s  %-6s %-19s %-15s %s\n", substr($1, 12, 8), $2, $3, $4, $5}'
note "(and 11 release.review entries, one per readiness item, by rita, cleo and admin)"

step "done in $((SECONDS - started)) s: what it did, and where to look"
cat << EOF
  Built, signed and verified 3 packages. Started a site, a distribution point and $count agent
  daemons on 127.0.0.1. Took hello 1.0 ($rel1) and hello 1.1 ($rel2) through the CAB,
  the readiness review and their waves to every workstation. Watched broken ($rel3) halt
  its own rollout on the pilot. Backed $rel2 out: every workstation is back on hello 1.0.
  The change log recorded every step.

  Where to look, in $out:
    site/                the site: ferry.db (the CMDB and the change log), objects/ (the DSL),
                         keys/ (site.pub pins the trust), ferryd.ini
    dp/                  the distribution point "edge": dp.db, objects/, ferryd.ini
    agents/ws-NN/state/  each agent: agent.db, cache/, logs/NAME.log (what package scripts printed)
    agents/ws-NN/root/   what each workstation has installed: hello/1.0, hello/1.1, hello/current
    logs/                site.log, dp.log, ws-NN.log: the daemons' logs
    changelog.txt, policy.json(.minisig), the packages (*.ferry, *.minisig), publisher.pub/.key

  URLs (they answer while the demo runs: ./scripts/run.sh --stay keeps everything up until
  Ctrl-C; afterwards ferryd --config $out/site/ferryd.ini serves the site again, on a new
  port it prints):
    site     $site   ($site/healthz, $site/metrics)
    console  $site/console/   (sign in with the admin token: $admin)
    DP       $dp

  Try, as admin:
    export PATH=$build/server:$build/client:\$PATH
    export FERRY_SERVER=$site FERRY_TOKEN=$admin
    ferryctl rollout list
    ferryctl rollout show $ro3
    ferryctl advertisement status $adv3
    ferryctl release show $rel2
    ferryctl client list
    ferryctl collection preview 'software contains "ferry:hello"'
    ferryctl changelog --since $(date -u +%Y-%m-%d)
    ferry-agent list --state-dir $out/agents/ws-01/state --root $out/agents/ws-01/root
EOF
echo "demo complete"
if $stay; then
  trap "exit 0" INT
  printf '\nThe site, the DP and the agents keep running; Ctrl-C stops them.\n'
  printf 'Open the web console at %s/console/ and sign in with the admin token:\n  %s\n' "$site" "$admin"
  interruptible sleep infinity
else
  printf '\nTo see all this in the web console: ./scripts/run.sh --stay keeps the site up and prints\n'
  printf 'where to open it (or: %s --config %s/site/ferryd.ini).\n' "$ferryd" "$out"
fi
