#!/usr/bin/env bash
# Builds the madmom 0.16.1 reference outputs and converted weights for the conformance tests into
# reference/ (git-ignored: madmom's models are CC BY-NC-SA and are never committed).
# Needs ../shared (data and setup-madmom.sh) and PyPI. Rebuilds only when its inputs changed.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${TACTUS_SHARED:-../shared}
out=${TACTUS_REFERENCE_DIR:-reference}
venv=${MADMOM_VENV:-$HOME/.cache/tactus/madmom-venv}
stamp=$(cat tools/make_reference.py tools/convert_madmom.py tools/tactus_weights.py tools/reference-files.txt \
    | sha256sum | cut -c1-16)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/madmom_beats_lstm.tnn" ]; then
    echo "madmom references in $out are up to date" >&2
    exit 0
fi
py=$("$shared/tools/setup-madmom.sh" "$venv" | tail -n 1)
rm -rf "$out" && mkdir -p "$out"
files=()
while read -r f; do
    case "$f" in ''|'#'*) continue ;; esac
    files+=("$shared/data/$f")
done < tools/reference-files.txt
"$py" tools/convert_madmom.py "$out/madmom_beats_lstm.tnn"
"$py" tools/make_reference.py "$out" --files "${files[@]}"
echo "$stamp" > "$out/stamp"
