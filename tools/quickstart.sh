#!/usr/bin/env bash
# Quick start: install the system libraries, build Tactus (release) and track the embedded example
# (a generated 120 BPM drum groove), printing its beats and how well they match the truth.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
swift build -c release --product tactus
.build/release/tactus track --example "$@"
