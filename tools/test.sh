#!/usr/bin/env bash
# Runs the whole test suite the way CI does: system libraries, madmom references (when ../shared
# is there; the conformance tests say why they skip otherwise), then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
mark() { echo "tools/test.sh: $1 (at $SECONDS s)" >&2; }
tools/install-deps.sh --test
shared=${TACTUS_SHARED:-../shared}
if [ -f "$shared/data/manifest.tsv" ] && [ -x "$shared/tools/setup-madmom.sh" ]; then
    tools/build-reference.sh
else
    echo "tools/test.sh: $shared/data not found: madmom conformance tests will be skipped" >&2
fi
# A small venv with python-osc and pymidi: independent OSC decoder and RTP-MIDI peer of the output tests.
if [ ! -x .venv-test/bin/python ] \
        || ! .venv-test/bin/python -c 'import pythonosc, pymidi.server, selenium' 2>/dev/null; then
    python3 -m venv .venv-test && .venv-test/bin/pip install -q -r tools/test-requirements.txt \
        || echo "tools/test.sh: could not install python-osc and pymidi:" \
            "the OSC and RTP-MIDI peer tests will be skipped" >&2
fi
export TACTUS_TEST_PYTHON="$PWD/.venv-test/bin/python"
# --setup-only: everything above (for tools/sanitize.sh in CI), no tests.
mark "set up"
[ "${1:-}" = "--setup-only" ] && exit 0
# The Beatles MP3 alignment (training/beatles_alignment/) on its 7 validation songs: only with the shared data.
if [ -f "$shared/data/beatles_mp3/validation_wav_to_mp3.tsv" ]; then
    TACTUS_SHARED="$shared" python3 training/check_alignment.py
fi
# The real QLC+ end to end (issue 23): the qlcplus preset lights its channel on every beat, on time.
mark "alignment checked"
swift build --product tactus
mark "tactus built"
tools/qlcplus-test.sh .build/debug/tactus --bound-ms 15
# The web page in a real browser (issue 21): headless Chromium through Selenium (77: not installed).
mark "qlcplus-test done"
status=0
"$TACTUS_TEST_PYTHON" tools/web-test.py .build/debug/tactus || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then exit "$status"; fi
# The Ableton Link bridge (issue 22) against aalink and LinkHut, in a network namespace of its own
# (77: aalink or namespaces unavailable, said why).
mark "web-test done"
swift build --product tactus-link
status=0
"$TACTUS_TEST_PYTHON" -W ignore::DeprecationWarning tools/link-test.py .build/debug/tactus .build/debug/tactus-link \
    || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then exit "$status"; fi
mark "link-test done"
# With arguments (e.g. --filter X), plain `swift test`; without, the bundle in three shards side by side.
if [ $# -gt 0 ]; then swift test "$@"; exit; fi
swift build --build-tests
tools/run-tests.sh .build/debug
