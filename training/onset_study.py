#!/usr/bin/env python3
"""Variants of the model-free onset function, scored on real files with madmom's online DBN
(what Tactus's reactive mode computes exactly), to choose the function before porting it to Swift.

    ~/.cache/tactus/madmom-venv/bin/python training/onset_study.py [--split train] [--variant NAME ...]

Run with madmom's venv (tools/build-reference.sh makes it): it needs madmom and NumPy only.
Features come from Tactus (`tactus features`, cached as the training scripts cache them). Each
variant is a function of the feature matrix (frames × 162: 81 log-filtered bands, then their
positive first difference) returning an activation per frame. F-measure: ±70 ms, first 5 s
skipped (common.f_measure, as evaluate.py).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

B = common.BANDS


def normalise(flux, mean_frames=50, half_life=5.0, floor=10.0, low=0.02, gamma=1.0):
    """The shipped normalisation: causal moving mean removed, a decaying running peak as the
    scale, [low, 1 − low]; `gamma` compresses (< 1) or sharpens (> 1) the scaled value."""
    flux = np.asarray(flux, dtype=np.float64)
    n = len(flux)
    c = np.concatenate([[0.0], np.cumsum(flux)])
    lo = np.maximum(np.arange(n) - mean_frames, 0)
    mean = (c[np.arange(n)] - c[lo]) / mean_frames
    onset = np.maximum(flux - mean, 0)
    decay = 2.0 ** (-1 / (half_life * common.FPS))
    peaks, p = [], floor
    for v in onset.tolist():
        p = max(v, p * decay, floor)
        peaks.append(p)
    return low + (1 - 2 * low) * np.minimum(onset / np.array(peaks), 1) ** gamma


def diff_half(x):
    d = x[:, B:]
    return np.where(np.isfinite(d), d, 0)


def band_weights(low_bands, low_gain):
    w = np.ones(B)
    w[:low_bands] = low_gain
    return w


def superflux(x, width=3, lag=1):
    """Positive difference of the log spectrum against the maximum over ±width//2 bands of the
    frame `lag` before (Böck & Widmer 2013): vibrato and glides no longer read as onsets."""
    s = x[:, :B]
    s = np.where(np.isfinite(s), s, 0)
    pad = np.pad(s, ((0, 0), (width // 2, width // 2)), mode="edge")
    m = np.max(np.stack([pad[:, i:i + B] for i in range(width)]), axis=0)
    prev = np.vstack([np.repeat(m[:1], lag, axis=0), m[:-lag]])
    return np.maximum(s - prev, 0)


def multiband(x, edges=(0, 12, 30, 55, B), **kw):
    """Flux per band group, each normalised on its own scale, then averaged: a loud sustained
    register no longer hides the onsets of the others."""
    d = diff_half(x)
    return np.mean([normalise(d[:, a:b].sum(1), floor=10.0 * (b - a) / B, **kw)
                    for a, b in zip(edges[:-1], edges[1:])], axis=0)


VARIANTS = {
    "shipped": lambda x: normalise(diff_half(x).sum(1)),
    "gamma0.5": lambda x: normalise(diff_half(x).sum(1), gamma=0.5),
    "gamma0.7": lambda x: normalise(diff_half(x).sum(1), gamma=0.7),
    "gamma1.5": lambda x: normalise(diff_half(x).sum(1), gamma=1.5),
    "mean0.2": lambda x: normalise(diff_half(x).sum(1), mean_frames=20),
    "mean1.0": lambda x: normalise(diff_half(x).sum(1), mean_frames=100),
    "half2": lambda x: normalise(diff_half(x).sum(1), half_life=2.0),
    "half15": lambda x: normalise(diff_half(x).sum(1), half_life=15.0),
    "low10x2": lambda x: normalise(diff_half(x) @ band_weights(10, 2.0)),
    "low15x2": lambda x: normalise(diff_half(x) @ band_weights(15, 2.0)),
    "low15x3": lambda x: normalise(diff_half(x) @ band_weights(15, 3.0)),
    "low20x2": lambda x: normalise(diff_half(x) @ band_weights(20, 2.0)),
    "low25x1.5": lambda x: normalise(diff_half(x) @ band_weights(25, 1.5)),
    "high-only": lambda x: normalise(diff_half(x)[:, 20:].sum(1)),
    "low25x1.5+mean1": lambda x: normalise(diff_half(x) @ band_weights(25, 1.5), mean_frames=100),
    "multiband4": lambda x: multiband(x),
    "multiband2": lambda x: multiband(x, edges=(0, 25, B)),
    "multiband4-max": lambda x: multiband4max(x),
    "logflux": lambda x: normalise(np.log1p(diff_half(x).sum(1)) * 20, floor=10.0),
    "superflux3": lambda x: normalise(superflux(x, 3, 1).sum(1)),
    "superflux3lag2": lambda x: normalise(superflux(x, 3, 2).sum(1)),
}


def multiband4max(x, edges=(0, 12, 30, 55, B)):
    d = diff_half(x)
    return np.max([normalise(d[:, a:b].sum(1), floor=10.0 * (b - a) / B)
                   for a, b in zip(edges[:-1], edges[1:])], axis=0)


def track(act, dbn_args):
    from madmom.features.beats import DBNBeatTrackingProcessor
    dbn = DBNBeatTrackingProcessor(online=True, fps=common.FPS, **dbn_args)
    return dbn.process_online(np.asarray(act, dtype=np.float32), reset=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", default="train")
    p.add_argument("--variant", action="append", help="default: all")
    p.add_argument("--tactus")
    p.add_argument("--cache", default=os.path.join(common.HERE, "data", "features"))
    p.add_argument("--per-file", action="store_true")
    args = p.parse_args()
    tactus = common.find_tactus(args.tactus)
    cache = common.FeatureCache(tactus, args.cache)
    files = [f for f in common.real_files(args.split) if f[2] != "madmom_sample"]
    feats = [cache.get(f[0]) for f in files]
    refs = [common.load_beats(f[1]) for f in files]
    names = args.variant or list(VARIANTS)
    print("%d files (%s split, madmom's sample excluded), madmom online DBN (= Tactus reactive)"
          % (len(files), args.split))
    for name in names:
        scores = [common.f_measure(track(VARIANTS[name](x), {}), r) for x, r in zip(feats, refs)]
        print("%-16s F %.3f" % (name, np.mean(scores)), flush=True)
        if args.per_file:
            for f, s in zip(files, scores):
                print("    %-40s %.3f" % (f[2] + "/" + f[3], s))


if __name__ == "__main__":
    main()
