#!/usr/bin/env bash
# The unit and integration tests again, with everything (daemon, plugins,
# tests) built with AddressSanitizer and UndefinedBehaviorSanitizer: any
# out-of-bounds access, use after free, leak at exit or undefined behaviour
# stops the test that hit it. -O1 keeps the build and the run short.
#   SANITIZE_BUILD_DIR  build folder (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SANITIZE_BUILD_DIR:-build-asan}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DGATEWAYD_SANITIZE=address,undefined -DGATEWAYD_BUILD_BENCH=OFF \
  -DGATEWAYD_WERROR=OFF >/dev/null  # GCC 12 warns maybe-uninitialized inside libstdc++ under -fsanitize
cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; exit 1; }
# The crash guard handles SIGSEGV of plugins itself; ASan must leave it to it.
export ASAN_OPTIONS=detect_leaks=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:allow_user_segv_handler=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
ctest --output-on-failure --timeout 900 -j"$(nproc)" -L "unit|integration" -E bench_compare_smoke
