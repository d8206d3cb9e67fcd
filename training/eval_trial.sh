#!/bin/bash
# training/eval_trial.sh NAME E1 E2 E3: exports run NAME's snapshots E1-E3 as an ensemble (the network
# alone, and mixed 0.7 with the onset function) and scores both on the valid split (v1's files and
# data v2), reactive and predictive, next to v1 as shipped and the weight files named in $COMPARE
# (space-separated; e.g. an earlier trial's export, when this machine still has it). Never the test split.
set -e
cd "$(dirname "$0")/.."
N=$1; shift
R=training/data/runs/$N
mkdir -p training/data/v2eval
args=()
for e in "$@"; do args+=("$R/epoch$e.pt"); done
training/.venv/bin/python training/export.py training/data/v2eval/$N-alone.tnn "${args[@]}" > /dev/null
training/.venv/bin/python training/export.py training/data/v2eval/$N-mix.tnn "${args[@]}" --onset-mix 0.7 > /dev/null
for mode in reactive predictive; do
  # shellcheck disable=SC2086
  nice training/.venv/bin/python training/evaluate.py builtin ${COMPARE:-} \
    training/data/v2eval/$N-mix.tnn training/data/v2eval/$N-alone.tnn --v2 --split valid --mode $mode \
    > training/data/v2eval/$N-valid-$mode.txt 2>&1   # tactus: $TACTUS or the newest build (common.find_tactus)
  tail -14 training/data/v2eval/$N-valid-$mode.txt
done
