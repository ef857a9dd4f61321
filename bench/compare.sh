#!/usr/bin/env bash
# gatewayd side by side with what a user would run instead: a mosquitto
# broker on the box bridging sensors/# to the cloud. Prints a markdown table
# whose every figure is the median of RUNS runs, both paths measured in this
# run against the same brokers:
#
#   load generator -> mosquitto A -> bridge (a) / gatewayd mqtt_local (b) -> mosquitto B -> counting subscriber
#
# Both brokers: set_tcp_nodelay true, max_queued_messages 0 (see mosquitto.conf(5); measured
# with mosquitto 2.0.11: Nagle caps QoS 1 at ~1k/s, and a queue limit drops messages while the
# publisher still gets PUBACK), everything else mosquitto's defaults.
# gatewayd: durable outbox with fsync = "batch", MQTT v5 upstream.
#
#   bash bench/compare.sh          builds in Release (build-release/) and runs everything (~15 min)
#   SMOKE=1 bash bench/compare.sh  a few seconds per part, small N, for CI: proves the script runs
# Sizes: RUNS (3), READINGS (200000, forward rate), LATENCY_READINGS (10000 at 1,000/s, after
# LATENCY_WARMUP 1000 left out of the percentiles),
# RATE10K_READINGS (100000 at 10,000/s), BACKLOG (1000000), CALLGRIND_READINGS (20000),
# OUTAGE (600 s) and REPLAY_RATE (100 readings/s) of the replay part. CALLGRIND_RATE paces the
# callgrind load (readings/s; default: as fast as it goes); under valgrind gatewayd keeps up
# with about 200/s, so that shows a healthy stream's cost, and the default a backlog's.
# PARTS: a subset of "forward ceiling library batch latency memory callgrind replay"
# (default: all). callgrind and replay run once, not RUNS times; replay takes 2 × OUTAGE.
# BUILD_DIR (build-release), NO_BUILD=1 to use what is there, KEEP=1 to keep the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${SMOKE:-}" ]; then
  : "${RUNS:=1}" "${READINGS:=3000}" "${LATENCY_READINGS:=300}" "${LATENCY_WARMUP:=100}" "${RATE10K_READINGS:=3000}" "${BACKLOG:=5000}"
  : "${CALLGRIND_READINGS:=300}" "${OUTAGE:=3}"
fi
runs=${RUNS:-3}
readings=${READINGS:-200000}
latency_readings=${LATENCY_READINGS:-10000}
latency_warmup=${LATENCY_WARMUP:-1000}
rate10k_readings=${RATE10K_READINGS:-100000}
backlog=${BACKLOG:-1000000}
callgrind_readings=${CALLGRIND_READINGS:-20000}
outage=${OUTAGE:-600}
replay_rate=${REPLAY_RATE:-100}
build=${BUILD_DIR:-build-release}
parts=${PARTS:-forward ceiling library batch latency memory callgrind replay}

if [ -z "${NO_BUILD:-}" ]; then
  BUILD_DIR=$build BUILD_TYPE=Release bash scripts/build.sh >/dev/null
fi
bin=$build/bin
for f in "$bin/gatewayd" "$bin/bench_mqtt" "$build/plugins/mqtt_local.so" "$build/tests/plugins/test_emitter.so"; do
  [ -e "$f" ] || { echo "compare: $f is missing; build with scripts/build.sh" >&2; exit 1; }
done

