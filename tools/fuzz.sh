#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input with libFuzzer (+ AddressSanitizer): the weight-file
# decoder, the TOML configuration, the audio file reader (libsndfile + our header checks + soxr),
# the AppleMIDI session packets of RTP-MIDI and the daemon's JSON lines as `tactus monitor` reads
# them (MonitorView), what a client writes to the daemon's socket (socket: command lines) and OSC
# control datagrams (control); and tactus-link's reading of the daemon's lines (link: C++, built
# with the toolchain's clang). Seeds in fuzz/corpus/<target> (read only); new inputs go to a temporary
# directory; a crash is saved to fuzz/crashes/ and fails the run. Links with lld (the Swift
# toolchain's; TACTUS_FUZZ_TARGETS picks targets, e.g. "monitor config").
#
#   tools/fuzz.sh [SECONDS_PER_TARGET]      (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
swift build --product tactus-fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address \
    -Xswiftc -DFUZZING -Xswiftc -parse-as-library -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
binary=.build-fuzz/debug/tactus-fuzz
mkdir -p fuzz/crashes
status=0
targets=${TACTUS_FUZZ_TARGETS:-weights config audio applemidi monitor socket control link}
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address -fuse-ld=lld -I link/Sources/tactus-link link/fuzz/line_fuzz.cpp \
    -o .build-fuzz/tactus-link-fuzz
for target in $targets; do
    work=$(mktemp -d)
    leaks=1
    echo "fuzzing $target for ${seconds}s" >&2
    binary=.build-fuzz/debug/tactus-fuzz
    [ "$target" = link ] && binary=.build-fuzz/tactus-link-fuzz
    # SWIFT_BACKTRACE off: libFuzzer reports crashes itself, and Swift's backtracer can hang
    # (it did, for minutes, on a fatalError in a CI run).
    if ! SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=$leaks LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp \
        TACTUS_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -max_len=16384 \
        -artifact_prefix="fuzz/crashes/$target-" -print_final_stats=1 -detect_leaks=$leaks \
        "$work" "fuzz/corpus/$target" 2>&1 \
        | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)"; then
        :
    fi
    # libFuzzer exits non-zero on a finding; pipefail is off inside `if`, so check for artifacts.
    if ls fuzz/crashes/"$target"-* >/dev/null 2>&1; then
        echo "tools/fuzz.sh: $target: crash saved in fuzz/crashes/" >&2
        status=1
    fi
    rm -rf "$work"
done
exit $status
