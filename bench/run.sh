#!/usr/bin/env bash
# All benchmarks of gatewayd on this machine, with their medians.
#   bench/run.sh            outbox throughput, then RSS with and without a backlog
#   READINGS=N RUNS=R       sizes (defaults: 200000 readings x 5 runs for the
#                           outbox, 1000000 queued readings for RSS)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
build=${BUILD_DIR:-build}
echo "== outbox alone (bench/outbox_throughput.cpp)"
"$build/bin/bench_outbox" --readings "${OUTBOX_READINGS:-200000}" --runs "${RUNS:-5}" --fsync batch
echo
echo "== daemon RSS with an empty queue and with a backlog (bench/rss_backlog.sh)"
bash bench/rss_backlog.sh
echo
echo "== isolation = \"process\" against in-process, per reading (bench/isolation_cost.sh)"
bash bench/isolation_cost.sh
echo
echo "== modbus: 1,000 registers per poll from a local pymodbus server, merged and one per request (bench/modbus_poll.sh)"
bash bench/modbus_poll.sh