work=$(mktemp -d /tmp/gatewayd-compare.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "compare: work directory kept: $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/plugins"
cp "$build/plugins/mqtt_local.so" "$build/tests/plugins/test_emitter.so" "$work/plugins/"
log() { echo "compare: $*" >&2; }

source bench/lib.sh
bench_gatewayd=$bin/gatewayd
port_a=$(free_port 29100)
port_b=$(free_port $((port_a + 1)))

# --- processes -------------------------------------------------------------
pid_a="" pid_b="" pid_gw=""
forget() { local keep=() p; for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; pids=("${keep[@]}"); }
stop() { # $1: pid; SIGTERM and wait
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}
wait_log() { # $1: file, $2: fixed string, $3: seconds
  local deadline=$((SECONDS + $3))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { log "'$2' did not appear in $1 within $3 s:"; tail -5 "$1" >&2; exit 1; }
    sleep 0.05
  done
}

# $1: name (a or b), $2: port, $3: bridge QoS or "" (A only), $4: "persist" to keep sessions across restarts (B)
start_broker() {
  local conf=$work/$1.conf
  {
    echo "listener $2 127.0.0.1"
    echo "allow_anonymous true"
    echo "set_tcp_nodelay true"
    echo "max_queued_messages 0"
    echo "log_dest stderr"
    echo "user root"
    if [ "${4:-}" = persist ]; then
      echo "persistence true"
      echo "persistence_location $work/"
      echo "persistence_file $1.db"
    fi
    if [ -n "${3:-}" ]; then
      echo "connection bench-bridge"
      echo "address 127.0.0.1:$port_b"
      echo "remote_clientid bench-bridge"
      echo "topic sensors/# out $3"
      echo "cleansession false"
      echo "notifications false"
      echo "restart_timeout 1"
    fi
  } >"$conf"
  ${BROKER_WRAPPER:-} mosquitto -c "$conf" 2>>"$work/$1.log" &
  eval "pid_$1=$!"
  pids+=($!)
  wait_log "$work/$1.log" "mosquitto version" 10
  until port_busy "$2"; do sleep 0.02; done
}
broker_log_mark() { wc -l <"$work/$1.log" 2>/dev/null || echo 0; }

# $1: config file, $2: sensor section (toml), $3: upstream qos, $4: more upstream lines
write_gatewayd_config() {
  cat >"$1" <<CONF
[gateway]
id = "gw-bench"
plugin_dir = "$work/plugins"
state_dir = "$work/state"
runtime_dir = "$work/run"
log_level = "notice"

$2

[[upstream]]
name = "cloud"
url = "tcp://127.0.0.1:$port_b"
client_id = "gw-bench"
qos = $3
topic = "bench/{gateway}/{sensor}"
outbox = "disk"
fsync = "batch"
max_bytes = "4GiB"
${4:-}
[upstream.backoff]
initial = "200ms"
max = "1s"
CONF
}
mqtt_local_sensor() { # $1: qos
  cat <<CONF
[[sensor]]
name = "field"
plugin = "mqtt_local"
[sensor.options]
url = "tcp://127.0.0.1:$port_a"
topics = ["sensors/#"]
qos = $1
CONF
}
emitter_sensor() { # $1: count; $2: readings/s, each stamped for latency (default: as fast as it goes)
  local payload='{\"seq\":{seq},\"t\":0,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}'
  # about bench_mqtt's 64 bytes: the stamp takes 14 to 16 digits where 0 took one
  [ -n "${2:-}" ] && payload='{\"seq\":{seq},\"t\":{now},\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}'
  cat <<CONF
[[sensor]]
name = "load"
plugin = "test_emitter"
[sensor.options]
count = $1
rate = ${2:-0}
start_delay = "1s"
payload = "$payload"
CONF
}
start_gatewayd() { # $1: config; waits until it is connected upstream (and to A when it subscribes there)
  local mark_a mark_b
  mark_b=$(broker_log_mark b)
  ${GATEWAYD_WRAPPER:-} "$bin/gatewayd" --config "$1" >>"$work/gatewayd.log" 2>&1 &
  pid_gw=$!
  pids+=($!)
  if [ "${2:-}" != no-upstream ]; then
    local deadline=$((SECONDS + 60))
    until tail -n +"$((mark_b + 1))" "$work/b.log" | grep -qF "as gw-bench"; do
      [ $SECONDS -lt $deadline ] || { log "gatewayd did not connect to B:"; tail -5 "$work/gatewayd.log" >&2; exit 1; }
      sleep 0.05
    done
  fi
  if grep -q mqtt_local "$1"; then
    wait_log "$work/a.log" "as gatewayd-gw-bench-field" 60
  fi
  sleep 0.5 # the SUBSCRIBE follows the CONNACK
}
wait_bridge() { # B's log since $1 shows the bridge connected
  local deadline=$((SECONDS + 30))
  until tail -n +"$(($1 + 1))" "$work/b.log" | grep -qF "as bench-bridge"; do
    [ $SECONDS -lt $deadline ] || { log "the bridge did not connect to B"; tail -5 "$work/a.log" >&2; exit 1; }
    sleep 0.05
  done
  sleep 0.5
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# Voluntary context switches of all of a process's threads (each is a thread
# going to sleep; a wake-up costs one), and the busiest threads by name.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '$1 == "voluntary_ctxt_switches:" {s += $2} END {print s + 0}'; }
switches_by_thread() { # $1: pid, $2: readings; "name per-reading, ..." for the top 4
  local t
  for t in /proc/"$1"/task/*; do
    echo "$(cat "$t/comm" 2>/dev/null) $(awk '$1 == "voluntary_ctxt_switches:" {print $2}' "$t/status" 2>/dev/null)"
  done | sort -k2,2nr | head -4 | awk -v n="$2" '{printf "%s%s %.2f", (NR > 1 ? ", " : ""), $1, $2 / n}'
}
field() { # $1: key, $2: a bench_mqtt line
  sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}'; }
declare -A results
record() { results[$1]="${results[$1]:-} $2"; } # $1: measure, $2: value of one run
med() { median ${results[$1]:-}; }

# Sets up one path: (a) the bridge or (b) gatewayd; echoes nothing.
# $1: bridge|gatewayd, $2: qos, $3: "persist" for B, $4: more upstream lines for gatewayd
setup_path() {
  rm -rf "$work/state" "$work/run" "$work"/*.db
  : >"$work/a.log"; : >"$work/b.log"
  start_broker b "$port_b" "" "${3:-}"
  local mark
  mark=$(broker_log_mark b)
  if [ "$1" = bridge ]; then
    start_broker a "$port_a" "$2"
    wait_bridge "$mark"
  else
    start_broker a "$port_a" ""
    write_gatewayd_config "$work/gatewayd.toml" "$(mqtt_local_sensor "$2")" "$2" "${4:-}"
    start_gatewayd "$work/gatewayd.toml"
  fi
}
teardown_path() { stop "$pid_gw"; pid_gw=""; stop "$pid_a"; stop "$pid_b"; }
forwarder_pid() { if [ "$1" = bridge ]; then echo "$pid_a"; else echo "$pid_gw"; fi; }

run_sub() { # $1: output file, rest: bench_mqtt sub options; waits until subscribed
  rm -f "$work/ready"
  "$bin/bench_mqtt" sub --port "$port_b" --ready "$work/ready" "${@:2}" >"$1" 2>&1 &
  sub_pid=$!
  local deadline=$((SECONDS + 30))
  until [ -e "$work/ready" ]; do
    [ $SECONDS -lt $deadline ] || { log "the subscriber did not subscribe:"; cat "$1" >&2; exit 1; }
    sleep 0.02
  done
}
finish_sub() { # $1: output file; sets `line` to its report, fails on a loss
  wait "$sub_pid" || { log "the subscriber did not receive everything: $(cat "$1")"; exit 1; }
  line=$(cat "$1")
}

# --- 1. forward rate and CPU ---------------------------------------------------
per_100k() { awk -v s="$1" -v n="$readings" 'BEGIN {printf "%.3f", s * 100000 / n}'; } # $1: CPU seconds
seconds_of() { awk -v t="$1" 'BEGIN {print t / 100}'; }                                    # $1: CPU ticks
forward_run() { # $1: path, $2: qos
  setup_path "$1" "$2"
  local fwd before_fwd before_a before_b after line pub_line others
  fwd=$(forwarder_pid "$1")
  run_sub "$work/sub.out" --count "$readings" --qos 0 --timeout 300
  before_fwd=$(cpu_ticks "$fwd"); before_a=$(cpu_ticks "$pid_a"); before_b=$(cpu_ticks "$pid_b")
  pub_line=$("$bin/bench_mqtt" pub --port "$port_a" --count "$readings" --qos "$2")
  finish_sub "$work/sub.out"
  after=$(cpu_ticks "$fwd")
  record "rate_$1_q$2" "$(field arrival_rate "$line")"
  # CPU seconds per 100,000 readings; the bridge lives inside A
  record "cpu_$1_q$2" "$(per_100k "$(seconds_of $((after - before_fwd)))")"
  # Everything else on the box: the publisher, B, the subscriber and (for gatewayd) A.
  local a_s=0 b_s p_s s_s
  b_s=$(seconds_of $(($(cpu_ticks "$pid_b") - before_b)))
  p_s=$(awk -v p="$(field cpu_per_100k "$pub_line")" -v n="$readings" 'BEGIN {print p * n / 100000}')
  s_s=$(field cpu_s "$line")
  if [ "$1" = gatewayd ]; then
    a_s=$(seconds_of $(($(cpu_ticks "$pid_a") - before_a)))
    record "cpu_a_serving_q$2" "$(per_100k "$a_s")"
  fi
  others=$(awk -v a="$a_s" -v b="$b_s" -v p="$p_s" -v s="$s_s" 'BEGIN {print a + b + p + s}')
  record "cpu_others_$1_q$2" "$(per_100k "$others")"
  log "forward $1 QoS $2: $(field arrival_rate "$line") readings/s, CPU $((after - before_fwd)) ticks;" \
    "the rest of the box $(per_100k "$others") s per 100,000 (A serving $(per_100k "$a_s"), B $(per_100k "$b_s")," \
    "publisher $(per_100k "$p_s"), subscriber $(per_100k "$s_s"))"
  teardown_path
}

# Batches: QoS 1 through gatewayd with `batch = { max_readings = $1, linger = "5ms" }`
# (1: off); readings/s, the messages B received per 1,000 readings and
# gatewayd's CPU seconds per 100,000 readings.
batch_run() { # $1: max_readings
  local extra=""
  [ "$1" -gt 1 ] && extra="batch = { max_readings = $1, linger = \"5ms\" }"
  setup_path gatewayd 1 "" "$extra"
  run_sub "$work/sub.out" --count "$readings" --qos 0 --timeout 300
  local line before
  before=$(cpu_ticks "$pid_gw")
  "$bin/bench_mqtt" pub --port "$port_a" --count "$readings" --qos 1 >/dev/null
  finish_sub "$work/sub.out"
  local ticks=$(($(cpu_ticks "$pid_gw") - before))
  record "batch_rate_$1" "$(field arrival_rate "$line")"
  record "batch_msgs_$1" "$(awk -v m="$(field messages "$line")" -v n="$readings" 'BEGIN {printf "%.1f", m * 1000 / n}')"
  record "batch_cpu_$1" "$(per_100k "$(seconds_of "$ticks")")"
  log "batch $1: $(field arrival_rate "$line") readings/s, $(field messages "$line") messages, CPU $ticks ticks"
  teardown_path
}

ceiling_run() { # $1: qos; test_emitter inside gatewayd, no broker A
  rm -rf "$work/state" "$work/run"
  : >"$work/b.log"
  start_broker b "$port_b" ""
  run_sub "$work/sub.out" --count "$readings" --qos 0 --timeout 300
  write_gatewayd_config "$work/ceiling.toml" "$(emitter_sensor "$readings")" "$1"
  start_gatewayd "$work/ceiling.toml"
  local line
  finish_sub "$work/sub.out"
  record "ceiling_q$1" "$(field arrival_rate "$line")"
  log "ceiling QoS $1: $(field arrival_rate "$line") readings/s"
  stop "$pid_gw"; pid_gw=""; stop "$pid_b"
}

# The MQTT library's own share: one broker, no subscriber, the same window
# (mosquitto's Receive Maximum, 20), a raw publisher vs gatewayd's PahoClient.
library_run() { # $1: qos
  : >"$work/b.log"
  start_broker b "$port_b" ""
  local line raw
  line=$("$bin/bench_mqtt" pub --port "$port_b" --count "$readings" --qos "$1" --window 20)
  raw=$(field rate "$line")
  record "raw_rate_q$1" "$raw"
  record "raw_cpu_q$1" "$(field cpu_per_100k "$line")"
  local before_b
  before_b=$(cpu_ticks "$pid_b")
  line=$("$bin/bench_paho" --port "$port_b" --count "$readings" --qos "$1")
  record "paho_rate_q$1" "$(field rate "$line")"
  record "paho_cpu_q$1" "$(field cpu_per_100k "$line")"
  record "paho_b_cpu_q$1" "$(per_100k "$(seconds_of $(($(cpu_ticks "$pid_b") - before_b)))")"
  log "library QoS $1: raw $raw readings/s, Paho $(field rate "$line") readings/s"
  stop "$pid_b"
}

# --- 2. latency at 1,000 readings/s ----------------------------------------------
# Each stream starts with LATENCY_WARMUP readings (1 s) left out of the
# percentiles and reported apart as the edge's worst: the first burst after
# an idle link meets Paho's receive thread, which sleeps 100 ms after every
# second without input (MQTTAsync_cycle in paho.mqtt.c 1.3), so the broker's
# acknowledgements wait and, once the Receive Maximum (mosquitto: 20) is in
# flight, so do the publishes. The steady stream is what the percentiles show.
latency_total=$((latency_readings + latency_warmup))
record_latency() { # $1: path; uses `line`
  local q
  for q in p50_us p99_us p999_us warmup_max_us; do record "lat_$1_$q" "$(field "$q" "$line")"; done
  log "latency $1: p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us, p99.9 $(field p999_us "$line") us; first second's worst $(field warmup_max_us "$line") us"
}
latency_run() { # $1: path
  setup_path "$1" 1
  run_sub "$work/sub.out" --count "$latency_total" --warmup "$latency_warmup" --qos 0 --timeout 300 \
    --trace "$work/latency-$1.trace"
  "$bin/bench_mqtt" pub --port "$port_a" --count "$latency_total" --qos 1 --rate 1000 >/dev/null
  local line
  finish_sub "$work/sub.out"
  record_latency "$1"
  teardown_path
}

# The same stream from a sensor plugin inside gatewayd (test_emitter stamps
# each reading when it emits it): what a user of gatewayd runs, a plugin
# reading the sensor, against a sensor publishing to a local broker A that
# bridges. The mqtt_local path above is the bridge's path with gatewayd
# added after A, so its latency cannot be lower than the bridge's.
latency_plugin_run() {
  rm -rf "$work/state" "$work/run"
  : >"$work/b.log"
  start_broker b "$port_b" ""
  run_sub "$work/sub.out" --count "$latency_total" --warmup "$latency_warmup" --qos 0 --timeout 300 \
    --trace "$work/latency-plugin.trace"
  write_gatewayd_config "$work/latency.toml" "$(emitter_sensor "$latency_total" 1000)" 1
  start_gatewayd "$work/latency.toml"
  local line
  finish_sub "$work/sub.out"
  record_latency plugin
  record lat_plugin_switches "$(awk -v s="$(switches "$pid_gw")" -v n="$latency_total" 'BEGIN {printf "%.2f", s / n}')"
  log "latency plugin: gatewayd's voluntary context switches per reading by thread: $(switches_by_thread "$pid_gw" "$latency_total")"
  stop "$pid_gw"; pid_gw=""; stop "$pid_b"
}

# --- 3. and 4. memory, backlog and drain ---------------------------------------------
memory_run() { # $1: path
  setup_path "$1" 1 persist
  local fwd line rss_samples=()
  fwd=$(forwarder_pid "$1")
  # a persistent session on B, so B keeps what arrives while the subscriber reconnects
  run_sub "$work/sub.out" --count "$rate10k_readings" --qos 1 --id bench-drain --persistent --timeout 300
  sleep 2
  record "hwm_idle_$1" "$(kib "$fwd" VmHWM)"
  "$bin/bench_mqtt" pub --port "$port_a" --count "$rate10k_readings" --qos 1 --rate 10000 >/dev/null &
  local pub_pid=$!
  while kill -0 "$pub_pid" 2>/dev/null; do rss_samples+=("$(kib "$fwd" VmRSS)"); sleep 0.5; done
  wait "$pub_pid"
  finish_sub "$work/sub.out"
  record "hwm_10k_$1" "$(kib "$fwd" VmHWM)"
  record "rss_10k_$1" "$(median "${rss_samples[@]}")"

  stop "$pid_b" # the cloud goes away
  "$bin/bench_mqtt" pub --port "$port_a" --count "$backlog" --qos 1 >/dev/null
  if [ "$1" = gatewayd ]; then
    local deadline=$((SECONDS + 600)) q=""
    until [ -n "$q" ] && [ "$q" -ge "$backlog" ]; do
      [ $SECONDS -lt $deadline ] || { log "gatewayd queued ${q:-?} of $backlog"; exit 1; }
      sleep 0.2; q=$(bench_status_number "$work/run/gatewayd.sock" queued)
    done
  fi
  sleep 1
  record "hwm_backlog_$1" "$(kib "$fwd" VmHWM)"
  record "rss_backlog_$1" "$(kib "$fwd" VmRSS)"

  start_broker b "$port_b" "" persist # the cloud is back
  run_sub "$work/sub.out" --count "$backlog" --qos 1 --id bench-drain --persistent --timeout 900 --connect-for 10
  finish_sub "$work/sub.out"
  record "drain_$1" "$(field arrival_rate "$line")"
  record "rss_drained_$1" "$(kib "$fwd" VmRSS)"
  log "memory $1: peak RSS $(kib "$fwd" VmHWM) KiB, drain $(field arrival_rate "$line") readings/s"
  teardown_path
}

# --- 5. instructions per reading (callgrind, counters zeroed before and dumped after the load) ----
callgrind_total() { # $1: pid; dumps and prints the instructions since the last zeroing
  callgrind_control -d "$1" >/dev/null 2>&1
  local f
  f=$(ls "$work"/callgrind.out."$1".* | sort -t. -k4 -n | tail -1)
  awk '/^(summary|totals):/ {print $2; exit}' "$f"
}
callgrind_run() { # $1: path
  rm -rf "$work/state" "$work/run" "$work"/callgrind.out.*
  : >"$work/a.log"; : >"$work/b.log"
  local cg="valgrind --tool=callgrind --callgrind-out-file=$work/callgrind.out.%p"
  start_broker b "$port_b" ""
  local mark
  mark=$(broker_log_mark b)
  if [ "$1" = bridge ]; then
    BROKER_WRAPPER=$cg start_broker a "$port_a" 1
    wait_bridge "$mark"
  else
    BROKER_WRAPPER=$cg start_broker a "$port_a" ""
    write_gatewayd_config "$work/gatewayd.toml" "$(mqtt_local_sensor 1)" 1
    GATEWAYD_WRAPPER=$cg start_gatewayd "$work/gatewayd.toml"
  fi
  run_sub "$work/sub.out" --count "$callgrind_readings" --qos 0 --timeout 600
  callgrind_control -z "$pid_a" >/dev/null 2>&1
  if [ "$1" = gatewayd ]; then callgrind_control -z "$pid_gw" >/dev/null 2>&1; fi
  "$bin/bench_mqtt" pub --port "$port_a" --count "$callgrind_readings" --qos 1 ${CALLGRIND_RATE:+--rate "$CALLGRIND_RATE"} --timeout 600 >/dev/null
  finish_sub "$work/sub.out"
  local ir_a
  ir_a=$(callgrind_total "$pid_a")
  if [ "$1" = bridge ]; then
    results[ir_bridge]=$(awk -v i="$ir_a" -v n="$callgrind_readings" 'BEGIN {printf "%.0f", i / n}')
  else
    results[ir_a_serving]=$(awk -v i="$ir_a" -v n="$callgrind_readings" 'BEGIN {printf "%.0f", i / n}')
    results[ir_gatewayd]=$(awk -v i="$(callgrind_total "$pid_gw")" -v n="$callgrind_readings" 'BEGIN {printf "%.0f", i / n}')
    # Who spent them: gatewayd and its plugins, SQLite, Paho, each with the libc/libstdc++ it called.
    local groups
    groups=$(python3 bench/callgrind_objects.py --readings "$callgrind_readings" \
      "$(ls "$work"/callgrind.out."$pid_gw".* | sort -t. -k4 -n | tail -1)")
    for g in gatewayd SQLite Paho; do
      results[ir_own_$g]=$(sed -n "s/^$g: own \([0-9]*\), runtime \([0-9]*\).*/\1/p" <<<"$groups")
      results[ir_rt_$g]=$(sed -n "s/^$g: own \([0-9]*\), runtime \([0-9]*\).*/\2/p" <<<"$groups")
    done
  fi
  teardown_path
}

# --- 6. after an outage: the newest reading's age while the backlog drains ------------
# REPLAY_RATE readings/s into A all along; B (the cloud) is down for OUTAGE
# seconds in the middle. The subscriber keeps a persistent session on B and
# reconnects when B is back; it reports the drain (from the first arrival
# after the outage until every reading emitted before it is in) and the
# newest reading's age sampled every 100 ms through it.
replay_run() { # $1: oldest-first|live-first
  setup_path gatewayd 1 persist "replay = \"$1\""
  # live before the outage, and after it for long enough to cover the drain
  local before=$((outage < 10 ? outage : 10)) tail=$((outage / 10 + 5)) line
  local total=$((replay_rate * (before + outage + tail)))
  run_sub "$work/replay.out" --count "$total" --qos 1 --id bench-replay --persistent \
    --timeout $((before + outage + tail + 300)) --reconnect-for $((outage + 60))
  "$bin/bench_mqtt" pub --port "$port_a" --count "$total" --qos 1 --rate "$replay_rate" >/dev/null &
  local pub_pid=$!
  pids+=("$pub_pid")
  sleep "$before"
  stop "$pid_b" # the cloud goes away
  log "replay $1: the cloud is down for $outage s"
  sleep "$outage"
  start_broker b "$port_b" "" persist # and is back
  wait "$pub_pid"
  forget "$pub_pid"
  finish_sub "$work/replay.out"
  local k
  for k in backlog drain_s newest_age_p50_ms newest_age_max_ms; do results[replay_${k}_$1]=$(field "$k" "$line"); done
  log "replay $1: $(field backlog "$line") readings drained in $(field drain_s "$line") s; newest reading's age" \
    "$(field newest_age_p50_ms "$line") ms median, $(field newest_age_max_ms "$line") ms at most"
  teardown_path
}

log "brokers A 127.0.0.1:$port_a, B 127.0.0.1:$port_b; $runs runs; work $work"
part() { [[ " $parts " == *" $1 "* ]]; }
for run in $(seq "$runs"); do
  log "run $run of $runs"
  for qos in 0 1; do
    if part forward; then forward_run bridge "$qos"; forward_run gatewayd "$qos"; fi
    if part ceiling; then ceiling_run "$qos"; fi
    if part library; then library_run "$qos"; fi
  done
  if part batch; then for b in 1 10 100; do batch_run "$b"; done; fi
  if part latency; then latency_run bridge; latency_run gatewayd; latency_plugin_run; fi
  if part memory; then memory_run bridge; memory_run gatewayd; fi
done
if part callgrind; then
  callgrind_run bridge
  callgrind_run gatewayd
fi
if part replay; then
  replay_run oldest-first
  replay_run live-first
fi

# --- the table -----------------------------------------------------------------
num() { # 1234567 -> 1,234,567
  awk -v v="$1" 'BEGIN {if (v == "-" || v == "") {print "-"; exit}
    s = sprintf("%.0f", v); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s}'
}
mib() { awk -v v="$1" 'BEGIN {if (v == "-" || v == "") print "-"; else printf "%.1f MiB", v / 1024}'; }
ms() { awk -v v="$1" 'BEGIN {printf "%.2f", v / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f×", a / b; else print "-"}'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a + b}'; }

declare -A box busy bound
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "gatewayd $("$bin/gatewayd" --version 2>/dev/null | head -1) vs mosquitto $(mosquitto -h 2>/dev/null | awk 'NR == 1 {print $3}') bridge;" \
  "$(nproc) × $cpu_model, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r); $(date -u +%F);" \
  "medians of $runs runs; $readings readings of 64 bytes per rate run"
echo
echo "| measure | mosquitto bridge | gatewayd | gatewayd / bridge |"
echo "|---|---|---|---|"
if part forward; then
  for q in 0 1; do
    echo "| forward rate QoS $q, readings/s | $(num "$(med rate_bridge_q$q)") | $(num "$(med rate_gatewayd_q$q)") | $(ratio "$(med rate_gatewayd_q$q)" "$(med rate_bridge_q$q)") |"
  done
fi
if part ceiling; then
  echo "| gatewayd ceiling (in-process plugin, no broker A), QoS 0 / QoS 1, readings/s | - | $(num "$(med ceiling_q0)") / $(num "$(med ceiling_q1)") | |"
fi
if part latency; then
  echo "| latency at 1,000 readings/s (QoS 1), p50 / p99 / p99.9, ms | $(ms "$(med lat_bridge_p50_us)") / $(ms "$(med lat_bridge_p99_us)") / $(ms "$(med lat_bridge_p999_us)") | $(ms "$(med lat_gatewayd_p50_us)") / $(ms "$(med lat_gatewayd_p99_us)") / $(ms "$(med lat_gatewayd_p999_us)") | $(ratio "$(med lat_gatewayd_p99_us)" "$(med lat_bridge_p99_us)") (p99) |"
  echo "| the same from a sensor plugin in gatewayd (no broker A), p50 / p99 / p99.9, ms | | $(ms "$(med lat_plugin_p50_us)") / $(ms "$(med lat_plugin_p99_us)") / $(ms "$(med lat_plugin_p999_us)") | $(ratio "$(med lat_plugin_p99_us)" "$(med lat_bridge_p99_us)") (p99) |"
  echo "| gatewayd's voluntary context switches per reading, the plugin stream above (each a thread going to sleep) | | $(med lat_plugin_switches) | |"
  echo "| the first second of each stream (left out above), worst, ms: bridge / gatewayd mqtt_local, plugin | $(ms "$(med lat_bridge_warmup_max_us)") | $(ms "$(med lat_gatewayd_warmup_max_us)"), $(ms "$(med lat_plugin_warmup_max_us)") | |"
fi
if part memory; then
  echo "| peak RSS idle (bridge: broker A) | $(mib "$(med hwm_idle_bridge)") | $(mib "$(med hwm_idle_gatewayd)") | $(ratio "$(med hwm_idle_gatewayd)" "$(med hwm_idle_bridge)") |"
  echo "| peak RSS at 10,000 readings/s | $(mib "$(med hwm_10k_bridge)") | $(mib "$(med hwm_10k_gatewayd)") | $(ratio "$(med hwm_10k_gatewayd)" "$(med hwm_10k_bridge)") |"
  echo "| peak RSS with $(num "$backlog") readings queued (B down) | $(mib "$(med hwm_backlog_bridge)") (in memory) | $(mib "$(med hwm_backlog_gatewayd)") (on disk) | $(ratio "$(med hwm_backlog_gatewayd)" "$(med hwm_backlog_bridge)") |"
  echo "| RSS once the backlog drained | $(mib "$(med rss_drained_bridge)") | $(mib "$(med rss_drained_gatewayd)") | |"
  echo "| backlog drain, readings/s | $(num "$(med drain_bridge)") | $(num "$(med drain_gatewayd)") | $(ratio "$(med drain_gatewayd)" "$(med drain_bridge)") |"
  if part forward; then
    echo "| drain / live QoS 1 forward rate | $(ratio "$(med drain_bridge)" "$(med rate_bridge_q1)") | $(ratio "$(med drain_gatewayd)" "$(med rate_gatewayd_q1)") | |"
  fi
fi
if part forward; then
  for q in 0 1; do
    echo "| CPU s per 100,000 readings QoS $q: forwarder (bridge: all of A) | $(med cpu_bridge_q$q) | $(med cpu_gatewayd_q$q) | $(ratio "$(med cpu_gatewayd_q$q)" "$(med cpu_bridge_q$q)") |"
    echo "| CPU s per 100,000 readings QoS $q: broker A + forwarder | $(med cpu_bridge_q$q) | $(sum "$(med cpu_a_serving_q$q)" "$(med cpu_gatewayd_q$q)") | $(ratio "$(sum "$(med cpu_a_serving_q$q)" "$(med cpu_gatewayd_q$q)")" "$(med cpu_bridge_q$q)") |"
    for p in bridge gatewayd; do
      box[$p]=$(sum "$(med cpu_others_${p}_q$q)" "$(med cpu_${p}_q$q)")
      busy[$p]=$(awk -v c="${box[$p]}" -v r="$(med rate_${p}_q$q)" 'BEGIN {printf "%.2f", c * r / 100000}')
    done
    echo "| CPU s per 100,000 readings QoS $q: every process (publisher, A, forwarder, B, subscriber); cores busy | ${box[bridge]}; ${busy[bridge]} | ${box[gatewayd]}; ${busy[gatewayd]} | $(ratio "${box[gatewayd]}" "${box[bridge]}") |"
  done
fi
if part callgrind; then
  ir_box=$((${results[ir_a_serving]} + ${results[ir_gatewayd]}))
  echo "| instructions per reading QoS 1 (callgrind, $(num "$callgrind_readings") readings): forwarder | $(num "${results[ir_bridge]}") | $(num "${results[ir_gatewayd]}") | $(ratio "${results[ir_gatewayd]}" "${results[ir_bridge]}") |"
  echo "| instructions per reading QoS 1: broker A + forwarder | $(num "${results[ir_bridge]}") | $(num "$ir_box") | $(ratio "$ir_box" "${results[ir_bridge]}") |"
  ours=$(( ${results[ir_own_gatewayd]:-0} + ${results[ir_rt_gatewayd]:-0} + ${results[ir_own_SQLite]:-0} + ${results[ir_rt_SQLite]:-0} ))
  echo "| of the forwarder's, outside Paho: gatewayd $(num "${results[ir_own_gatewayd]:-}") + libc/libstdc++ from it $(num "${results[ir_rt_gatewayd]:-}") + SQLite $(num "${results[ir_own_SQLite]:-}") + libc from SQLite $(num "${results[ir_rt_SQLite]:-}") | - | $(num "$ours") | |"
  echo "| of the forwarder's, Paho (with the libc it called) | - | $(num "$(( ${results[ir_own_Paho]:-0} + ${results[ir_rt_Paho]:-0} ))") | |"
fi
if part batch; then
  for b in 1 10 100; do
    echo "| batch max_readings = $b, linger 5 ms (QoS 1): readings/s; messages per 1,000 readings; forwarder CPU s per 100,000 readings | $(num "$(med rate_bridge_q1)"); 1,000; $(med cpu_bridge_q1) | $(num "$(med batch_rate_$b)"); $(med batch_msgs_$b); $(med batch_cpu_$b) | $(ratio "$(med batch_rate_$b)" "$(med rate_bridge_q1)") |"
  done
fi
if part replay; then
  for order in oldest-first live-first; do
    echo "| replay = \"$order\" after a $outage s outage at $replay_rate readings/s ($(num "${results[replay_backlog_$order]}") behind): drain s; newest reading's age during it, median / max, ms | - | ${results[replay_drain_s_$order]}; $(num "${results[replay_newest_age_p50_ms_$order]}") / $(num "${results[replay_newest_age_max_ms_$order]}") | |"
  done
fi
if part library; then
  echo
  echo "| publisher alone into one mosquitto, window 20 | QoS 0 readings/s | QoS 0 CPU s per 100,000 | QoS 1 readings/s | QoS 1 CPU s per 100,000 |"
  echo "|---|---|---|---|---|"
  echo "| raw MQTT over a socket (bench_mqtt) | $(num "$(med raw_rate_q0)") | $(med raw_cpu_q0) | $(num "$(med raw_rate_q1)") | $(med raw_cpu_q1) |"
  echo "| Paho C $(dpkg-query -W -f='${Version}' libpaho-mqtt1.3 2>/dev/null || echo '?') (Debian) through gatewayd's PahoClient | $(num "$(med paho_rate_q0)") | $(med paho_cpu_q0) | $(num "$(med paho_rate_q1)") | $(med paho_cpu_q1) |"
  echo "| the same Paho run, with broker B's CPU | - | $(sum "$(med paho_cpu_q0)" "$(med paho_b_cpu_q0)") | - | $(sum "$(med paho_cpu_q1)" "$(med paho_b_cpu_q1)") |"
  if part forward; then
    echo "| gatewayd forwarding (mqtt_local -> outbox -> MQTT 5) / Paho alone | $(ratio "$(med rate_gatewayd_q0)" "$(med paho_rate_q0)") | $(ratio "$(med cpu_gatewayd_q0)" "$(med paho_cpu_q0)") | $(ratio "$(med rate_gatewayd_q1)" "$(med paho_rate_q1)") | $(ratio "$(med cpu_gatewayd_q1)" "$(med paho_cpu_q1)") |"
    # What the forward run's other four processes leave of this box's cores, at best:
    # the rate if gatewayd cost no CPU at all (the processes share $(nproc) cores).
    for q in 0 1; do
      bound[$q]=$(awk -v c="$(med cpu_others_gatewayd_q$q)" -v k="$(nproc)" 'BEGIN {if (c > 0) printf "%.0f", k * 100000 / c; else print "-"}')
    done
    echo "| forward rate if gatewayd cost nothing: $(nproc) cores / the CPU of publisher, A, B and subscriber; / Paho alone | $(num "${bound[0]}"); $(ratio "${bound[0]}" "$(med paho_rate_q0)") | - | $(num "${bound[1]}"); $(ratio "${bound[1]}" "$(med paho_rate_q1)") | - |"
  fi
fi
