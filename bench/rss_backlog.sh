#!/usr/bin/env bash
# The daemon's memory with an empty queue and with a large backlog: the
# backlog lives on disk, so RSS should not grow with it.
#
# One upstream points at a loopback port where nothing listens (the cloud is
# down); a sensor emits READINGS readings of 64 bytes as fast as the daemon
# takes them. Phases, each a real gatewayd with the same config otherwise:
#   empty    fresh daemon, no sensor, empty queue: idle RSS
#   fill-10  the sensor emits READINGS/10 readings; RSS once all are queued
#   filling  the same with READINGS readings (fresh queue): flat means the
#            burst costs the same memory however large the backlog grows
#   restart  fresh daemon, no sensor, READINGS readings on disk: idle RSS
#   drain    a mosquitto appears on the port; RSS once the queue is empty,
#            and the drain rate
# RSS is the median of 5 samples of VmRSS, 0.5 s apart; VmHWM is the peak.
#   READINGS   queued readings (default 1000000)
#   BUILD_DIR  build directory (default build; built by scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
readings=${READINGS:-1000000}
gatewayd=$build/bin/gatewayd
[ -x "$gatewayd" ] && [ -f "$build/tests/plugins/test_emitter.so" ] || bash scripts/build.sh >/dev/null

work=$(mktemp -d /tmp/gatewayd-rss.XXXXXX)
daemon_pid=""
broker_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/plugins"
cp "$build"/plugins/*.so "$build/tests/plugins/test_emitter.so" "$work/plugins/"
source bench/lib.sh
bench_gatewayd=$gatewayd
port=$(free_port 28830)

write_config() { # $1: file, $2: readings the sensor emits (0: no sensor)
  {
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
[upstream.backoff]
initial = "200ms"
max = "1s"
CONF
    if [ "$2" -gt 0 ]; then
      cat <<CONF

[[sensor]]
name = "meter"
plugin = "test_emitter"
[sensor.options]
count = $2
payload = "{\"seq\":{seq},\"t\":21.5,\"site\":\"plant-7\",\"unit\":\"celsius\",\"ok\":1}"
CONF
    fi
  } >"$1"
}
write_config "$work/idle.toml" 0
write_config "$work/fill-10.toml" $((readings / 10))
write_config "$work/fill.toml" "$readings"

status_number() { # $1: key of the "cloud" upstream; empty when the daemon does not answer
  bench_status_number "$work/run/gatewayd.sock" "$1"
}
start_daemon() { # $1: config
  "$gatewayd" --config "$1" >>"$work/gatewayd.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 100); do [ -n "$(status_number queued)" ] && return; sleep 0.1; done
  echo "rss_backlog: gatewayd did not start; log:" >&2; tail -20 "$work/gatewayd.log" >&2; exit 1
}
stop_daemon() {
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=""
}
wait_for_queued() { # $1: predicate on the queued count, $2: seconds
  local deadline=$((SECONDS + $2)) q
  while [ $SECONDS -lt $deadline ]; do
    q=$(status_number queued)
    if [ -n "$q" ] && eval "[ $q $1 ]"; then return; fi
    sleep 0.5
  done
  echo "rss_backlog: queued did not become $1 within $2 s (now ${q:-?}); log:" >&2
  tail -20 "$work/gatewayd.log" >&2; exit 1
}
kib() { awk -v k="$1" '/^'"$1"':/ {print $2}' "/proc/$daemon_pid/status"; }
rss_median() {
  local samples=()
  for _ in 1 2 3 4 5; do samples+=("$(kib VmRSS)"); sleep 0.5; done
  printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p
}
report() { # $1: phase
  local rss hwm
  rss=$(rss_median); hwm=$(kib VmHWM)
  printf '%-8s queued %8s   RSS %6d KiB   peak %6d KiB\n' "$1" "$(status_number queued)" "$rss" "$hwm"
  eval "rss_${1//-/_}=$rss"
}

echo "rss_backlog: $readings readings of 64 bytes, upstream tcp://127.0.0.1:$port (down until the drain)"
start_daemon "$work/idle.toml"; sleep 2; report empty; stop_daemon

start_daemon "$work/fill-10.toml"
wait_for_queued "-ge $((readings / 10))" 600
report fill-10; stop_daemon
rm -rf "$work/state"

start_daemon "$work/fill.toml"
t0=$(date +%s.%N)
wait_for_queued "-ge $readings" 1800
t1=$(date +%s.%N)
report filling; stop_daemon
echo "         (filled at $(awk -v n="$readings" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}') readings/s, queue file $(du -sh "$work/state/outbox" | cut -f1))"

start_daemon "$work/idle.toml"; sleep 2; report restart

cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
max_queued_messages 0
CONF
mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
broker_pid=$!
t0=$(date +%s.%N)
wait_for_queued "-eq 0" 1800
t1=$(date +%s.%N)
report drain
echo "         (drained at $(awk -v n="$readings" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}') readings/s, reconnect delay included)"
stop_daemon

echo "restart with $readings queued vs empty: $((rss_restart - rss_empty)) KiB"
echo "after filling $readings vs $((readings / 10)):    $((rss_filling - rss_fill_10)) KiB"
echo "after filling vs empty:              $((rss_filling - rss_empty)) KiB"
echo "after draining vs empty:             $((rss_drain - rss_empty)) KiB"
