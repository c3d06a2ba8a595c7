#!/usr/bin/env bash
# Runs every compiled test file with tap and ends with the failures, if any,
# and one plain summary line.
# Tests are written in TypeScript and compiled by `tsc -b` (bootstrap.sh) before
# they run: tap's TypeScript plugin is disabled (package.json "tap"), so the
# toolchain's TypeScript version never matters to tap.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find packages/*/dist/test test/dist examples/dist -name '*.test.js' 2>/dev/null | sort)
if ((${#files[@]} == 0)); then
  echo "test: no compiled test files found (did the build run?)" >&2
  exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pnpm exec tap --reporter=tap --jobs="${TEST_JOBS:-2}" "$@" "${files[@]}" | tee "$log"
rc=${PIPESTATUS[0]}
# A failure deep in thousands of lines: repeat each one, with its subtest path
# and diagnostic, where the end of the log (all a CI page may keep) shows it.
node scripts/tap-failures.mjs "$log"
summary=$(grep -E '^# \{ total: ' "$log" | tail -n 1)
node -e '
const s = process.argv[1].replace(/^# /, "");
const n = (k) => Number((s.match(new RegExp(k + ": (\\d+)")) || [0, 0])[1]);
const failed = n("fail"), passed = n("pass"), skipped = n("skip") + n("todo");
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "${summary:-}"
exit "$rc"
