#!/usr/bin/env bash
# Installs the dependencies and builds gatewayd, its plugins and its tests.
#   BUILD_DIR   build directory (default: build)
#   BUILD_TYPE  CMake build type (default: RelWithDebInfo)
#   WERROR      ON to make warnings errors (default: OFF; the test script turns it on)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DGATEWAYD_WERROR="${WERROR:-OFF}" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
echo "build: $build_dir/bin/gatewayd and plugins in $build_dir/plugins"
