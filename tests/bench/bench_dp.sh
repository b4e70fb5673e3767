#!/usr/bin/env bash
# Benchmark of a distribution point serving objects, side by side with nginx on the same machine
# in the same run (issue 5):
#   a. throttle accuracy: one download under a 10 MiB/s limit for ~30 s (ferryd dp:
#      serve_connection_limit; nginx: limit_rate 10m), and four concurrent downloads sharing a
#      20 MiB/s limit (ferryd dp: serve_limit; nginx: limit_rate 5m per connection, nginx has
#      no shared limit), each against its target;
#   b. unthrottled: a 1 GiB download with curl from the DP and from nginx;
#   c. the DP's RSS (VmHWM) while serving 64 concurrent downloads.
# Prints a Markdown table for docs/benchmarks.md. Needs curl and nginx (apt-get install -y curl
# nginx-light) and a build (scripts/setup.sh). About 3 minutes and 3 GiB in $TMPDIR.
#
#   tests/bench/bench_dp.sh [--build DIR] [--seconds N]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="$repo/build"
seconds=30
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        *) echo "usage: $0 [--build DIR] [--seconds N]" >&2; exit 2 ;;
    esac
done
for tool in curl nginx; do
    command -v "$tool" > /dev/null || [[ -x /usr/sbin/$tool ]] ||
        { echo "bench_dp: $tool is missing (apt-get install -y curl nginx-light)" >&2; exit 2; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
ferryd="$build/server/ferryd"
ferryctl="$build/server/ferryctl"
pack="$build/packager/ferry-pack"
agent="$build/client/ferry-agent"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-dp.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
log() { printf '%s bench_dp: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The package: incompressible bytes, so the object is as large as its payload.
make_package() {  # NAME SIZE_MIB
    mkdir -p "$tmp/$1/files"
    printf '{"name": "%s", "version": "1.0", "publisher": "Bench"}\n' "$1" > "$tmp/$1/ferry.json"
    head -c "$(( $2 << 20 ))" /dev/urandom > "$tmp/$1/files/blob"
    "$pack" build "$tmp/$1" -o "$tmp/$1.ferry" --key "$tmp/pub.key" > /dev/null
    rm -rf "$tmp/$1"
}

log "packages (300 MiB and 1 GiB of random bytes)"
"$pack" keygen -o "$tmp/pub" > /dev/null
make_package medium 300
make_package large 1024

log "a site, a DP, one enrolled client"
site_port=$(free_port)
"$ferryd" init --role site --dir "$tmp/site" --listen "127.0.0.1:$site_port" > "$tmp/init.txt"
admin=$(tail -n 1 "$tmp/init.txt")
"$ferryd" --config "$tmp/site/ferryd.ini" > "$tmp/site.out" 2> "$tmp/site.err" &
pids+=($!)
sleep 1
export FERRY_SERVER="http://127.0.0.1:$site_port" FERRY_TOKEN="$admin"
"$ferryctl" publisher add Bench --pub "$tmp/pub.pub" --packages '*' > /dev/null
for name in medium large; do "$pack" push "$tmp/$name.ferry" > /dev/null; done
dp_token=$("$ferryctl" dp add edge --json | sed -n 's/.*"token": "\([^"]*\)".*/\1/p')
"$ferryd" init --role dp --dir "$tmp/dp" --parent "$FERRY_SERVER" --token "$dp_token" \
    --listen 127.0.0.1:0 > /dev/null
secret=$("$ferryctl" secret create --json | sed -n 's/.*"secret": "\([^"]*\)".*/\1/p')
"$agent" enroll --server "$FERRY_SERVER" --secret "$secret" --state-dir "$tmp/agent" \
    --root "$tmp/root" > /dev/null
client=$("$agent" status --state-dir "$tmp/agent" --root "$tmp/root" | sed -n 's/^client *\(cl_[0-9a-f]*\) .*/\1/p')
token=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select token from enrolment').fetchone()[0])" "$tmp/agent/agent.db")
"$ferryctl" collection create pilot --pilot --members "$client" > /dev/null
"$ferryctl" rfc create --title bench --need 1 > /dev/null
cab=$("$ferryctl" user add cab1 --role cab --json | sed -n 's/.*"token": "\([^"]*\)".*/\1/p')
FERRY_TOKEN=$cab "$ferryctl" rfc approve RFC-0001 > /dev/null
"$ferryctl" release create --title bench --rfc RFC-0001 --package medium@1.0,large@1.0 > /dev/null
ref=$("$ferryctl" release list --json | sed -n 's/.*"reference": "\([^"]*\)".*/\1/p' | head -n 1)
"$ferryctl" release transition "$ref" building > /dev/null
"$ferryctl" release transition "$ref" testing > /dev/null
"$ferryctl" dp assign edge --collection pilot > /dev/null

start_dp() {  # SERVE_LIMIT CONNECTION_LIMIT
    sed -i "s|^serve_limit = .*|serve_limit = $1|; s|^serve_connection_limit = .*|serve_connection_limit = $2|" "$tmp/dp/ferryd.ini"
    "$ferryd" --config "$tmp/dp/ferryd.ini" > "$tmp/dp.out" 2>> "$tmp/dp.err" &
    dp_pid=$!
    pids+=($dp_pid)
    for _ in $(seq 1 100); do grep -q "listening on" "$tmp/dp.out" 2> /dev/null && break; sleep 0.1; done
    dp_url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$tmp/dp.out")
}
stop_dp() { kill "$dp_pid"; wait "$dp_pid" 2> /dev/null || true; }

start_dp "" ""
"$ferryctl" advertise medium@1.0 --collection pilot > /dev/null
"$ferryctl" advertise large@1.0 --collection pilot > /dev/null
medium=$(b2sum -l 256 "$tmp/medium.ferry" | cut -d' ' -f1)
large=$(b2sum -l 256 "$tmp/large.ferry" | cut -d' ' -f1)
log "waiting for the DP to replicate both objects"
for _ in $(seq 1 600); do
    [[ -f "$tmp/dp/objects/${large:0:2}/$large" && -f "$tmp/dp/objects/${medium:0:2}/$medium" ]] && break
    sleep 0.2
done
[[ -f "$tmp/dp/objects/${large:0:2}/$large" ]] || { log "the DP did not replicate"; exit 1; }

# nginx serves the same files.
mkdir -p "$tmp/www" "$tmp/nginx"
chmod 711 "$tmp"; chmod 755 "$tmp/www"
cp "$tmp/medium.ferry" "$tmp/www/medium"; cp "$tmp/large.ferry" "$tmp/www/large"
chmod 644 "$tmp/www/"*
nginx_port=$(free_port)
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/www;
        location /limited10/ { alias $tmp/www/; limit_rate 10m; }
        location /limited5/ { alias $tmp/www/; limit_rate 5m; }
    }
}
EOF
"$nginx_bin" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
sleep 0.5
nginx="http://127.0.0.1:$nginx_port"
auth=(-H "Authorization: Bearer $token")

