#!/usr/bin/env bash
# The demo: a real gatewayd forwarding to a real broker on loopback.
#
# Installs the dependencies, builds, starts a mosquitto on 127.0.0.1:1883 as a
# stand-in cloud (and as the sensors' local broker), runs gatewayd with
# conf/gatewayd.toml, publishes the MQTT v5 user-property example's three vendor sensors every few
# seconds, and prints what arrives upstream with topic, content type, payload
# format indicator and user properties. Ctrl-C stops everything cleanly.
#   DEMO_SECONDS  stop by itself after this many seconds (default: run until Ctrl-C)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
demo=build/demo
mkdir -p "$demo"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# conf/gatewayd.toml expects the broker on 1883. If something already listens
# there (Debian starts its own mosquitto service), use a copy on another port.
port=1883
config=conf/gatewayd.toml
if port_busy "$port"; then
  for candidate in $(seq 18830 18899); do
    if ! port_busy "$candidate"; then port=$candidate; break; fi
  done
  config=$demo/gatewayd.toml
  sed "s/127\.0\.0\.1:1883/127.0.0.1:$port/g" conf/gatewayd.toml > "$config"
  echo "demo: port 1883 is taken; using $port and $config"
fi

cat > "$demo/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
max_queued_messages 0
log_dest stderr
CONF

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  [ -n "${gatewayd_pid:-}" ] && kill -TERM "$gatewayd_pid" 2>/dev/null && wait "$gatewayd_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo: stopped (gatewayd log: $demo/gatewayd.log)"
}
trap cleanup INT TERM EXIT

mosquitto -c "$demo/mosquitto.conf" 2>"$demo/mosquitto.log" &
pids+=($!)
for _ in $(seq 50); do port_busy "$port" && break; sleep 0.1; done

echo "demo: upstream messages as the cloud sees them (mosquitto_sub -V 5 on telemetry/# and deadletter/#):"
mosquitto_sub -V 5 -h 127.0.0.1 -p "$port" -t 'telemetry/#' -t 'deadletter/#' \
  -F '%t  content-type=%C  payload-format=%F  user-properties=[%P]  payload=%p' &
pids+=($!)
sleep 0.3

build/bin/gatewayd --config "$config" 2>"$demo/gatewayd.log" &
gatewayd_pid=$!

# The three sensors of the MQTT v5 user-property example (a Xiaomi text/plain reading,
# a Huawei base64 one, a plain one), published to the local broker.
(
  while true; do
    sleep 2
    mosquitto_pub -V 5 -h 127.0.0.1 -p "$port" -q 1 -t sensors/gateway01/sensor01 -m 23.4 \
      -D publish user-property Content-Type text/plain -D publish user-property Hardware-Revision Xiaomi-rev1.17c
    mosquitto_pub -V 5 -h 127.0.0.1 -p "$port" -q 1 -t sensors/gateway01/sensor02 -m MjMuNw== \
      -D publish user-property Content-Type base64 -D publish user-property Hardware-Manufacturer Huawei-rev8.2
    mosquitto_pub -V 5 -h 127.0.0.1 -p "$port" -q 1 -t sensors/gateway01/sensor03 -m 24.4
    sleep 3
  done
) &
pids+=($!)

if [ -n "${DEMO_SECONDS:-}" ]; then
  sleep "$DEMO_SECONDS"
else
  echo "demo: press Ctrl-C to stop"
  wait "$gatewayd_pid" || true
fi
