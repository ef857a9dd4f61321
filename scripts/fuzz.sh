#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) and
# runs each for FUZZ_SECONDS (default 20) from its checked-in seed corpus
# (tests/fuzz/corpus/<target>; what the run adds stays in the build folder).
# Prints each target's executions and coverage; a crash fails the run and
# names the input that caused it (turn it into a unit test).
#   FUZZ_BUILD_DIR  build folder (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-20}
targets=(fuzz_config fuzz_mqtt_packets fuzz_normalizer fuzz_record_codec
         fuzz_downlink_huawei fuzz_downlink_onenet fuzz_downlink_aws fuzz_worker_frames)

CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DGATEWAYD_FUZZ=ON -DGATEWAYD_SANITIZE=address,undefined \
  -DGATEWAYD_BUILD_TESTS=OFF -DGATEWAYD_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; exit 1; }

failed=0
for t in "${targets[@]}"; do
  work="$build/fuzz-runs/$t"
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/crashes"
  cp "$root/tests/fuzz/corpus/$t/"* "$work/corpus/"
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/crashes/" "$work/corpus" >"$work/log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1)
    ft=$(grep -o 'ft: [0-9]*' "$work/log" | tail -1)
    echo "$t: $runs executions in ${seconds}s, $cov, $ft, corpus $(ls "$work/corpus" | wc -l) inputs"
  else
    echo "$t: FAILED; input in $work/crashes/:"
    ls "$work/crashes"
    grep -m5 -E 'ERROR|runtime error|SUMMARY' "$work/log" || tail -20 "$work/log"
    failed=1
  fi
done
exit $failed
