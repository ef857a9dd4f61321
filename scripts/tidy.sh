#!/usr/bin/env bash
# clang-tidy with .clang-tidy's checks over gatewayd's and the plugins' own
# sources, using the compile commands of a build (default: build). Slow (a
# few minutes on two cores), so it is not part of scripts/test.sh.
#   bash scripts/tidy.sh [FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'gatewayd/src/*.cpp' 'plugins/*.cpp')
fi
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 "$tidy" -p "$build" --quiet 2>/dev/null |
  grep -E '^/.*(warning|error):' | sort -u
