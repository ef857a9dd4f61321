#!/usr/bin/env bash
# What reading Modbus costs: a modbus sensor polls 1,000 holding registers
# (u16 at 0..999) from a local Modbus TCP server (tests/support/modbus_server.py,
# pymodbus) as fast as its interval lets it (1 ms), into the durable queue of
# an upstream whose broker is down, so the figure is the device-to-queue path:
# libmodbus requests, decoding, emit(), normalizer, router, outbox. Two modes,
# alternating RUNS times, each on a fresh daemon:
#   merged   adjacent registers in one request: 8 requests of up to 125 per poll
#   single   max_registers = 1: 1,000 requests per poll, what an unmerged
#            poller pays
# Reported per mode, medians:
#   readings/s   READINGS / time from the daemon's start to all queued
#   requests     what the server counted, per poll
#   CPU/reading  user+system time of gatewayd / READINGS (the server's apart)
#   READINGS   default 100000      RUNS  default 3
#   BUILD_DIR  build directory (default build; built by scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
readings=${READINGS:-100000}
runs=${RUNS:-3}
gatewayd=$build/bin/gatewayd
[ -x "$gatewayd" ] && [ -f "$build/plugins/modbus.so" ] || bash scripts/build.sh >/dev/null

work=$(mktemp -d /tmp/gatewayd-modbus.XXXXXX)
daemon_pid="" server_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

source bench/lib.sh
bench_gatewayd=$gatewayd
broker_port=$(free_port 28960)
modbus_port=$(free_port $((broker_port + 1)))
ticks=$(getconf CLK_TCK)

# 1,000 registers holding their own address.
/usr/bin/python3 -c '
import json
print(json.dumps({"units": {"1": {"holding": {str(a): a for a in range(1000)}}}}))' >"$work/map.json"
/usr/bin/python3 tests/support/modbus_server.py --map "$work/map.json" --log "$work/requests.log" \
  --tcp "$modbus_port" >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 300); do grep -q ready "$work/server.out" && break; sleep 0.1; done
grep -q ready "$work/server.out" || { echo "modbus_poll: the server did not start:" >&2; cat "$work/server.out" >&2; exit 1; }

write_config() { # $1: max_registers
  cat <<CONF
[gateway]
id = "gw-bench"
plugin_dir = "$build/plugins"
state_dir = "$work/state"
runtime_dir = "$work/run"
log_level = "notice"

[[upstream]]
name = "cloud"
url = "tcp://127.0.0.1:$broker_port"
client_id = "gw-bench"
qos = 1

[[sensor]]
name = "plant"
plugin = "modbus"
interval = "1ms"
[sensor.options]
port = $modbus_port
max_registers = $1
[[sensor.options.devices]]
name = "meter"
registers = [
CONF
  for a in $(seq 0 999); do echo "  { name = \"r$a\", address = $a },"; done
  echo "]"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

run_once() { # $1: max_registers; prints "rate us_per_reading requests_per_poll server_us"
  rm -rf "$work/state" "$work/run"
  : >"$work/requests.log"
  write_config "$1" >"$work/gatewayd.toml"
  local t0 t1 q s0 s1 deadline=$((SECONDS + 900))
  s0=$(cpu_ticks "$server_pid")
  t0=$(date +%s.%N)
  "$gatewayd" --config "$work/gatewayd.toml" >>"$work/gatewayd.log" 2>&1 &
  daemon_pid=$!
  while :; do
    q=$(bench_status_number "$work/run/gatewayd.sock" queued)
    [ -n "$q" ] && [ "$q" -ge "$readings" ] && break
    [ $SECONDS -lt $deadline ] || { echo "modbus_poll: only ${q:-?} queued; log:" >&2; tail -20 "$work/gatewayd.log" >&2; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  local d_ticks requests
  d_ticks=$(cpu_ticks "$daemon_pid")
  s1=$(cpu_ticks "$server_pid")
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=""
  # Every poll starts with the request at address 0.
  requests=$(wc -l <"$work/requests.log")
  polls=$(grep -c ' address=0 ' "$work/requests.log")
  awk -v n="$q" -v a="$t0" -v b="$t1" -v d="$d_ticks" -v hz="$ticks" -v r="$requests" -v p="$polls" -v s="$((s1 - s0))" \
    'BEGIN {printf "%.0f %.2f %.1f %.2f\n", n / (b - a), d * 1e6 / hz / n, r / p, s * 1e6 / hz / n}'
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "modbus_poll: 1,000 u16 holding registers per poll from a local pymodbus server, $readings readings per run, $runs runs per mode, broker down (queue only)"
: >"$work/merged" && : >"$work/single"
for r in $(seq "$runs"); do
  for mode in merged single; do
    max=125
    [ "$mode" = single ] && max=1
    line=$(run_once "$max")
    echo "$line" >>"$work/$mode"
    printf '  run %d %-7s %s readings/s, CPU %s us/reading in gatewayd, %s requests/poll, server %s us/reading\n' "$r" "$mode" $line
  done
done
for mode in merged single; do
  printf '%-7s median %8s readings/s   CPU %6s us/reading in gatewayd   %s requests/poll   server %s us/reading\n' "$mode" \
    "$(cut -d' ' -f1 "$work/$mode" | median)" "$(cut -d' ' -f2 "$work/$mode" | median)" \
    "$(cut -d' ' -f3 "$work/$mode" | median)" "$(cut -d' ' -f4 "$work/$mode" | median)"
done
