#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is needed,
# builds with warnings as errors, and runs every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."

WERROR=ON bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 -j"$(nproc)"
