# Helpers shared by the benchmark scripts (sourced, not run).
#   bench_gatewayd   the gatewayd binary the status queries use (set by the caller)

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The first loopback port from $1 (up to $1 + 200) where nothing listens.
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do port_busy "$p" || { echo "$p"; return; }; done
  echo "bench: no free loopback port from $1" >&2
  exit 1
}

# $1: socket, $2: key of the first upstream in `gatewayd status --json`;
# empty when the daemon does not answer.
bench_status_number() {
  "$bench_gatewayd" status --json --socket "$1" 2>/dev/null |
    grep -o "\"$2\": *[0-9]*" | head -1 | grep -o '[0-9]*$' || true
}
