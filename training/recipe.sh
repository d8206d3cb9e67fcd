#!/bin/sh
# The recipe of Tactus's shipped beat model, models/tactus-beats-v1.tnn, and of its 5-fold
# cross-validation: one place for the settings, so that the shipped model and the CV models are
# trained alike. Run from anywhere; heavy steps are niced. Wall times are this project's 2-core
# machine (training/README.md).
#
#   training/recipe.sh data        # render the synthetic audio (two renders in parallel, ~25 min)
#   training/recipe.sh fold K      # train fold K (0-4) of the cross-validation: real files of the
#                                  # other folds + synthetic; fold 4 is the valid split, so fold 4's
#                                  # network is the one Tactus ships (~25 min each, one core)
#   training/recipe.sh export K    # fold K's weight file (training/data/cv/foldK.tnn), calibrated
#                                  # (export 4 last: its calibration uses folds 0-3's models)
#   training/recipe.sh ship        # fold 4's export into models/ with its golden file
#   training/recipe.sh v2          # model v2 (issue 19; not shipped yet, trial 9's settings): v1's
#                                  # real files + data v2's train songs (training/splits_v2.tsv) +
#                                  # the first 474 synthetic excerpts; one 2 x 128 network (~70 min)
#   training/recipe.sh v2-ship     # its epoch 28, calibrated, into models/tactus-beats-v2.tnn
#
# v2's settings were chosen on the valid split of splits_v2.tsv (training/README.md, trials 1-10).
# For v1, no step selects anything on the valid split: the networks are fixed epochs of a fixed schedule
# (snapshot ensemble of epochs 20, 24 and 28 of a 40-epoch cosine schedule stopped at 28). The
# share of the onset function mixed into the network's activation (ONSET_MIX) was chosen on the
# CV networks' held-out predictions of folds 0-3 (training/choose_onset_mix.py, after 'export 0'
# to 'export 3'; fold 4 unseen).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
py="$here/.venv/bin/python"
data="$here/data"
cd "$root"

TRAIN_ARGS="--synthetic $data --synthetic $here/data-b --real-variants 8 --real-speed 0.8 1.25 --real-eq 0.3
  --synthetic-tempo 110 --synthetic-speed-variants 2 --no-synthetic-original
  --units 64 --layers 2 --dropout 0.3 --ema 0.998 --p-real 0.8 --augment 0.9
  --pos-weight 5 --pos-weight-epochs 25 --steps 150 --epochs 40 --schedule cosine --stop-after 28
  --select last --patience 1000 --seed 1"
SNAPSHOTS="020 024 028"
ONSET_MIX=0.7

# v2: the synthetic excerpts are the first rows of each render manifest (those rendered before
# trial 2; DIR:N), the network one 2 x 128 LSTM (v1's three 2 x 64 cost as much per hop).
TRAIN_ARGS_V2="--v2 --v2-variants 3 --synthetic $data:341 --synthetic $here/data-b:310 --synthetic-tempo 110
  --synthetic-speed-variants 2 --no-synthetic-original --real-variants 8 --real-speed 0.8 1.25 --real-eq 0.3
  --units 128 --layers 2 --dropout 0.1 --ema 0.998 --p-real 0.8 --augment 0.9 --pos-weight 5
  --pos-weight-epochs 25 --steps 150 --epochs 40 --schedule cosine --stop-after 28 --select last
  --patience 1000 --seed 1 --dbn-every 4"

case "${1:-}" in
data)
    # Two index ranges, one per core; each excerpt depends only on (seed, index).
    nice -n 19 "$py" "$here/render.py" --minutes 100 --out "$data" &&
        nice -n 19 "$py" "$here/render.py" --minutes 400 --start 206 --out "$data" &
    nice -n 19 "$py" "$here/render.py" --minutes 450 --start 10000 --out "$here/data-b"
    wait
    ;;
fold)
    k=${2:?fold 0-4}
    # shellcheck disable=SC2086
    nice "$py" "$here/train.py" --name "cv$k" --cv-fold "$k" $TRAIN_ARGS
    ;;
export)
    k=${2:?fold 0-4}
    mkdir -p "$data/cv"
    set --
    for e in $SNAPSHOTS; do set -- "$@" "$data/runs/cv$k/epoch$e.pt"; done
    # Timing calibration: the CV models on their own training files; the shipped one (fold 4) on
    # what the CV models of folds 0-3 did on the files they never saw (export those first).
    cal=""
    [ "$k" = 4 ] && cal="--calibrate-on-cv $data/cv"
    # shellcheck disable=SC2086
    "$py" "$here/export.py" "$data/cv/fold$k.tnn" "$@" --name "tactus-beats-v1" --onset-mix "$ONSET_MIX" \
        --calibrate --cv-fold "$k" $cal
    ;;
ship)
    [ -f "$data/cv/fold4.tnn" ] || { echo "recipe.sh: run 'fold 4' and 'export 4' first" >&2; exit 1; }
    cp "$data/cv/fold4.tnn" models/tactus-beats-v1.tnn
    set --
    for e in $SNAPSHOTS; do set -- "$@" "$data/runs/cv4/epoch$e.pt"; done
    "$py" "$here/golden.py" models/tactus-beats-v1.golden.txt "$@"
    for c in "$@"; do set -- "$@" --checkpoint "$c"; shift; done
    "$py" "$here/check_export.py" --model models/tactus-beats-v1.tnn "$@"
    ;;
v2)
    # shellcheck disable=SC2086
    nice "$py" "$here/train.py" --name v2 $TRAIN_ARGS_V2
    ;;
v2-ship)
    ck="$data/runs/v2/epoch028.pt"
    [ -f "$ck" ] || { echo "recipe.sh: run 'v2' first" >&2; exit 1; }
    "$py" "$here/export.py" models/tactus-beats-v2.tnn "$ck" --name "tactus-beats-v2" --onset-mix "$ONSET_MIX" \
        --calibrate
    "$py" "$here/golden.py" models/tactus-beats-v2.golden.txt "$ck"
    "$py" "$here/check_export.py" --model models/tactus-beats-v2.tnn --checkpoint "$ck"
    ;;
*)
    sed -n '2,22p' "$0" >&2
    exit 2
    ;;
esac
