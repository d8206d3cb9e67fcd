#!/usr/bin/env bash
# Runs the built test bundle as three processes side by side, so that the daemon tests, which mostly
# wait on paced audio and sockets, do not hold Swift Testing's two pool threads (one per core) while
# the computation tests queue behind them: the JACK tests (about a minute of music), the other
# daemon and CLI tests, everything else. Each shard's output is printed when it ends; any failure
# fails the run. `swift test` cannot do this: SwiftPM locks its build directory per invocation.
#
#   tools/run-tests.sh BUILD_DIR [--skip REGEX]     e.g. .build/debug, .build-thread/debug
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:?build directory, e.g. .build/debug}/TactusPackageTests.xctest
shift
extra=("$@")
[ -x "$bundle" ] || { echo "tools/run-tests.sh: $bundle not built" >&2; exit 1; }
jack='TactusCLITests\.JackDaemonTests/'
shards=(
    "--filter $jack"
    "--filter TactusCLITests\. --skip $jack"
    "--skip TactusCLITests\."
)
logs=$(mktemp -d)
pids=()
for i in "${!shards[@]}"; do
    # shellcheck disable=SC2086
    "$bundle" --testing-library swift-testing ${shards[$i]} "${extra[@]}" > "$logs/$i.log" 2>&1 &
    pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
    s=0
    wait "${pids[$i]}" || s=$?
    echo "== tests: ${shards[$i]} ${extra[*]} (exit $s)" >&2
    cat "$logs/$i.log"
    [ "$s" -eq 0 ] || status=1
done
rm -rf "$logs"
exit $status
