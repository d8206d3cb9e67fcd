#!/usr/bin/env python3
"""Beat F-measure of Tactus with a weight file on the real valid split (the whole pipeline:
features, network, forward DBN), for comparing models, e.g. a trained one against madmom's.

    training/.venv/bin/python training/evaluate.py MODEL.tnn [OTHER.tnn ...] [--split valid] [--mode reactive]

`none` as a model means the model-free onset function. Mode `reactive` is madmom's online tracker
(default: it compares networks, not emission); `predictive` is Tactus's default emission.
F-measure: ±70 ms, beats before 5 s ignored (as mir_eval), greedy one-to-one matching.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def evaluate(tactus, model, files, mode):
    scores = {}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [tactus, "track", "--output-dir", tmp, "--jobs", "1", "--set", "emission.mode=" + mode]
        cmd += ["--no-model"] if model == "none" else ["--model", model]
        subprocess.run(cmd + [f[0] for f in files], check=True, stderr=subprocess.DEVNULL)
        for audio, beats, dataset, stem in files:
            out = os.path.join(tmp, os.path.splitext(os.path.basename(audio))[0] + ".beats.txt")
            det = common.load_beats(out)
            scores["%s/%s" % (dataset, stem)] = common.f_measure(det, common.load_beats(beats))
    return scores


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    p.add_argument("--split", default="valid")
    p.add_argument("--mode", default="reactive", choices=["reactive", "predictive"])
    p.add_argument("--tactus")
    args = p.parse_args()
    tactus = common.find_tactus(args.tactus)
    files = common.real_files(args.split)
    results = {m: evaluate(tactus, m, files, args.mode) for m in args.models}
    names = [os.path.basename(m) for m in args.models]
    print("%-48s %s" % ("file (%s split, %s)" % (args.split, args.mode), "  ".join("%14s" % n[:14] for n in names)))
    for key in results[args.models[0]]:
        print("%-48s %s" % (key[:48], "  ".join("%14.3f" % results[m][key] for m in args.models)))
    print("%-48s %s" % ("mean F", "  ".join("%14.3f" % np.mean(list(results[m].values())) for m in args.models)))


if __name__ == "__main__":
    main()