speed() { curl -sS -o /dev/null -w '%{speed_download}' "$@"; }  # bytes/s
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
err() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%+.2f%%", (b / 1048576 - t) / t * 100 }'; }
bytes=$(( seconds * 10 << 20 ))  # what 10 MiB/s moves in the run

log "a. one download at 10 MiB/s for ${seconds} s"
stop_dp; start_dp "" "10MiB/s"
dp_one=$(speed "${auth[@]}" -r "0-$(( bytes - 1 ))" "$dp_url/api/v1/objects/$medium")
ng_one=$(speed -r "0-$(( bytes - 1 ))" "$nginx/limited10/medium")

log "a. four downloads sharing 20 MiB/s"
stop_dp; start_dp "20MiB/s" ""
quarter=$(( seconds * 5 << 20 ))
for i in 1 2 3 4; do speed "${auth[@]}" -r "0-$(( quarter - 1 ))" "$dp_url/api/v1/objects/$medium" > "$tmp/dp4.$i" & done
wait_jobs() { for job in $(jobs -p); do case " ${pids[*]} " in *" $job "*) ;; *) wait "$job" ;; esac; done; }
wait_jobs
for i in 1 2 3 4; do speed -r "0-$(( quarter - 1 ))" "$nginx/limited5/medium" > "$tmp/ng4.$i" & done
wait_jobs

log "b. 1 GiB unthrottled"
stop_dp; start_dp "" ""
dp_big=$(speed "${auth[@]}" "$dp_url/api/v1/objects/$large")
ng_big=$(speed "$nginx/large")

log "c. 64 concurrent downloads, DP RSS"
for i in $(seq 1 64); do curl -sS -o /dev/null "${auth[@]}" -r 0-104857599 "$dp_url/api/v1/objects/$large" & done
peak=0
for _ in $(seq 1 100); do
    rss=$(awk '/VmHWM/ { print $2 }' "/proc/$dp_pid/status" 2> /dev/null || echo 0)
    (( rss > peak )) && peak=$rss
    [[ $(jobs -rp | wc -l) -le ${#pids[@]} ]] && break
    sleep 0.1
done
wait_jobs
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$dp_pid/status")

echo
echo "| measurement | ferryd dp | nginx | target |"
echo "| --- | --- | --- | --- |"
echo "| one download limited to 10 MiB/s (${seconds} s) | $(mib "$dp_one") MiB/s ($(err "$dp_one" 10)) | $(mib "$ng_one") MiB/s ($(err "$ng_one" 10)) | within ±1% |"
for i in 1 2 3 4; do
    echo "| download $i of 4 sharing 20 MiB/s (nginx: 5 MiB/s each) | $(mib "$(cat "$tmp/dp4.$i")") MiB/s ($(err "$(cat "$tmp/dp4.$i")" 5)) | $(mib "$(cat "$tmp/ng4.$i")") MiB/s | within ±10% of 5 MiB/s |"
done
echo "| 1 GiB, unthrottled | $(mib "$dp_big") MiB/s ($(awk -v a="$dp_big" -v b="$ng_big" 'BEGIN { printf "%.0f%%", a / b * 100 }') of nginx) | $(mib "$ng_big") MiB/s | ≥ 80% of nginx |"
echo "| DP peak RSS (VmHWM) serving 64 concurrent downloads | $(( peak / 1024 )) MiB | | ≤ 64 MiB |"
