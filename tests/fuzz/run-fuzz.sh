#!/bin/bash
# Fuzz every target for SECONDS each with the libFuzzer build in BUILD_DIR (meson -Dfuzz=true),
# starting from a copy of its committed seed corpus. Prints the executions per target; exits 1
# on any crash, leak, timeout or sanitizer report (the reproducer is kept in BUILD_DIR/artifacts).
# Usage: tests/fuzz/run-fuzz.sh BUILD_DIR [SECONDS]
set -u
build=${1:?usage: run-fuzz.sh BUILD_DIR [SECONDS]}
secs=${2:-10}
src=$(cd "$(dirname "$0")" && pwd)
work=$build/fuzz-run
rm -rf "$work" && mkdir -p "$work/artifacts"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=0
for t in fuzz-qmp fuzz-text fuzz-qtest fuzz-config fuzz-description fuzz-snapshot fuzz-config-file \
    fuzz-rest; do
    cp -r "$src/corpus/$t" "$work/$t"
    "$build/tests/fuzz/$t" "$work/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" >"$work/$t.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
    echo "$t: ${execs:-?} executions in ${secs} s, exit $rc"
    if [ $rc -ne 0 ]; then
        failed=1
        grep -E "ERROR|SUMMARY|runtime error|fuzz-config:" "$work/$t.log" | head -20
        ls "$work/artifacts"
    fi
done
exit $failed
