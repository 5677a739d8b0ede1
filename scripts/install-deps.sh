#!/bin/sh
# Install what pcid needs to build, run and test on Debian 12 (bookworm). Idempotent.
# clang and libclang-rt-dev (libFuzzer, sanitizer runtimes; only a Recommends of clang) are for
# tests/fuzz/. systemd and procps are for the tests of the units (tests/systemd/: systemd-analyze, a
# manager to boot, systemd-socket-activate, /bin/kill for ExecReload=).
# Uses sudo when not run as root. Set PCID_DEPS_EXTRA to add packages (e.g. for CI).
set -eu

PKGS="meson ninja-build gcc pkg-config libc6-dev linux-libc-dev
      libjansson-dev libmicrohttpd-dev libsystemd-dev libcurl4-openssl-dev liburcu-dev
      libedit-dev libcmocka-dev python3 python3-yaml python3-jsonschema scdoc curl pciutils
      clang-format clang libclang-rt-dev git systemd procps ${PCID_DEPS_EXTRA:-}"

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi

missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
