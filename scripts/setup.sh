#!/usr/bin/env bash
# Installs what Ferry needs from Debian 12's packages (only what is missing) and builds it.
# Safe to run any number of times.
#
#   scripts/setup.sh [--browser-tests] [BUILD_DIR] [extra cmake args...]
#
# --browser-tests (scripts/test.sh passes it) also installs what the console's browser tests
# need: Debian's chromium and firefox-esr (unless FERRY_CHROMIUM / FERRY_FIREFOX name others), Node.js and npm when `node` or
# `npm` is not on PATH (a Node.js already there is kept), and tests/browser's npm packages
# (`npm ci`, skipped while node_modules matches package-lock.json).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
browser_tests=false
if [ "${1:-}" = --browser-tests ]; then
  browser_tests=true
  shift
fi
build_dir=${1:-$repo/build}
shift || true

packages=(
  cmake g++ make pkg-config
  libpoco-dev libarchive-dev libsodium-dev libsqlite3-dev libboost-test-dev
  minisign libarchive-tools coreutils zstd curl openssl sqlite3
)
if $browser_tests; then
  [ -n "${FERRY_CHROMIUM:-}" ] || packages+=(chromium)
  [ -n "${FERRY_FIREFOX:-}" ] || packages+=(firefox-esr)
  command -v node > /dev/null || packages+=(nodejs)
  command -v npm > /dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: run as root (or install sudo) to install: ${missing[*]}" >&2; exit 2; }
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if $browser_tests; then
  # tests/browser's packages (playwright-core, puppeteer-core; neither downloads a browser), installed exactly
  # as package-lock.json says; a stamp of the lock file makes the next run skip it.
  browser=$repo/tests/browser
  stamp=$browser/node_modules/.ferry-lock.sha256
  want=$(sha256sum "$browser/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2> /dev/null)" != "$want" ] || [ ! -f "$browser/node_modules/playwright-core/package.json" ] ||
     [ ! -f "$browser/node_modules/puppeteer-core/package.json" ]; then
    echo "==> npm ci in tests/browser"
    (cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts)
    echo "$want" > "$stamp"
  fi
fi

echo "==> building in $build_dir"
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
