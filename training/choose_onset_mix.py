#!/usr/bin/env python3
"""Chooses the share of Tactus's onset function mixed into the network's activation (the
`onset_mix` metadata of a weight file, Sources/TactusCore/Activation/BlendedActivation.swift).

Each real file of cross-validation folds 0-3 (the train split) is tracked by the CV network that
never saw it (DATA/cv/fold<k>.tnn, recipe.sh export k), with the mix set to each candidate, by
`tactus track` in reactive mode (madmom's tracker, as in model selection elsewhere); the F-measure
(±70 ms, 5 s skipped) is averaged over those files. Fold 4, the valid split, is not looked at.

    training/.venv/bin/python training/choose_onset_mix.py [--mix 0 0.5 0.6 0.7 0.8 1]
"""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import common  # noqa: E402
import evaluate  # noqa: E402
import tactus_weights as tw  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mix", type=float, nargs="+", default=[0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1])
    p.add_argument("--cv", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "cv"),
                   help="folder of the CV weight files fold0.tnn ... fold3.tnn")
    p.add_argument("--tactus", help="tactus binary (default: as training/common.py finds it)")
    args = p.parse_args()
    tactus = common.find_tactus(args.tactus)
    scores = {w: [] for w in args.mix}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(4):
            files = [f for f in common.real_files(folds=[k]) if f[2] not in common.EXCLUDED_REAL]
            weights = open(os.path.join(args.cv, "fold%d.tnn" % k), "rb").read()
            for w in args.mix:
                model = os.path.join(tmp, "fold%d-mix%g.tnn" % (k, w))
                with open(model, "wb") as f:
                    f.write(tw.with_metadata(weights, {"onset_mix": "%g" % w if w > 0 else None}))
                scores[w] += evaluate.evaluate(tactus, model, files, "reactive").values()
    n = len(next(iter(scores.values())))
    print("onset_mix  mean F on %d held-out files of folds 0-3 (reactive)" % n)
    for w in args.mix:
        print("%9g  %.4f" % (w, np.mean(scores[w])))
    best = max(args.mix, key=lambda w: np.mean(scores[w]))
    print("best: onset_mix %g" % best)


if __name__ == "__main__":
    main()
