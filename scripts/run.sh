#!/usr/bin/env bash
# Sets everything up and runs Ferry's main job as it stands: author, build, sign and verify
# the sample packages, show that a tampered package is refused, then start a site server on
# loopback and manage a user through it. (Distribution points and agents join this demo as
# they are built.)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo/scripts/setup.sh" "$repo/build"

pack="$repo/build/packager/ferry-pack"
out="$repo/out/demo"
rm -rf "$out"
mkdir -p "$out"
cd "$out"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "a publisher signing key (minisign format)"
"$pack" keygen -o publisher

for src in "$repo"/samples/packages/*/; do
  name=$(basename "$src")
  step "build and sign $name"
  id=$("$pack" build "$src" -o "$name.ferry" --key publisher.key)
  sum=$(b2sum -l 256 "$name.ferry" | cut -d' ' -f1)
  echo "object id: $id"
  echo "b2sum:     $sum"
  [ "$id" = "$sum" ] || { echo "error: object id and b2sum -l 256 differ" >&2; exit 1; }
  "$pack" verify "$name.ferry" --pub publisher.pub
  minisign -Vm "$name.ferry" -p publisher.pub
done

step "the same source builds to the same bytes"
"$pack" build "$repo/samples/packages/hello-1.0" -o rebuilt.ferry >/dev/null
cmp hello-1.0.ferry rebuilt.ferry && echo "hello-1.0.ferry and rebuilt.ferry are identical"

step "inspect hello-1.1"
"$pack" inspect hello-1.1.ferry

step "a flipped byte is refused"
cp hello-1.0.ferry tampered.ferry
cp hello-1.0.ferry.minisig tampered.ferry.minisig
printf '\x00' | dd of=tampered.ferry bs=1 seek=600 conv=notrunc status=none
if "$pack" verify tampered.ferry --pub publisher.pub; then
  echo "error: a tampered package verified" >&2
  exit 1
fi
echo "refused, as it must be (exit 1)"

step "a site server on loopback: init, serve, a user, health"
ferryd="$repo/build/server/ferryd"
ferryctl="$repo/build/server/ferryctl"
"$ferryd" init --role site --dir "$out/site" --listen 127.0.0.1:0 | tee site-init.txt
admin_token=$(tail -n 1 site-init.txt)
"$ferryd" --config "$out/site/ferryd.ini" > ferryd.out 2> ferryd.log &
ferryd_pid=$!
trap 'kill "$ferryd_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "listening on" ferryd.out && break; sleep 0.1; done
server=$(sed -n 's/^ferryd: listening on //p' ferryd.out)
echo "ferryd is listening on $server"
"$ferryctl" --server "$server" --token "$admin_token" user add vera --role viewer
"$ferryctl" --server "$server" --token "$admin_token" user list
echo "healthz: $(curl -s "$server/healthz" 2>/dev/null || echo '(curl not installed)')"
kill -TERM "$ferryd_pid" && wait "$ferryd_pid" || true
trap - EXIT

step "done"
echo "packages, signatures, keys and the site's data directory are in $out"
