#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer and ThreadSanitizer (each in its own build
# directory), as CI does. Expects tools/test.sh to have run once (dependencies, references,
# .venv-test).
#
#   tools/sanitize.sh [address|thread]...     (default: both)
#
# - ASan: heap/stack overflows, use after free, double free, in our code and the C libraries we
#   call. Leak detection is off here: Foundation's Process and XCTest leak by design in a test
#   process; leaks of the daemon are measured instead by the soak (bench/soak.py, RSS growth).
# - TSan: data races on the ring buffers, the capture/processing/output hand-offs, pipeline swap.
# - A crash under ASan must end the run, not hang it: Swift's backtracer reads the crashed
#   process's stacks in a way ASan reports as an overflow, and a CI run once hung there until its
#   90 min limit. So the backtracer is off here, and each pass has a 30 min ceiling.
# - The allocation counter (CAllocCounter) steps aside under a sanitizer (it cannot interpose
#   malloc there); the plain run of tools/test.sh asserts zero allocations per hop.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=("$@")
[ ${#sanitizers[@]} -eq 0 ] && sanitizers=(address thread)
export TACTUS_TEST_PYTHON="${TACTUS_TEST_PYTHON:-$PWD/.venv-test/bin/python}"
status=0
for s in "${sanitizers[@]}"; do
    echo "== swift test --sanitize=$s" >&2
    swift build --build-tests --sanitize="$s" --scratch-path ".build-$s"
    echo "tools/sanitize.sh: $s build done (at $SECONDS s)" >&2
    # TactusCore is pure computation without a thread of its own: ThreadSanitizer has nothing to find
    # there (ASan and the plain run cover it), and its tests are the pass's most CPU.
    skip=()
    [ "$s" = thread ] && skip=(--skip 'TactusCoreTests\.')
    if ! TACTUS_SANITIZER="$s" ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 TSAN_OPTIONS=halt_on_error=0 \
        SWIFT_BACKTRACE=enable=no timeout --kill-after=30 1800 tools/run-tests.sh ".build-$s/debug" "${skip[@]}"; then
        echo "tools/sanitize.sh: tests failed under the $s sanitizer" >&2
        status=1
    fi
    echo "tools/sanitize.sh: $s tests done (at $SECONDS s)" >&2
done
exit $status
