#!/usr/bin/env bash
# Fails when a C or C++ source differs from what clang-format makes of it
# (.clang-format at the top; C style where a folder has its own). Fix with
#   bash scripts/check-format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$format" ] || { echo "clang-format not found: bash scripts/install-deps.sh installs it"; exit 1; }
if git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files 'gatewayd/*.cpp' 'gatewayd/*.h' 'plugins/*.cpp' 'plugins/*.h' 'plugins/*.c' \
    'tests/*.cpp' 'tests/*.h' 'tests/*.c' 'bench/*.cpp' 'bench/*.h')
else
  mapfile -t files < <(find gatewayd plugins tests bench -path tests/support/node -prune -o \
    \( -name '*.cpp' -o -name '*.h' -o -name '*.c' \) -print | sort)
fi
if [ "${1:-}" = --fix ]; then
  "$format" -i "${files[@]}"
  echo "formatted ${#files[@]} files"
  exit 0
fi
if ! "$format" --dry-run --Werror "${files[@]}" 2>/tmp/check-format.$$; then
  grep -m 20 'error:' /tmp/check-format.$$ || true
  rm -f /tmp/check-format.$$
  echo "not formatted as .clang-format says: run bash scripts/check-format.sh --fix"
  exit 1
fi
rm -f /tmp/check-format.$$
echo "${#files[@]} files formatted as .clang-format says"
