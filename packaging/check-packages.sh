#!/usr/bin/env bash
# Builds the packages and checks what a user would get: the file lists of
# the .deb and .rpm against packaging/expected/, lintian with no errors,
# rpmlint with no errors (packaging/rpmlint.toml names what is filtered and
# why), and the unit's exposure in `systemd-analyze security --offline=true`
# at most 2.0. Prints the figures; exits non-zero on the first miss.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${PKG_BUILD_DIR:-build-packages}
PKG_BUILD_DIR=$build_dir bash packaging/build-packages.sh >/dev/null
cd "$build_dir"
version=$(sed -n 's/^CPACK_PACKAGE_VERSION:[A-Z]*=//p' CMakeCache.txt)
version=${version:-$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' CMakeCache.txt)}
deb=gatewayd_${version}-1_amd64.deb
deb_dev=gatewayd-dev_${version}-1_all.deb
rpm=gatewayd-${version}-1.x86_64.rpm
rpm_dev=gatewayd-devel-${version}-1.noarch.rpm
expected=$root/packaging/expected
fail=0

deb_files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' | sort; }
rpm_files() { rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$1" | awk '$1 !~ /^d/ && $2 !~ /\.build-id/ {print $2}' | sort; }
check_list() {
  local name=$1 actual=$2
  if diff -u "$expected/$name" <(echo "$actual") >/tmp/gatewayd-pkg-diff.$$; then
    echo "files of $name: $(echo "$actual" | wc -l), as expected"
  else
    echo "files of $name differ from packaging/expected/$name:"; cat /tmp/gatewayd-pkg-diff.$$; fail=1
  fi
  rm -f /tmp/gatewayd-pkg-diff.$$
}
check_list gatewayd.deb.files "$(deb_files "$deb")"
check_list gatewayd-dev.deb.files "$(deb_files "$deb_dev")"
check_list gatewayd.rpm.files "$(rpm_files "$rpm")"
check_list gatewayd-devel.rpm.files "$(rpm_files "$rpm_dev")"
echo "gatewayd depends: $(dpkg-deb -f "$deb" Depends)"

lintian_out=$(lintian --tag-display-limit 0 "$deb" "$deb_dev" 2>&1 | grep -v '^running with root' || true)
echo "lintian: $(echo "$lintian_out" | grep -c '^E:' || true) errors, $(echo "$lintian_out" | grep -c '^W:' || true) warnings"
[ -n "$lintian_out" ] && echo "$lintian_out"
if echo "$lintian_out" | grep -q '^E:'; then fail=1; fi

rpmlint_out=$(rpmlint -c "$root/packaging/rpmlint.toml" "$rpm" "$rpm_dev" 2>&1 || true)
echo "$rpmlint_out" | grep -E ': [EW]: |errors,' || true
if ! echo "$rpmlint_out" | grep -q ' 0 errors,'; then echo "rpmlint reports errors"; fail=1; fi

security=$(systemd-analyze security --offline=true "$root/systemd/gatewayd.service" 2>&1 | grep 'Overall exposure level')
echo "$security"
score=$(echo "$security" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
if ! awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'; then echo "exposure $score is over 2.0"; fail=1; fi

# The man page of the configuration is the README's tables.
python3 "$root/scripts/gen-manpage.py" --check || fail=1
exit $fail
