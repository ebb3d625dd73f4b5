#!/bin/sh
# npm test's runner (after the lint): every test file under lab/ and actions/, the built dist bundles
# left out, sorted, one file at a time.
set -eu
cd "$(dirname "$0")/.."
files=$(find lab actions -name '*.test.ts' -not -path '*/dist/*' | sort)
# shellcheck disable=SC2086 # one word per test file
exec node --import tsx --test --test-concurrency=1 $files "$@"
