#!/usr/bin/env bash
# Installs everything gatewayd needs to build, test and run its demo on Debian 12.
# Idempotent: packages already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libpaho-mqtt-dev libpaho-mqttpp-dev
  libtomlplusplus-dev
  libssl-dev libsystemd-dev libsqlite3-dev
  libboost-test-dev
  libmodbus-dev
  mosquitto mosquitto-clients
  python3 python3-paho-mqtt
  python3-pymodbus python3-serial socat
  openssl procps iproute2
  valgrind
  clang libclang-rt-14-dev clang-format-14 clang-tidy-14
  dpkg-dev rpm lintian rpmlint
  debootstrap systemd-container
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# Node.js runs aedes, a broker other than mosquitto, for the interoperability tests.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
  else
    SUDO=
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian mosquitto package starts a broker on port 1883 where systemd runs; we start our own.
fi

# aedes for the tests, pinned by tests/support/node/package-lock.json.
node_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/support/node"
if [ ! -d "$node_dir/node_modules/aedes" ]; then
  echo "install-deps: npm ci in tests/support/node (aedes)"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "install-deps: done"
