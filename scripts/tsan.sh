#!/usr/bin/env bash
# The threaded unit tests (label "threaded": the upstream session against its
# fake transport, sensor instances with real plugin threads, the disk outbox,
# the pipeline) built and run with ThreadSanitizer: any data race or lock
# order inversion stops the test that hit it. Only these: the daemon's other
# tests go through Paho, which Debian builds without TSan, so TSan could not
# see Paho's own locking and would report races that are not there.
#   TSAN_BUILD_DIR  build folder (default build-tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TSAN_BUILD_DIR:-build-tsan}
tests=(test_upstream_session test_sensor_instance test_disk_outbox test_pipeline)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DGATEWAYD_SANITIZE=thread -DGATEWAYD_BUILD_BENCH=OFF \
  -DGATEWAYD_WERROR=OFF >/dev/null  # GCC 12 warns maybe-uninitialized inside libstdc++ under -fsanitize
cmake --build "$build" -j"$(nproc)" --target "${tests[@]}" test_emitter misbehaving simulated >"$build/build.log" 2>&1 || {
  tail -40 "$build/build.log"
  exit 1
}
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
cd "$build"
ctest --output-on-failure --timeout 900 -L threaded
