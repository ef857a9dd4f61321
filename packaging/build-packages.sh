#!/usr/bin/env bash
# Builds the .deb and .rpm packages of gatewayd (and its -dev/-devel SDK
# package) from this tree, into build-packages/ (or $PKG_BUILD_DIR):
#   bash packaging/build-packages.sh
# A Release build without tests, installed under /usr; CPack computes the
# dependencies (dpkg-shlibdeps, rpmbuild's automatic requirements).
#   VERSION  override the package version (the upgrade test builds an older one)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build_dir=${PKG_BUILD_DIR:-build-packages}
extra=()
if [ -n "${VERSION:-}" ]; then extra+=(-DCPACK_PACKAGE_VERSION="$VERSION"); fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DGATEWAYD_BUILD_TESTS=OFF -DGATEWAYD_BUILD_BENCH=OFF "${extra[@]}" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
(cd "$build_dir" && cpack -G "DEB;RPM" >/dev/null 2>&1) || { echo "cpack failed; see $build_dir/_CPack_Packages"; exit 1; }
ls -1 "$build_dir"/*.deb "$build_dir"/*.rpm
