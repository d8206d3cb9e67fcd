#!/usr/bin/env bash
# Runs the whole test suite the way CI does: system libraries, madmom references (when ../shared
# is there; the conformance tests say why they skip otherwise), then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test
shared=${TACTUS_SHARED:-../shared}
if [ -f "$shared/data/manifest.tsv" ] && [ -x "$shared/tools/setup-madmom.sh" ]; then
    tools/build-reference.sh
else
    echo "tools/test.sh: $shared/data not found: madmom conformance tests will be skipped" >&2
fi
swift test "$@"
