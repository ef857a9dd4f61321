#!/usr/bin/env bash
# Installs the .deb into a real Debian 12 booted with systemd as PID 1
# (debootstrap + systemd-nspawn -b, private network: its own loopback with
# its own mosquitto) and checks what a user would see; then the .rpm under
# the same systemd. Every wait is
# bounded; the container is stopped and removed whatever happens.
#   bash packaging/boot-test.sh [PKG_BUILD_DIR]
# The root file system is cached in $BOOT_CACHE (default
# /var/cache/gatewayd-boot-test) between runs; it is built with the
# machine's apt sources.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
pkg_dir=$(cd "${1:-${PKG_BUILD_DIR:-build-packages}}" && pwd)
cache=${BOOT_CACHE:-/var/cache/gatewayd-boot-test}
work=$(mktemp -d /var/tmp/gatewayd-boot.XXXXXX)
machine=gwd-boot-$$
deb=$(ls "$pkg_dir"/gatewayd_*-1_amd64.deb | head -1)
rpm=$(ls "$pkg_dir"/gatewayd-*-1.x86_64.rpm | head -1)
nspawn_pid=
leader=

say() { echo "boot-test: $*"; }
fail() { echo "boot-test: FAILED: $*"; exit 1; }
cleanup() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill "$nspawn_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$nspawn_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The packages the .deb depends on, installed in the cached root so that
# the container needs no network.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | grep -v '^$' | sort | tr '\n' ',')
wanted="systemd,systemd-sysv,dbus,mosquitto,mosquitto-clients,rpm,${deps%,}"
if [ ! -f "$cache/.packages" ] || [ "$(cat "$cache/.packages")" != "$wanted" ]; then
  say "building a Debian 12 root with systemd in $cache (about a minute or three)"
  rm -rf "$cache"
  mkdir -p "$cache"
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  mirror=${mirror:-http://deb.debian.org/debian}
  if ! debootstrap --variant=minbase --include="$wanted" bookworm "$cache/root" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -5 "$cache/debootstrap.log"
    fail "debootstrap could not build a Debian 12 root from $mirror (is the archive reachable?)"
  fi
  echo "$wanted" >"$cache/.packages"
fi
say "copying the cached root"
cp -a "$cache/root" "$work/root"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$work/root/etc/hosts"
cp "$deb" "$work/root/root/gatewayd.deb"
cp "$rpm" "$work/root/root/gatewayd.rpm"
# "The previous version": the same files under a lower version number.
dpkg-deb -R "$deb" "$work/old"
sed -i 's/^Version: .*/Version: 0.0.9-1/' "$work/old/DEBIAN/control"
dpkg-deb -b "$work/old" "$work/root/root/gatewayd-old.deb" >/dev/null

boot() {
  systemd-nspawn -D "$work/root" -b --machine="$machine" --register=no --keep-unit --private-network -q \
    >"$work/console.log" 2>&1 &
  nspawn_pid=$!
  for _ in $(seq 1 150); do
    leader=$(pgrep -P "$nspawn_pid" | head -1 || true)
    if [ -n "$leader" ] && [ "$(in_container systemctl is-system-running 2>/dev/null || true)" = running ]; then return 0; fi
    sleep 0.2
  done
  fail "the container did not boot within 30 s: $(tail -3 "$work/console.log")"
}
in_container() { nsenter -t "$leader" -a -- "$@"; }
# Waits up to $1 seconds for "$2 ..." (a command in the container) to succeed.
wait_for() {
  local seconds=$1; shift
  local until=$((SECONDS + seconds))
  while [ $SECONDS -lt $until ]; do
    if in_container sh -c "$*" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}
main_pid() { in_container systemctl show -p MainPID --value gatewayd; }
readings() { in_container sh -c "cat /tmp/cloud.log 2>/dev/null | wc -l"; }

boot
say "booted: $(in_container systemctl --version | head -1)"
# The cloud: the container's own mosquitto, and a subscriber that notes what arrives.
subscribe() {
  wait_for 20 'systemctl is-active --quiet mosquitto && mosquitto_sub -h 127.0.0.1 -t probe -C 1 -W 1 -E' || fail "mosquitto is not up"
  in_container sh -c 'nohup mosquitto_sub -h 127.0.0.1 -v -t "telemetry/#" >> /tmp/cloud.log 2>/tmp/cloud.err &'
}
subscribe

start=$SECONDS
in_container env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /root/gatewayd.deb >"$work/apt.log" 2>&1 ||
  fail "apt-get install: $(tail -3 "$work/apt.log")"
installed=$SECONDS
wait_for 10 'systemctl is-active --quiet gatewayd' || fail "gatewayd is not active 10 s after install: $(in_container systemctl status gatewayd --no-pager | tail -5)"
say "apt-get install took $((installed - start)) s; gatewayd active $((SECONDS - installed)) s after it returned"
user=$(in_container stat -c %U "/proc/$(main_pid)")
[ "$user" = gatewayd ] || fail "runs as '$user', not gatewayd"
mode=$(in_container stat -c %a /var/lib/gatewayd)
[ "$mode" = 750 ] || fail "state directory mode $mode, not 750"
say "runs as $user; /var/lib/gatewayd mode $mode"
exposure=$(in_container systemd-analyze security gatewayd.service 2>/dev/null | grep 'Overall exposure level' || true)
score=$(echo "$exposure" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }' || fail "exposure of the running unit: ${exposure:-none}"
say "running unit: $exposure"
wait_for 30 'grep -q "^telemetry/" /tmp/cloud.log' ||
  fail "no reading reached the broker within 30 s: $(in_container cat /tmp/cloud.err; in_container journalctl -u gatewayd --no-pager | tail -5)"
say "readings reach the broker: $(in_container head -1 /tmp/cloud.log)"

# Reload: a changed sensor applies without a new main PID.
pid=$(main_pid)
in_container sed -i 's/^interval = "10s"/interval = "1s"/' /etc/gatewayd/gatewayd.toml
in_container systemctl reload gatewayd
wait_for 10 'journalctl -u gatewayd --no-pager | grep -q "configuration reloaded"' || fail "no reload in the journal"
[ "$(main_pid)" = "$pid" ] || fail "reload changed the main PID"
say "reload applied, main PID $pid kept"
# A broken reload keeps the running configuration; the journal says where.
in_container cp /etc/gatewayd/gatewayd.toml /tmp/good.toml
in_container sh -c 'printf "\n[[sensor]]\nname = \"x\"\nplugn = \"simulated\"\n" >> /etc/gatewayd/gatewayd.toml'
in_container systemctl reload gatewayd
wait_for 10 'journalctl -u gatewayd --no-pager | grep -q "gatewayd.toml:[0-9]*:[0-9]*: unknown key .plugn."' ||
  fail "the broken reload's file:line:column is not in the journal"
in_container systemctl is-active --quiet gatewayd || fail "a broken reload stopped the service"
say "broken reload refused: $(in_container journalctl -u gatewayd --no-pager | grep -o 'gatewayd.toml:[0-9]*:[0-9]*: unknown key.*' | head -1)"
# A restart with the broken file: exit 78 once, no restart loop.
in_container systemctl restart gatewayd 2>/dev/null || true
sleep 5
state=$(in_container systemctl show -p ActiveState --value gatewayd)
result=$(in_container systemctl show -p ExecMainStatus --value gatewayd)
restarts=$(in_container systemctl show -p NRestarts --value gatewayd)
[ "$state" = failed ] && [ "$result" = 78 ] && [ "$restarts" = 0 ] ||
  fail "broken restart: state $state, exit $result, restarts $restarts"
say "broken restart: exit $result, state $state, restarts $restarts"
in_container cp /tmp/good.toml /etc/gatewayd/gatewayd.toml
in_container systemctl restart gatewayd
wait_for 10 'systemctl is-active --quiet gatewayd' || fail "not active after the fix"

# Watchdog: a stopped main PID is killed and restarted; what was queued goes out after.
in_container systemctl stop mosquitto
wait_for 20 'gatewayd status --json | grep -q "\"queued\":[1-9]"' || fail "nothing queued while the broker was down"
pid=$(main_pid)
before=$(readings)
in_container systemctl start mosquitto
subscribe
in_container sh -c "kill -STOP $pid"
stopped_at=$SECONDS
wait_for 40 "[ \"\$(systemctl show -p MainPID --value gatewayd)\" != \"$pid\" ] && systemctl is-active --quiet gatewayd" ||
  fail "the watchdog did not restart a stopped gatewayd within 40 s"
took=$((SECONDS - stopped_at))
[ "$took" -le 35 ] || fail "the watchdog restart took $took s, over WatchdogSec + 5 s"
say "watchdog restart $took s after SIGSTOP (WatchdogSec=30s)"
wait_for 20 'gatewayd status --json | grep -q "\"queued\":0"' || fail "the queue was not delivered after the restart"
say "readings delivered across the restart: $(( $(readings) - before ))"

# Credentials: a password from LoadCredential= in a drop-in.
in_container sh -c 'printf "gatewayd:s3cret\n" > /etc/mosquitto/passwd && mosquitto_passwd -U /etc/mosquitto/passwd'
in_container sh -c 'printf "listener 1884 127.0.0.1\nallow_anonymous false\npassword_file /etc/mosquitto/passwd\n" > /etc/mosquitto/conf.d/auth.conf'
in_container systemctl restart mosquitto
in_container sh -c 'printf "s3cret\n" > /root/broker.pass && chmod 600 /root/broker.pass'
in_container mkdir -p /etc/systemd/system/gatewayd.service.d
in_container sh -c 'printf "[Service]\nLoadCredential=broker-password:/root/broker.pass\n" > /etc/systemd/system/gatewayd.service.d/credential.conf'
in_container sed -i 's|^url = "tcp://127.0.0.1:1883"|url = "tcp://127.0.0.1:1884"\nusername = "gatewayd"\npassword_file = "credential:broker-password"|' /etc/gatewayd/gatewayd.toml
in_container systemctl daemon-reload
in_container systemctl restart gatewayd
wait_for 20 'gatewayd status --json | grep -q "\"state\":\"online\""' || fail "no connection with the credential: $(in_container journalctl -u gatewayd --no-pager | tail -3)"
say "authenticated with a password from LoadCredential="
in_container rm /etc/mosquitto/conf.d/auth.conf
in_container systemctl restart mosquitto

# Purge removes the unit's files, the state and the configuration.
in_container env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq gatewayd >/dev/null 2>&1 || fail "apt-get purge"
for path in /lib/systemd/system/gatewayd.service /var/lib/gatewayd /etc/gatewayd/gatewayd.toml; do
  in_container test -e "$path" && fail "$path is still there after purge"
done
say "purge removed the unit, /var/lib/gatewayd and /etc/gatewayd/gatewayd.toml"

# Upgrade from the previous version keeps an edited conffile and the queue.
apt_quiet() { in_container env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >"$work/apt.log" 2>&1; }
apt_quiet /root/gatewayd-old.deb || fail "installing version 0.0.9: $(tail -3 "$work/apt.log")"
wait_for 10 'systemctl is-active --quiet gatewayd' || fail "0.0.9 is not active"
in_container sed -i 's/^names = \["demo01"\]/names = ["edited01"]/' /etc/gatewayd/gatewayd.toml
in_container systemctl stop mosquitto
in_container systemctl reload gatewayd
wait_for 30 'gatewayd status --json | grep -q "\"queued\":[1-9]"' || fail "nothing queued before the upgrade"
queued=$(in_container gatewayd status --json | grep -o '"queued":[0-9]*' | head -1 | cut -d: -f2)
apt_quiet /root/gatewayd.deb || fail "upgrading: $(tail -3 "$work/apt.log")"
in_container dpkg-query -W -f '${Version}' gatewayd | grep -q '^0.1' || fail "not upgraded"
in_container grep -q 'names = \["edited01"\]' /etc/gatewayd/gatewayd.toml || fail "the upgrade lost the conffile edit"
wait_for 10 'systemctl is-active --quiet gatewayd' || fail "not active after the upgrade"
after=$(in_container gatewayd status --json | grep -o '"queued":[0-9]*' | head -1 | cut -d: -f2)
[ "${after:-0}" -ge "$queued" ] || fail "the upgrade lost queued readings ($queued before, $after after)"
before=$(readings)
in_container systemctl start mosquitto
subscribe
wait_for 30 'gatewayd status --json | grep -q "\"queued\":0"' || fail "the queue kept across the upgrade was not delivered"
say "upgrade 0.0.9 -> $(in_container dpkg-query -W -f '${Version}' gatewayd): conffile edit kept, $queued queued readings kept and delivered ($(( $(readings) - before )) arrived)"
# The .rpm under the same systemd: its scriptlets create the user, enable and
# start the service, and stop it on erase. No RPM distribution can be had
# here, so its dependencies are not resolved (--nodeps: Debian's libraries
# stand in for them); what is checked is the package's files and scriptlets.
in_container env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq gatewayd >/dev/null 2>&1 || fail "apt-get purge before the .rpm"
in_container userdel gatewayd 2>/dev/null || true
in_container groupdel gatewayd 2>/dev/null || true
in_container systemctl daemon-reload
start=$SECONDS
in_container rpm -i --nodeps /root/gatewayd.rpm >"$work/rpm.log" 2>&1 || fail "rpm -i: $(tail -3 "$work/rpm.log")"
installed=$SECONDS
wait_for 10 'systemctl is-active --quiet gatewayd' ||
  fail "the .rpm's gatewayd is not active 10 s after rpm -i: $(in_container systemctl status gatewayd --no-pager | tail -5)"
active_after=$((SECONDS - installed))
user=$(in_container stat -c %U "/proc/$(main_pid)")
[ "$user" = gatewayd ] || fail "the .rpm's service runs as '$user', not gatewayd"
# Debian 12's /lib is a link to /usr/lib, so systemd may name either path.
unit=$(in_container readlink -f "$(in_container systemctl show -p FragmentPath --value gatewayd)")
[ "$unit" = /usr/lib/systemd/system/gatewayd.service ] || fail "the .rpm's unit is $unit"
enabled=$(in_container systemctl is-enabled gatewayd || true)
[ "$enabled" = enabled ] || fail "rpm -i left the service $enabled"
before=$(readings)
wait_for 30 "[ \$(wc -l < /tmp/cloud.log) -gt $before ]" || fail "no reading from the .rpm's service reached the broker"
say "rpm -i took $((installed - start)) s; active $active_after s after, $enabled, as $user, unit $unit; readings arrive"
in_container rpm -e gatewayd >"$work/rpm.log" 2>&1 || fail "rpm -e: $(tail -3 "$work/rpm.log")"
wait_for 10 '! systemctl is-active --quiet gatewayd' || fail "rpm -e left gatewayd running"
in_container test -e /usr/lib/systemd/system/gatewayd.service && fail "rpm -e left the unit"
in_container test -d /var/lib/gatewayd || fail "rpm -e removed the state (RPM has no purge; it should stay)"
say "rpm -e stopped the service and removed the unit; /var/lib/gatewayd stays"
say "all checks passed"
