#!/bin/sh
# Fails when a C source differs from what clang-format makes of it with the project's
# .clang-format. Skips (exit 77) when clang-format is not installed.
cd "$(dirname "$0")/.." || exit 1
command -v clang-format >/dev/null 2>&1 || { echo "clang-format not installed"; exit 77; }
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find api daemon client tests -name '*.[ch]'); do
    if ! clang-format --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not clang-formatted: $f"
        bad=1
    fi
done
exit $bad
