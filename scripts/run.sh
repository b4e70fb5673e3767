#!/usr/bin/env bash
# Sets everything up and runs Ferry's main job as it stands: author, build, sign and verify
# the sample packages, show that a tampered package is refused, then start a site server on
# loopback and walk a change through it: packages into the library, an RFC approved by the CAB,
# a release through its readiness review, clients enrolled with inventory, collections,
# advertisements under the gates, and a signed policy verified with minisign.
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

step "a site server on loopback"
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
echo "healthz: $(curl -s "$server/healthz")"
export FERRY_SERVER="$server"
as() { local who=$1; shift; FERRY_TOKEN="$who" "$ferryctl" "$@"; }
token_of() { sed -n 's/.*"token": "\([^"]*\)".*/\1/p'; }
admin=$admin_token

step "people: a release manager, two CAB members, a packager, a viewer"
rita=$(as "$admin" user add rita --role release-manager --json | token_of)
carl=$(as "$admin" user add carl --role cab --json | token_of)
cleo=$(as "$admin" user add cleo --role cab --json | token_of)
paula=$(as "$admin" user add paula --role packager --json | token_of)
vera=$(as "$admin" user add vera --role viewer --json | token_of)
as "$admin" user list

step "the Definitive Software Library: trust the publisher for hello, push the packages"
as "$admin" publisher add Samples --pub publisher.pub --packages hello
"$pack" push hello-1.0.ferry --server "$server" --token "$paula"
"$pack" push hello-1.1.ferry --server "$server" --token "$paula"
if "$pack" push broken-1.0.ferry --server "$server" --token "$paula" 2> refused.txt; then
  echo "error: a package outside the publisher's scope entered the library" >&2; exit 1
fi
echo "broken-1.0 refused: $(cat refused.txt)"
as "$vera" package list

step "change management: an RFC, approved by the CAB"
as "$rita" rfc create --title "Roll out hello 1.1" --risk high \
  --business-need "users asked for the new greeting"
as "$carl" rfc approve RFC-0001 --reason "tested in the lab"
as "$cleo" rfc approve RFC-0001

step "clients enrol with a secret: ws-01 runs ferry-agent, ws-02 and ws-03 report by hand"
secret=$(as "$admin" secret create --name lab --json | sed -n 's/.*"secret": "\([^"]*\)".*/\1/p')
agent="$repo/build/client/ferry-agent"
ws01=(--state-dir "$out/agents/ws-01/state" --root "$out/agents/ws-01/root")
"$agent" enroll --server "$server" --secret "$secret" --hostname ws-01 "${ws01[@]}"
pilot_client=$("$agent" status "${ws01[@]}" | sed -n 's/^client *\(cl_[0-9a-f]*\) .*/\1/p')
"$agent" run --once "${ws01[@]}" 2>&1 | sed 's/^/  agent: /'
declare -A client_token
for host in ws-02 ws-03; do
  answer=$(curl -s -X POST "$server/api/v1/clients/enroll" \
    -d "{\"secret\": \"$secret\", \"hostname\": \"$host\"}")
  id=$(echo "$answer" | sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p')
  client_token[$id]=$(echo "$answer" | token_of)
  memory=$([ "$host" = ws-03 ] && echo 2048 || echo 8192)
  curl -s -X POST "$server/api/v1/clients/$id/inventory" -H "Authorization: Bearer ${client_token[$id]}" \
    -d "{\"full\": true, \"seq\": 1, \"facts\": {\"os.name\": \"Debian\", \"os.version\": \"12\", \"hw.memory_mb\": $memory, \"hostname\": \"$host\"}, \"software\": [{\"name\": \"bash\", \"version\": \"5.2\"}]}" > /dev/null
  echo "enrolled $host as $id"
done
as "$vera" client list

step "collections from inventory: a pilot, and production"
as "$rita" collection preview 'os.name == "Debian" and hw.memory_mb >= 4096'
as "$rita" collection preview 'os.name == "Debian" and hw.memory_mb >=' || true
as "$rita" collection create pilot --pilot --members "$pilot_client"
as "$rita" collection create debian-4g --query 'os.name == "Debian" and hw.memory_mb >= 4096'

step "a release carries the approved RFC and hello 1.1"
as "$rita" release create --title "hello 1.1" --rfc RFC-0001 --package hello@1.1 --priority high \
  | head -n 4
ref=$(as "$vera" release list --json | sed -n 's/.*"reference": "\([^"]*\)".*/\1/p' | head -n 1)
as "$rita" release transition "$ref" building > /dev/null
as "$rita" release transition "$ref" testing > /dev/null
echo "$ref is testing"

step "the gates: pilot while testing; production refused until the readiness review says go"
as "$rita" advertise hello@1.1 --collection pilot --mandatory --postpone-max 2
as "$rita" advertise hello@1.1 --collection debian-4g || echo "(refused, as it must be)"

step "the release readiness review: each item signed by its role"
for item in 1 2 3 4 5 8; do as "$rita" release review "$ref" $item --go > /dev/null; done
for item in 6 11; do as "$cleo" release review "$ref" $item --go > /dev/null; done
for item in 7 9 10; do as "$admin" release review "$ref" $item --go --note "checked" > /dev/null; done
as "$rita" release transition "$ref" ready --reason "go" | sed -n '1,2p;/readiness/,$p'
as "$rita" advertise hello@1.1 --collection debian-4g --mandatory --deadline +7d
as "$vera" release show "$ref" | head -n 1

step "the signed policy of $pilot_client, verified with minisign and the site key"
for _ in $(seq 50); do
  as "$admin" client policy "$pilot_client" --out policy.json > /dev/null 2>&1 && \
    grep -q ADV-0002 policy.json && break
  sleep 0.2
done
minisign -Vm policy.json -p "$out/site/keys/site.pub"

step "the pilot's agent: verifies its policy, downloads, checks the signature, installs"
for _ in $(seq 50); do
  "$agent" run --once "${ws01[@]}" 2>&1 | sed 's/^/  agent: /'
  "$agent" list "${ws01[@]}" | grep -q "installed" && break
  sleep 0.2
done
"$agent" list "${ws01[@]}"
echo "\$ $out/agents/ws-01/root/hello/current/files/bin/hello"
"$out/agents/ws-01/root/hello/current/files/bin/hello"
as "$vera" advertisement status ADV-0001
as "$vera" client show "$pilot_client" | grep -E "os.name|hw.memory_mb|ferry:hello|agent.version"

step "the change log"
as "$vera" changelog

kill -TERM "$ferryd_pid" && wait "$ferryd_pid" || true
trap - EXIT

step "done"
echo "packages, signatures, keys, policy.json(.minisig), the site's data and the agent of ws-01 are in $out"
echo "serve the site again with: $ferryd --config $out/site/ferryd.ini"
