#!/usr/bin/env bash
# Sets everything up (with what the console's browser tests need: chromium, Node.js, npm ci in
# tests/browser), builds with warnings as errors, and runs the whole test suite under ctest.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo/scripts/setup.sh" --browser-tests "$repo/build" -DFERRY_WERROR=ON -DFERRY_BUILD_TESTS=ON
cd "$repo/build"
ctest --output-on-failure -j"$(nproc)" --timeout 900
