#!/usr/bin/env python3
"""Beat F-measure of Tactus with a weight file on the real valid split (the whole pipeline:
features, network, forward DBN), for comparing models, e.g. a trained one against madmom's.

    training/.venv/bin/python training/evaluate.py MODEL.tnn [OTHER.tnn ...] [--split valid] [--mode reactive]

`none` as a model means the model-free onset function. Mode `reactive` is madmom's online tracker
(default: it compares networks, not emission); `predictive` is Tactus's default emission.
F-measure: ±70 ms, beats before 5 s ignored (as mir_eval), greedy one-to-one matching. The last
lines count the files whose beats are on the off-beat (a higher F against the grid half a beat
after each annotated beat than against the beats). --contrast adds the network's activation at the
annotated beats and at the off-beats (each the peak within ±2 frames, mean over a file's beats,
then over files): a network that cannot tell a beat from its off-beat fires alike on both, and
the tracker's phase is then a coin toss.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def evaluate(tactus, model, files, mode, with_offbeat=False, with_contrast=False):
    """F per file ("dataset/stem"). Files whose annotations are trusted only in a span
    (common.SPANS: StepMania's charted span) are scored there only, detections and annotations alike.
    WITH_OFFBEAT: (F, F against the off-beat grid) per file. WITH_CONTRAST: (F, F off-beat, the
    activation at the annotated beats, at the off-beats) per file, the activation's peak within ±2
    frames of each, averaged over the file (from the same `tactus track` run).
    `tactus track` names its output after the audio file's stem, so files whose stems collide
    (beatles/ and beatles_mp3/ share stems) go to separate runs."""
    scores = {}
    for group in common.stem_groups(files, stem_of):
        batch = {stem_of(f): f for f in group}
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [tactus, "track", "--output-dir", tmp, "--jobs", "1", "--set", "emission.mode=" + mode]
            cmd += ["--no-model"] if model == "none" else ["--model", model]
            if with_contrast:   # a file for one input, a directory (<stem>.activations.txt) for several
                one = os.path.join(tmp, next(iter(batch)) + ".activations.txt")
                cmd += ["--activations", one if len(batch) == 1 else tmp]
            subprocess.run(cmd + [f[0] for f in batch.values()], check=True, stderr=subprocess.DEVNULL)
            for name, (audio, beats, dataset, stem) in batch.items():
                det = common.in_span(common.load_beats(os.path.join(tmp, name + ".beats.txt")), audio)
                every = common.load_beats(beats)
                ann = common.in_span(every, audio)
                off = common.in_span((every[1:] + every[:-1]) / 2, audio)   # the off-beat grid: half a beat later
                score = (common.f_measure(det, ann), common.f_measure(det, off))
                if with_contrast:
                    act = np.loadtxt(os.path.join(tmp, name + ".activations.txt"), comments="#", usecols=1)
                    score += (activation_peak(act, ann), activation_peak(act, off))
                scores["%s/%s" % (dataset, stem)] = score
    return {"%s/%s" % (f[2], f[3]): scores["%s/%s" % (f[2], f[3])][slice(None) if with_offbeat or with_contrast else 0]
            for f in files}


def stem_of(f):
    """The audio file's stem of a (audio, beats, dataset, stem) item: what `tactus track` names its outputs."""
    return os.path.splitext(os.path.basename(f[0]))[0]


def activation_peak(act, times):
    """The mean over TIMES (s) of ACT's peak within ±2 frames (100 frames/s); 0 without times."""
    idx = np.clip(np.round(np.asarray(times) * 100).astype(int), 0, len(act) - 1)
    return float(np.mean([act[max(i - 2, 0):i + 3].max() for i in idx])) if len(idx) else 0.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    p.add_argument("--split", default="valid")
    p.add_argument("--mode", default="reactive", choices=["reactive", "predictive"])
    p.add_argument("--tactus")
    p.add_argument("--v2", action="store_true",
                   help="also the data v2 songs of the split (training/splits_v2.tsv: beatles_mp3, stepmania; "
                        "valid or train only, never test); per-set means are printed")
    p.add_argument("--v2-only", action="store_true", help="only the data v2 songs of the split")
    p.add_argument("--contrast", action="store_true",
                   help="also the activation at the annotated beats and at the off-beats, per set")
    args = p.parse_args()
    tactus = common.find_tactus(args.tactus)
    files = [] if args.v2_only else common.real_files(args.split)
    if args.v2 or args.v2_only:
        files += common.v2_files(args.split)
    both = {m: evaluate(tactus, m, files, args.mode, with_offbeat=True, with_contrast=args.contrast and m != "none")
            for m in args.models}
    results = {m: {k: v[0] for k, v in r.items()} for m, r in both.items()}
    names = [os.path.basename(m) for m in args.models]
    print("%-48s %s" % ("file (%s split, %s)" % (args.split, args.mode), "  ".join("%14s" % n[:14] for n in names)))
    for key in results[args.models[0]]:
        print("%-48s %s" % (key[:48], "  ".join("%14.3f" % results[m][key] for m in args.models)))
    groups = {}
    for key in results[args.models[0]]:
        groups.setdefault("v2" if key.split("/")[0] in ("beatles_mp3", "stepmania") else "v1", []).append(key)
        if key.split("/")[0] in ("beatles_mp3", "stepmania"):
            groups.setdefault(key.split("/")[0], []).append(key)
    if len(groups) > 1:
        for g in ("v1", "v2", "beatles_mp3", "stepmania"):
            if g in groups:
                label = {"v1": "v1's %s files" % args.split, "v2": "data v2"}.get(g, g)
                means = [np.mean([results[m][k] for k in groups[g]]) for m in args.models]
                print("%-48s %s" % ("mean F, %s (%d files)" % (label, len(groups[g])),
                                    "  ".join("%14.3f" % v for v in means)))
    print("%-48s %s" % ("mean F (%d files)" % len(results[args.models[0]]),
                        "  ".join("%14.3f" % np.mean(list(results[m].values())) for m in args.models)))
    # Phase errors: files whose beats score higher against the off-beat grid than against the beats.
    print("%-48s %s" % ("files on the off-beat (F off-beat > F)",
                        "  ".join("%14d" % sum(v[1] > v[0] for v in both[m].values()) for m in args.models)))
    for m in args.models:
        off = [k for k, (f, f_off, *_) in both[m].items() if f_off > f]
        if off:
            print("  %s: %s" % (os.path.basename(m), ", ".join(k.split("/")[-1][:32] for k in off)))
    if args.contrast:
        for g in ("v1", "beatles_mp3", "stepmania"):
            if g in groups:
                print("%-48s %s" % ("activation at beats / off-beats, %s" % g, "  ".join(
                    "%6.3f / %5.3f" % tuple(np.mean([both[m][k][2:] for k in groups[g]], axis=0)) if m != "none"
                    else "%14s" % "-" for m in args.models)))


if __name__ == "__main__":
    main()
