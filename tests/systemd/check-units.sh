#!/bin/sh
# SPDX-License-Identifier: MIT
# The units as `meson install` puts them, checked without a running manager:
#   check-units.sh BUILDDIR security   systemd-analyze security --offline=yes --threshold=10
#                                      (exit 1 above an exposure of 1.0)
#   check-units.sh BUILDDIR verify     systemd-analyze verify, with the files at their installed
#                                      paths (a private mount namespace layers the install over
#                                      /usr; needs root)
# Exit 77 (skipped) when a tool or root is missing; PCID_REQUIRE_SYSTEMD_TEST=1 makes that a
# failure (CI).
set -eu
BUILD=$1
WHAT=$2

skip() {
    echo "SKIP: $1"
    [ "${PCID_REQUIRE_SYSTEMD_TEST:-0}" = 1 ] && exit 1
    exit 77
}

command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
command -v meson >/dev/null || skip "meson not installed"
DEST=$(mktemp -d)
trap 'rm -rf "$DEST"' EXIT
meson install -C "$BUILD" --destdir "$DEST" --no-rebuild --quiet >/dev/null
SERVICE=$(find "$DEST" -path '*/systemd/system/pcid.service')
[ -n "$SERVICE" ] || { echo "pcid.service was not installed"; exit 1; }
UNITDIR=${SERVICE%/pcid.service}

case $WHAT in
security)
    systemd-analyze security --offline=yes --threshold=10 "$SERVICE"
    ;;
verify)
    [ "$(id -u)" = 0 ] || skip "verify needs root (a mount namespace to install into)"
    command -v unshare >/dev/null || skip "unshare not installed"
    HOSTDIR=${UNITDIR#"$DEST"}
    case $HOSTDIR in /usr/*) ;; *) skip "the prefix is outside /usr: cannot layer it over /usr" ;; esac
    # shellcheck disable=SC2016
    # verify exits 0 on warnings (an unknown key is one): any output fails too.
    unshare --mount --propagation private sh -eu -c '
        mount -t overlay overlay -o "lowerdir=$1/usr:/usr" /usr
        systemd-analyze verify --man=no "$2/pcid.service" "$2/pcid.socket" "$2/pcid-rest.socket"
    ' sh "$DEST" "$HOSTDIR" >"$DEST/verify.out" 2>&1 || { cat "$DEST/verify.out"; exit 1; }
    if [ -s "$DEST/verify.out" ]; then
        cat "$DEST/verify.out"
        echo "systemd-analyze verify: warnings above"
        exit 1
    fi
    echo "systemd-analyze verify: pcid.service pcid.socket pcid-rest.socket OK"
    ;;
*)
    echo "usage: check-units.sh BUILDDIR security|verify"
    exit 2
    ;;
esac
