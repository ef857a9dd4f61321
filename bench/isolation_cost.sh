#!/usr/bin/env bash
# What isolation = "process" costs per reading, against the plugin running
# inside gatewayd. A test_emitter sensor emits READINGS readings of 64 bytes
# as fast as they are taken, into the durable queue of an upstream whose
# broker is down (so the figure is the plugin-to-queue path alone: emit(),
# normalizer, router, outbox; no publishing). Per run and mode, a fresh
# daemon; the modes alternate RUNS times. Reported per mode, medians:
#   readings/s   READINGS / time from the daemon's start to all queued
#   CPU/reading  user+system time of gatewayd and, with "process", of the
#                plugin process, divided by READINGS
#   READINGS   default 200000      RUNS  default 3
#   BUILD_DIR  build directory (default build; built by scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
readings=${READINGS:-200000}
runs=${RUNS:-3}
gatewayd=$build/bin/gatewayd
[ -x "$gatewayd" ] && [ -f "$build/tests/plugins/test_emitter.so" ] || bash scripts/build.sh >/dev/null

work=$(mktemp -d /tmp/gatewayd-isolation.XXXXXX)
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/plugins"
cp "$build/tests/plugins/test_emitter.so" "$work/plugins/"
source bench/lib.sh
bench_gatewayd=$gatewayd
port=$(free_port 28930)
ticks=$(getconf CLK_TCK)

write_config() { # $1: isolation
  cat <<CONF
[gateway]
id = "gw-bench"
plugin_dir = "$work/plugins"
state_dir = "$work/state"
runtime_dir = "$work/run"
log_level = "notice"

[[upstream]]
name = "cloud"
url = "tcp://127.0.0.1:$port"
client_id = "gw-bench"
qos = 1

[[sensor]]
name = "meter"
plugin = "test_emitter"
isolation = "$1"
[sensor.options]
count = $readings
payload = "{\"seq\":{seq},\"t\":21.5,\"site\":\"plant-7\",\"unit\":\"celsius\",\"ok\":1}"
CONF
}

cpu_ticks() { # $1: pid; user + system clock ticks, 0 when gone
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
worker_pid() { # the plugin process of the running daemon, if any
  local p
  for p in $(pgrep -P "$daemon_pid" 2>/dev/null); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- '--plugin-worker' && { echo "$p"; return; }
  done
}

run_once() { # $1: isolation; prints "rate daemon_us worker_us"
  rm -rf "$work/state" "$work/run"
  write_config "$1" >"$work/gatewayd.toml"
  local t0 t1 q worker="" w_ticks=0 deadline=$((SECONDS + 600))
  t0=$(date +%s.%N)
  "$gatewayd" --config "$work/gatewayd.toml" >>"$work/gatewayd.log" 2>&1 &
  daemon_pid=$!
  while :; do
    [ -z "$worker" ] && [ "$1" = process ] && worker=$(worker_pid)
    [ -n "$worker" ] && w_ticks=$(cpu_ticks "$worker")
    q=$(bench_status_number "$work/run/gatewayd.sock" queued)
    [ -n "$q" ] && [ "$q" -ge "$readings" ] && break
    [ $SECONDS -lt $deadline ] || { echo "isolation_cost: only ${q:-?} queued; log:" >&2; tail -20 "$work/gatewayd.log" >&2; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  local d_ticks
  d_ticks=$(cpu_ticks "$daemon_pid")
  [ -n "$worker" ] && w_ticks=$(cpu_ticks "$worker")
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=""
  awk -v n="$readings" -v a="$t0" -v b="$t1" -v d="$d_ticks" -v w="$w_ticks" -v hz="$ticks" \
    'BEGIN {printf "%.0f %.2f %.2f\n", n / (b - a), d * 1e6 / hz / n, w * 1e6 / hz / n}'
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "isolation_cost: $readings readings of 64 bytes per run, $runs runs per mode, broker down (queue only)"
: >"$work/none" && : >"$work/process"
for r in $(seq "$runs"); do
  for mode in none process; do
    line=$(run_once "$mode")
    echo "$line" >>"$work/$mode"
    printf '  run %d %-8s %s readings/s, CPU %s us/reading in gatewayd + %s in the plugin process\n' "$r" "$mode" $line
  done
done
for mode in none process; do
  rate=$(cut -d' ' -f1 "$work/$mode" | median)
  d=$(cut -d' ' -f2 "$work/$mode" | median)
  w=$(cut -d' ' -f3 "$work/$mode" | median)
  total=$(awk -v d="$d" -v w="$w" 'BEGIN {printf "%.2f", d + w}')
  printf '%-8s median %8s readings/s   CPU %6s us/reading (gatewayd %s, plugin process %s)\n' "$mode" "$rate" "$total" "$d" "$w"
done
