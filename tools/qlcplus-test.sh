#!/usr/bin/env bash
# End-to-end test with the real QLC+ (issue 23): `tactus run` on a generated 120 BPM drum groove
# sends its qlcplus preset to QLC+ (headless, OSC input, a Flash button on a Scene, Art-Net out to
# 127.0.0.1); fails unless every beat lit DMX channel 1 exactly once and the median light − beat
# offset is within the bound. Skips (exit 0) with a message when qlcplus is not installed
# (tools/install-deps.sh --test installs it). Needs UDP port 6454 on 127.0.0.1 and nothing else
# sending Art-Net there. Ends with `qlcplus: N passed, M failed`.
#   tools/qlcplus-test.sh [TACTUS_BINARY] [extra bench/qlcplus.py check options, e.g. --bound-ms 20]
set -euo pipefail
cd "$(dirname "$0")/.."
tactus=${1:-.build/release/tactus}
[ $# -gt 0 ] && shift
exec python3 bench/qlcplus.py check --tactus "$tactus" "$@"
