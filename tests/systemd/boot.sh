#!/bin/sh
# SPDX-License-Identifier: MIT
# PID 1 of fresh PID, mount and cgroup namespaces (test_systemd.py starts it with unshare):
# make a private system around the host's files and exec systemd as its manager. Recipe and
# reasons: ../../../shared/notes/systemd-in-ci.md (in the project: docs/systemd.md, "Tests").
#
#   boot.sh ROOT TARGET SYSUSERS
# ROOT holds `meson install --destdir` output (ROOT/usr/...) and the test's extra units
# (ROOT/run-units/...); TARGET is the small target to boot; SYSUSERS the installed sysusers.d
# file (its path once ROOT/usr is layered over /usr).
#
# Nothing of the host is written: /run, /tmp and /var/lib/pcid are fresh, /etc and /var are
# overlays whose changes live in a tmpfs, /usr gets ROOT/usr layered on top read-only.
set -eu
ROOT=$1
TARGET=$2
SYSUSERS=$3

mount --make-rprivate /
# The kernel's settings and the host's cgroup v1 mounts stay out of reach.
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount --bind /sys /sys
mount -o remount,bind,ro /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup

# Scratch space for the overlays, then the overlays (before /tmp is replaced).
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/.ov/etc/u /run/.ov/etc/w /run/.ov/var/u /run/.ov/var/w
mount -t overlay overlay -o "lowerdir=$ROOT/usr:/usr" /usr
mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/.ov/etc/u,workdir=/run/.ov/etc/w /etc
mount -t overlay overlay -o lowerdir=/var,upperdir=/run/.ov/var/u,workdir=/run/.ov/var/w /var
# The test's target and drop-ins, while ROOT is still reachable (it may be under /tmp).
mkdir -p /run/systemd/system.control /run/systemd/system
cp -r "$ROOT/run-units/." /run/systemd/system/
mount -t tmpfs -o mode=1777 tmpfs /tmp

# The pcid user, from the project's sysusers.d file (into the /etc overlay).
systemd-sysusers "$SYSUSERS"

# What a container does not need or cannot do.
for u in systemd-modules-load.service kmod-static-nodes.service systemd-remount-fs.service \
         systemd-sysctl.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
         systemd-timesyncd.service systemd-pstore.service systemd-firstboot.service \
         getty.target console-getty.service timers.target; do
    ln -sf /dev/null "/run/systemd/system.control/$u"
done

exec env -i container=pcid-test PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /lib/systemd/systemd --system "--unit=$TARGET" --log-target=journal
