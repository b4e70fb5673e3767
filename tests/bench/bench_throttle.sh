#!/usr/bin/env bash
# Throttle accuracy (issue 5, docs/benchmarks.md "Throttle accuracy"): the core throttle
# (include/ferry/throttle.h) on a real clock, side by side with nginx's limit_rate.
#   a. one stream limited to 10 MiB/s for --seconds (default 30): bench_throttle single pushes
#      64 KiB chunks through a TokenBucket into a loopback TCP sink; at the same time curl
#      downloads 10 MiB/s × seconds from nginx with `limit_rate 10m`;
#   b. four streams sharing 20 MiB/s: bench_throttle shared (one shared TokenBucket, four
#      connections); at the same time four curls from nginx with `limit_rate 5m` each (nginx has
#      no shared limit: its four run at 5 MiB/s by configuration, not by sharing).
# Ferry's rate is bytes received by the sink in the run / its length; nginx's is curl's
# speed_download (bytes / total time of a download sized to last the run). Both sides mostly
# sleep, so running them together costs neither any accuracy. About 70 s; needs cmake, a C++
# compiler, nginx, curl and python3 (for a free port; apt-get install -y nginx-light curl).
#
#   tests/bench/bench_throttle.sh [--build DIR] [--seconds N]
#
# Builds bench_throttle in DIR (default build-bench, Release, FERRY_BUILD_BENCH=ON) unless it is
# there, runs nginx on 127.0.0.1 with a free port and a temporary prefix, and prints a Markdown
# table. Everything it starts is stopped, and its temporary directory removed, on exit.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="$repo/build-bench"
seconds=30
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        *) echo "usage: $0 [--build DIR] [--seconds N]" >&2; exit 2 ;;
    esac
done
for tool in curl nginx cmake python3; do
    command -v "$tool" > /dev/null || [[ -x /usr/sbin/$tool ]] ||
        { echo "bench_throttle: $tool is missing (apt-get install -y curl nginx-light cmake)" >&2; exit 2; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
log() { printf '%s bench_throttle: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

bench="$build/tests/bench/bench_throttle"
if [[ ! -x "$bench" ]]; then
    log "building bench_throttle in $build"
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_BENCH=ON > /dev/null
    cmake --build "$build" -j"$(nproc)" --target bench_throttle > /dev/null
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-throttle.XXXXXX")
nginx_pid=""
cleanup() {
    [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2> /dev/null && wait "$nginx_pid" 2> /dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# nginx serves one sparse file, large enough for 10 MiB/s × seconds.
mkdir -p "$tmp/www" "$tmp/nginx"
chmod 711 "$tmp"
chmod 755 "$tmp/www"
bytes10=$(( seconds * 10 << 20 ))
bytes5=$(( seconds * 5 << 20 ))
truncate -s "$bytes10" "$tmp/www/blob"
chmod 644 "$tmp/www/blob"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        location /limited10/ { alias $tmp/www/; limit_rate 10m; }
        location /limited5/ { alias $tmp/www/; limit_rate 5m; }
    }
}
EOF
"$nginx_bin" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$port/limited10/blob" && break; sleep 0.1; done
speed() { curl -sS -o /dev/null -w '%{speed_download}' -r "0-$(( $2 - 1 ))" "http://127.0.0.1:$port/$1/blob"; }

log "a. one stream at 10 MiB/s for $seconds s (ferry and nginx together)"
speed limited10 "$bytes10" > "$tmp/nginx.one" &
curl_pid=$!
"$bench" single --rate 10MiB/s --seconds "$seconds" > "$tmp/ferry.one"
wait "$curl_pid"

log "b. four streams sharing 20 MiB/s for $seconds s (ferry; nginx 5 MiB/s each)"
curl_pids=()
for i in 1 2 3 4; do speed limited5 "$bytes5" > "$tmp/nginx.four.$i" & curl_pids+=($!); done
"$bench" shared --rate 20MiB/s --streams 4 --seconds "$seconds" > "$tmp/ferry.four"
for pid in "${curl_pids[@]}"; do wait "$pid"; done

mib() { awk -v b="$1" 'BEGIN { printf "%.3f", b / 1048576 }'; }
err() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%+.3f%%", (b / 1048576 - t) / t * 100 }'; }
field() { awk -F'\t' -v key="$2" -v n="$3" '$1 == "stream" && $2 == key { print $n }' "$1"; }

one=$(field "$tmp/ferry.one" 1 3)
echo
echo "| measurement | ferry (core throttle) | nginx limit_rate | target |"
echo "| --- | --- | --- | --- |"
echo "| one stream at 10 MiB/s, ${seconds} s | $(mib "$one") MiB/s ($(err "$one" 10)) | $(mib "$(cat "$tmp/nginx.one")") MiB/s ($(err "$(cat "$tmp/nginx.one")" 10)) | within ±1% |"
echo "| — slowest and fastest 1-s window | $(mib "$(field "$tmp/ferry.one" 1 5)") / $(mib "$(field "$tmp/ferry.one" 1 6)") MiB/s | | |"
echo "| — acquire() returned late by (median / 99th pct.) | $(field "$tmp/ferry.one" 1 7) / $(field "$tmp/ferry.one" 1 8) µs | | |"
for i in 1 2 3 4; do
    b=$(field "$tmp/ferry.four" "$i" 3)
    echo "| stream $i of 4 sharing 20 MiB/s (nginx: 5 MiB/s each) | $(mib "$b") MiB/s ($(err "$b" 5)) | $(mib "$(cat "$tmp/nginx.four.$i")") MiB/s ($(err "$(cat "$tmp/nginx.four.$i")" 5)) | within ±10% of 5 MiB/s |"
done
total=$(awk -F'\t' '$1 == "total" { print $2 }' "$tmp/ferry.four")
echo "| the four together | $(mib "$total") MiB/s ($(err "$total" 20)) | | 20 MiB/s |"
echo
echo "Raw output of bench_throttle:"
echo
sed 's/^/    /' "$tmp/ferry.one" "$tmp/ferry.four"
