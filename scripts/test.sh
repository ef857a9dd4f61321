#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is needed,
# builds with warnings as errors, and runs every unit, integration and
# packaging test; then the unit and integration tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer (scripts/sanitize.sh), the
# threaded ones under ThreadSanitizer (scripts/tsan.sh), and each fuzzer for
# a bounded time from its seed corpus (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

WERROR=ON bash scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure --timeout 600 -j"$(nproc)")
bash scripts/sanitize.sh
bash scripts/tsan.sh
bash scripts/fuzz.sh
