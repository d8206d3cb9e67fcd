#!/usr/bin/env python3
"""Train Tactus's causal beat network (PyTorch, CPU, reproducible).

    training/.venv/bin/python training/train.py --name run1 [--data training/data] [--units 25 --layers 3]

Inputs are the exact features Tactus computes (`tactus features`, cached as .npy under
DATA/features/). Training data: the rendered synthetic excerpts of DATA/manifest.tsv (render.py)
plus the real train split of shared/data/manifest.tsv with augmented copies (speed, gain, noise,
applied to the audio before the feature stage). Validation: the real valid split, whole files from
the learned initial state, as Tactus runs them. Targets: 1 at the beat frame, 0.5 at its two
neighbours; binary cross-entropy, the beat class weighted by --pos-weight (optionally decaying to
1). Early stopping on the valid F-measure of the whole Tactus pipeline (the model exported and run
by `tactus track`, reactive mode), or of a simple peak picker (--select peaks); valid loss and
both F-measures are logged. Writes DATA/runs/NAME/best.pt (the best
epoch), last.pt and log.jsonl.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

THRESHOLDS = (0.2, 0.3, 0.4, 0.5)


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


def synthetic_dir(arg):
    """(directory, rows) of a --synthetic argument, DIR or DIR:N (the first N manifest rows; None: all)."""
    d, _, n = arg.rpartition(":")
    return (d, int(n)) if d and n.isdigit() else (arg, None)


def build_sets(args, cache):
    rng = np.random.default_rng(args.seed)
    train, valid = [], []   # training features held as float16 (half the memory), valid as float32
    t0 = time.time()
    licences = None if "any" in args.soundfont_licence else set(args.soundfont_licence)
    synth = [f for d in (args.synthetic or [args.data]) for f in common.synthetic_files(*synthetic_dir(d), licences)]
    if args.max_synthetic:
        synth = synth[: args.max_synthetic]
    trng = np.random.default_rng(args.seed + 7)
    for k, (audio, beats, source, _) in enumerate(synth):
        b = common.load_beats(beats)
        if args.synthetic_original:
            x = cache.get(audio)
            train.append((x.astype(np.float16), common.targets(b, len(x), args.widen), "synthetic", None))
        for v in range(args.synthetic_speed_variants):
            if args.synthetic_tempo > 0 and len(b) > 3:
                # Towards real music's tempi: POP909 is mostly slow ballads (median 74 BPM, real
                # annotated music about 105), and a network learns which metrical level to mark.
                bpm = 60 / np.median(np.diff(b))
                octaves = trng.normal(np.log2(args.synthetic_tempo / bpm), args.synthetic_tempo_width)
                speed = float(np.clip(2 ** octaves, 0.7, 1.6))
            else:
                speed = float(rng.uniform(0.8, 1.25))
            x = cache.get(audio, speed=speed)
            train.append((x.astype(np.float16), common.targets(b / speed, len(x), args.widen), "synthetic", None))
        if (k + 1) % 50 == 0:
            log("features: %d/%d synthetic files (%.0f s)" % (k + 1, len(synth), time.time() - t0))
    for audio, beats, dataset, stem in real_train_files(args):
        b = common.load_beats(beats)
        x = cache.get(audio)
        train.append((x.astype(np.float16), common.targets(b, len(x), args.widen), "real", None))
        for v in range(args.real_variants):
            speed = float(rng.uniform(*args.real_speed))
            gain = float(rng.uniform(-24, 0))
            snr = float(rng.uniform(10, 35)) if rng.random() < 0.3 else None
            eq = None
            if rng.random() < args.real_eq:
                eq = ("lowpass", float(rng.uniform(1500, 8000))) if rng.random() < 0.5 else \
                     ("highpass", float(rng.uniform(100, 800)))
            x = cache.get(audio, speed=speed, gain_db=gain, noise_snr=snr, seed=v, eq=eq)
            train.append((x.astype(np.float16), common.targets(b / speed, len(x), args.widen), "real", None))
    if args.v2:
        train += v2_train_set(args, cache, rng)
    for audio, beats, dataset, stem in valid_files(args):
        b = common.load_beats(beats)
        x = cache.get(audio)
        valid.append((x, common.targets(b, len(x), args.widen), b, "%s/%s" % (dataset, stem),
                      common.span_weights(audio, len(x)), audio))
    log("features ready in %.0f s: %d training sequences (%.1f min), %d valid files (%.1f min)" % (
        time.time() - t0, len(train), sum(len(t[0]) for t in train) / common.FPS / 60, len(valid),
        sum(len(v[0]) for v in valid) / common.FPS / 60))
    return train, valid


def v2_train_set(args, cache, rng):
    """The train songs of data v2 (training/splits_v2.tsv: beatles_mp3 and stepmania), each as it
    is plus --v2-variants augmented copies: speed ×--real-speed (tempo and pitch, resampled by
    tactus), gain −24…0 dB, white noise (SNR 10–35 dB) in 30 %; a low-pass at 4–8 kHz
    (--v2-lowpass-hz) in a share --v2-lowpass of the copies of every set but the Beatles MP3s,
    which are band-limited to 8 kHz already and stay as they are, so that a band-limited sound
    does not mean "Beatles". StepMania frames outside the charted span weigh --outside-chart-weight
    in the loss. Items: (features float16, targets, "v2", per-frame loss weights or None)."""
    out = []
    t0 = time.time()
    files = [f for f in common.v2_files("train", args.splits) if f[2] in args.v2_sets]
    if args.max_v2:
        files = files[::max(1, len(files) // args.max_v2)][:args.max_v2]   # both sets (smoke tests)
    for k, (audio, beats, dataset, stem) in enumerate(files):
        b = common.load_beats(beats)
        x = cache.get(audio)
        out.append((x.astype(np.float16), common.targets(b, len(x), args.widen), "v2",
                    common.span_weights(audio, len(x), 1.0, args.outside_chart_weight)))
        for v in range(args.v2_variants):
            speed = float(rng.uniform(*args.real_speed))
            gain = float(rng.uniform(-24, 0))
            snr = float(rng.uniform(10, 35)) if rng.random() < 0.3 else None
            eq = None
            if dataset != "beatles_mp3" and rng.random() < args.v2_lowpass:
                eq = ("lowpass", float(rng.uniform(*args.v2_lowpass_hz)))
            x = cache.get(audio, speed=speed, gain_db=gain, noise_snr=snr, seed=v, eq=eq)
            out.append((x.astype(np.float16), common.targets(b / speed, len(x), args.widen), "v2",
                        common.span_weights(audio, len(x), speed, args.outside_chart_weight)))
        if (k + 1) % 10 == 0:
            log("features: %d/%d v2 train songs (%.0f s)" % (k + 1, len(files), time.time() - t0))
    minutes = sum(len(t[0]) for t in out) / common.FPS / 60
    log("v2 train: %d songs, %d sequences, %.1f min" % (len(files), len(out), minutes))
    return out


def real_train_files(args):
    """The real files trained on: the train split, or every fold but --cv-fold; never a data set
    of common.EXCLUDED_REAL."""
    if args.cv_fold is None:
        files = common.real_files("train")
    else:
        files = common.real_files(folds=[k for k in range(5) if k != args.cv_fold])
    return [f for f in files if f[2] not in common.EXCLUDED_REAL]


def valid_files(args):
    """The real files validated on: the valid split, or the files of --cv-fold; with --v2 also the
    valid songs of data v2 (splits_v2.tsv)."""
    files = common.real_files("valid") if args.cv_fold is None else common.real_files(folds=[args.cv_fold])
    return files + (common.v2_files("valid", args.splits) if args.v2 else [])


def speed_copies(files, speeds, directory):
    """Speed-changed copies of FILES (tempo and pitch together: the samples under another header
    rate, resampled by tactus like every other input) with their beats scaled, written once into
    DIRECTORY; (audio, beats, dataset, stem) tuples. They make the whole-pipeline F used for model
    selection less of a coin toss: one file's outcome often flips between metrical levels, and
    three tempi of it flip less together."""
    import soundfile as sf
    os.makedirs(directory, exist_ok=True)
    out = []
    for audio, beats, dataset, stem in files:
        for speed in speeds:
            name = "%s_x%.2f" % (stem, speed)
            wav, txt = os.path.join(directory, name + ".wav"), os.path.join(directory, name + ".beats")
            if not os.path.exists(wav):
                y, rate = sf.read(audio, dtype="float32")
                with open(txt, "w") as f:   # the beats first: the audio's presence says both are there
                    f.write("".join("%.6f\n" % (b / speed) for b in common.load_beats(beats)))
                tmp = "%s.%d.tmp.wav" % (wav, os.getpid())
                sf.write(tmp, y, int(round(rate * speed)), subtype="FLOAT")
                os.replace(tmp, wav)
            out.append((wav, txt, dataset, name))
    return out


_POOLS = {}


def pools(train):
    """Indices of the real training sequences (v1's real files and data v2), of the synthetic ones,
    of v1's real files alone and of data v2 alone (computed once)."""
    if id(train) not in _POOLS:
        _POOLS[id(train)] = ([i for i, t in enumerate(train) if t[2] in ("real", "v2")],
                             [i for i, t in enumerate(train) if t[2] == "synthetic"],
                             [i for i, t in enumerate(train) if t[2] == "real"],
                             [i for i, t in enumerate(train) if t[2] == "v2"])
    return _POOLS[id(train)]


def make_batch(train, rng, args, p_real):
    """Random crops of `--frames` frames; a quarter start at frame 0 (from the initial state).
    Returns (features, targets, mask, onset function or None)."""
    real, synth, v1, v2 = pools(train)
    xs, ys, ms = [], [], []
    for _ in range(args.batch):
        xc, yc, m = crop(train, rng, args, p_real, real, synth, v1, v2)
        xs.append(xc); ys.append(yc); ms.append(m)
    # The onset function on each crop from its reset state (the crop's network also starts from
    # its initial state), for the loss of the mixed activation (--onset-mix).
    need = args.onset_mix > 0 or args.onset_boost > 0
    onsets = np.stack([common.onset_activation(xc) for xc in xs]) if need else None
    return np.stack(xs), np.stack(ys), np.stack(ms), onsets


def crop(train, rng, args, p_real, real, synth, v1=(), v2=()):
    """One batch item: (features, targets, mask). A real item comes from v1's real files with
    probability --v1-share when it is set (else every real sequence by its length)."""
    pool = real if (synth == [] or (real and rng.random() < p_real)) else synth
    if pool is real and args.v1_share is not None and v1 and v2:
        pool = v1 if rng.random() < args.v1_share else v2
    weights = np.array([len(train[i][0]) for i in pool], dtype=float)
    i = pool[rng.choice(len(pool), p=weights / weights.sum())]
    x, y, _, w = train[i]
    n = len(x)
    T = args.frames
    start = 0 if (n <= T or rng.random() < 0.25) else int(rng.integers(0, n - T))
    if rng.random() < args.augment:
        return common.augmented_crop(x, y, start, T, rng, args.widen, weights=w)
    xc, yc = x[start:start + T].astype(np.float32), y[start:start + T]
    m = np.ones(len(xc), dtype=np.float32) if w is None else w[start:start + T].astype(np.float32)
    if len(xc) < T:
        pad = T - len(xc)
        xc = np.concatenate([xc, np.zeros((pad, x.shape[1]), np.float32)])
        yc = np.concatenate([yc, np.zeros(pad, np.float32)])
        m = np.concatenate([m, np.zeros(pad, np.float32)])
    return xc, yc, m


def dbn_f(model, tactus, files, onset_mix=0.0):
    """Mean F-measure of the whole Tactus pipeline (this model, forward DBN, reactive mode) on the
    valid files: the model is exported to a temporary weight file and run by `tactus track`."""
    import tempfile
    import evaluate
    import export
    import tactus_weights as tw
    with tempfile.TemporaryDirectory() as tmp:
        tnn = os.path.join(tmp, "m.tnn")
        with open(tnn, "wb") as f:
            meta = {"name": "validation", "fps": "100"}
            if onset_mix > 0:
                meta["onset_mix"] = "%g" % onset_mix
            f.write(tw.encode([export.network_layers(model)], meta))
        scores = evaluate.evaluate(tactus, tnn, files, "reactive")
    return float(np.mean(list(scores.values())))


def mixed_bce(logits, onset, y, mix, pos_weight):
    """Binary cross-entropy of the activation Tactus tracks, (1 − mix)·network + mix·onset
    (BlendedActivation), with the beat class weighted by pos_weight as
    binary_cross_entropy_with_logits weighs it. Tried on CV folds 0 and 3: worse than training the
    network alone (training/README.md, "mix-aware training")."""
    import torch
    return weighted_bce((1 - mix) * torch.sigmoid(logits) + mix * onset, y, pos_weight, eps=1e-6)


def weighted_bce(p, y, pos_weight=1.0, eps=1e-6):
    """Per-frame binary cross-entropy of probabilities P (clamped to [eps, 1 − eps]) against
    targets Y, the beat class weighted by pos_weight."""
    import torch
    p = p.clamp(eps, 1 - eps)
    return -(pos_weight * y * torch.log(p) + (1 - y) * torch.log1p(-p))


_VALID_ONSETS = {}


def valid_onset(x, name):
    """The onset function of a valid file, computed once per run (the files do not change)."""
    if name not in _VALID_ONSETS:
        _VALID_ONSETS[name] = common.onset_activation(x)
    return _VALID_ONSETS[name]


def validate(model, valid, onset_mix=0.0):
    import torch
    import torch.nn.functional as F
    model.eval()
    losses, frames = 0.0, 0
    fs = {t: [] for t in THRESHOLDS}
    with torch.no_grad():
        for x, y, beats, name, w, audio in valid:
            logits = model(torch.from_numpy(x)[None])[0]
            wt = torch.ones(len(y)) if w is None else torch.from_numpy(w)
            if onset_mix > 0:
                onset = torch.from_numpy(valid_onset(x, name))
                losses += float((mixed_bce(logits, onset, torch.from_numpy(y), onset_mix, 1.0) * wt).sum())
                act = ((1 - onset_mix) * torch.sigmoid(logits) + onset_mix * onset).numpy()
            else:
                bce = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(y), reduction="none")
                losses += float((bce * wt).sum())
                act = torch.sigmoid(logits).numpy()
            frames += float(wt.sum())
            for t in THRESHOLDS:
                fs[t].append(common.f_measure(common.in_span(common.pick_peaks(act, t), audio),
                                              common.in_span(beats, audio)))
    model.train()
    mean_f = {t: float(np.mean(v)) for t, v in fs.items()}
    best_t = max(mean_f, key=mean_f.get)
    return losses / frames, mean_f[best_t], best_t


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default="run")
    p.add_argument("--data", default=os.path.join(common.HERE, "data"), help="render.py output (default training/data)")
    p.add_argument("--tactus", help="tactus binary (default: .build-train or .build, release first)")
    p.add_argument("--units", type=int, default=25)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--tempo-weight", type=float, default=0.0,
                   help="weight of an auxiliary local-tempo classification loss (training only; 0: none)")
    p.add_argument("--init", help="start from this checkpoint's weights (fine-tuning; same architecture)")
    p.add_argument("--dropout", type=float, default=0.0,
                   help="dropout between LSTM layers and before the output (training only)")
    p.add_argument("--front", type=int, default=0, help="units of a dense ReLU layer before the LSTMs (0: none)")
    p.add_argument("--peepholes", action="store_true", help="LSTM with peephole connections (as madmom; slower)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--frames", type=int, default=1500, help="crop length in frames (default 1500 = 15 s)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--schedule", choices=["plateau", "cosine"], default="plateau",
                   help="learning rate: halved when the valid F stalls, or cosine over --epochs")
    p.add_argument("--lr-patience", type=int, default=4, help="plateau epochs before halving the learning rate")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--steps", type=int, default=0, help="batches per epoch (default: about one pass over the data)")
    p.add_argument("--patience", type=int, default=10, help="epochs without a better valid F before stopping")
    p.add_argument("--pos-weight", type=float, default=1.0, help="weight of the beat class in the loss")
    p.add_argument("--pos-weight-epochs", type=int, default=0,
                   help="decay the beat weight linearly to 1 over this many epochs (0: constant)")
    p.add_argument("--select", choices=["dbn", "peaks", "last"], default="dbn",
                   help="early stopping on the F-measure of tactus (network + DBN, default) or of peak "
                        "picking; 'last': no selection, best.pt is the last epoch (cross-validation)")
    p.add_argument("--valid-speeds", type=float, nargs="*", default=[],
                   help="also score the whole pipeline on copies of the valid files at these speeds (e.g. 0.9 1.1)")
    p.add_argument("--cv-fold", type=int, choices=range(5),
                   help="cross-validation: train on the real files of the other folds (tools/cv_folds.py), "
                        "validate on this one; use with --select last")
    p.add_argument("--soundfont-licence", action="append", default=None,
                   help="train only on excerpts rendered with a soundfont under this licence (repeatable; "
                        "default MIT, what shipped weights may use; 'any' for all)")
    p.add_argument("--synthetic", action="append",
                   help="a render.py output directory (repeatable; default --data); DIR:N uses the first N rows "
                        "of its manifest (the excerpts rendered first, before the soundfont filter)")
    p.add_argument("--ema", type=float, default=0.0,
                   help="decay per step of an exponential moving average of the weights, which is then what is "
                        "validated and saved (0: the weights themselves)")
    p.add_argument("--widen", type=float, default=0.5, help="target at the beat frame's neighbours")
    p.add_argument("--augment", type=float, default=0.0,
                   help="share of crops augmented on the fly "
                        "(time stretch, band shift, EQ, gain: common.augmented_crop)")
    p.add_argument("--p-real", type=float, default=0.3, help="share of batch items from the real train split")
    p.add_argument("--real-variants", type=int, default=4, help="augmented copies of each real train file")
    p.add_argument("--real-speed", type=float, nargs=2, default=[0.85, 1.2], metavar=("MIN", "MAX"),
                   help="speed range of the augmented real copies")
    p.add_argument("--real-eq", type=float, default=0.0,
                   help="share of augmented real copies given a low- or high-pass")
    p.add_argument("--synthetic-speed-variants", type=int, default=1,
                   help="speed-changed copies of each synthetic excerpt")
    p.add_argument("--synthetic-tempo", type=float, default=0.0,
                   help="draw those copies' speeds so that their tempi centre on this BPM (speed 0.7-1.6; "
                        "0: speed uniform in 0.8-1.25)")
    p.add_argument("--synthetic-tempo-width", type=float, default=0.4, help="spread of those tempi (octaves, one sd)")
    p.add_argument("--no-synthetic-original", dest="synthetic_original", action="store_false",
                   help="train on the speed-changed copies of the synthetic excerpts only")
    p.add_argument("--max-synthetic", type=int, default=0, help="use only the first N synthetic excerpts")
    p.add_argument("--stop-after", type=int, default=0,
                   help="stop after this epoch (the schedule still spans --epochs; 0: run them all)")
    p.add_argument("--max-minutes", type=float, default=0, help="stop after this much wall time")
    p.add_argument("--flux-only", action="store_true",
                   help="the network reads only the positive first difference (the second half of the features): "
                        "the log-magnitude half is standardised by an infinite std, i.e. zeroed, and its "
                        "weights export as exact zeros")
    p.add_argument("--onset-mix", type=float, default=0.0, metavar="W",
                   help="train the mixed activation (1 - W)·network + W·onset function that Tactus tracks with the "
                        "model's onset_mix W (the loss is on the mix; export with the same --onset-mix); validation "
                        "then scores the mix too. 0: the network alone")
    p.add_argument("--valid-mix", type=float, default=None, metavar="W",
                   help="validate (log and select on) the mix (1 - W)·network + W·onset function "
                        "(default: --onset-mix)")
    p.add_argument("--onset-boost", type=float, default=0.0, metavar="B",
                   help="weight each frame's loss by 1 + B × the onset function's cross-entropy against the "
                        "targets there (the network alone is trained, as in v1, but most where the onset function "
                        "errs); 0: none")
    p.add_argument("--v2", action="store_true",
                   help="data v2 (issue 19): also train on the train songs of shared/data/beatles_mp3 (aligned "
                        "beats of training/beatles_alignment/) and shared/data/stepmania as --splits declares them, "
                        "and validate on their valid songs too (the test songs are never read)")
    p.add_argument("--splits", default=common.V2_SPLITS, help="the declared v2 splits (default training/splits_v2.tsv)")
    p.add_argument("--v2-variants", type=int, default=2, help="augmented copies of each v2 train song")
    p.add_argument("--v2-sets", nargs="+", default=["beatles_mp3", "stepmania"], choices=["beatles_mp3", "stepmania"],
                   help="the v2 sets trained on (validation keeps both)")
    p.add_argument("--v2-lowpass", type=float, default=0.5,
                   help="share of the augmented v2 copies, Beatles MP3s excepted, given a low-pass (--v2-lowpass-hz)")
    p.add_argument("--v2-lowpass-hz", type=float, nargs=2, default=[4000, 8000], metavar=("MIN", "MAX"),
                   help="cutoff range of that low-pass (the Beatles MP3s are band-limited to 8 kHz)")
    p.add_argument("--max-v2", type=int, default=0,
                   help="use only N of the v2 train songs, spread over both sets (smoke tests)")
    p.add_argument("--v1-share", type=float, default=None,
                   help="share of the real batch items drawn from v1's real files (the rest from data v2); "
                        "default: every real sequence by its length")
    p.add_argument("--outside-chart-weight", type=float, default=0.0,
                   help="loss weight of StepMania frames outside the charted span, where the grid is extrapolated")
    p.add_argument("--dbn-every", type=int, default=1,
                   help="score the whole Tactus pipeline on the valid files every Nth epoch only (and at the last); "
                        "the other epochs log the last score (it costs about 40 s with --v2)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    args.soundfont_licence = args.soundfont_licence or ["MIT"]
    if args.valid_mix is None:
        args.valid_mix = args.onset_mix

    import torch
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed + 1000)
    start_time = time.time()

    tactus = common.find_tactus(args.tactus)
    cache = common.FeatureCache(tactus, os.path.join(args.data, "features"))
    log("tactus %s, feature stamp %s" % (tactus, cache.stamp))
    train, valid = build_sets(args, cache)
    vfiles = valid_files(args)
    if args.valid_speeds:
        vfiles += speed_copies(vfiles, args.valid_speeds, os.path.join(args.data, "valid-speed"))
    total = sum(len(t[0]) for t in train)
    steps = args.steps or max(1, int(total / (args.batch * args.frames)))

    model = common.build_model(units=args.units, layers=args.layers, peepholes=args.peepholes, front=args.front,
                               dropout=args.dropout)
    n = sum(len(t[0]) for t in train)
    mean = sum(t[0].sum(axis=0, dtype=np.float64) for t in train) / n
    var = sum(((t[0].astype(np.float64) - mean) ** 2).sum(axis=0) for t in train) / n
    with torch.no_grad():
        model.mean.copy_(torch.from_numpy(mean.astype(np.float32)))
        model.std.copy_(torch.from_numpy(np.maximum(np.sqrt(var), 0.05).astype(np.float32)))
        if args.flux_only:
            half = common.FEATURES // 2
            model.mean[:half] = 0
            model.std[:half] = float("inf")
    if args.init:
        # Fine-tuning: start from a checkpoint's weights (same architecture); the input
        # standardisation comes with them.
        model.load_state_dict(common.load_checkpoint(args.init)[0].state_dict())
    params = sum(p.numel() for p in model.parameters())
    pos_weight = torch.tensor(args.pos_weight)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # An exponential moving average of the weights is what is validated and saved (--ema > 0):
    # one epoch's weights swing the whole pipeline's F by ±0.1 on the valid files; the average
    # moves slowly.
    ema = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema)) if args.ema > 0 else None
    evaluated = ema.module if ema is not None else model
    if args.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs, eta_min=args.lr / 50)
    else:
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=args.lr_patience)
    run_dir = os.path.join(args.data, "runs", args.name)
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "args.json"), "w") as f:   # what made this run, for its record
        json.dump(vars(args), f, indent=1, sort_keys=True)
    logf = open(os.path.join(run_dir, "log.jsonl"), "w")
    arch = {"units": args.units, "layers": args.layers, "inputs": common.FEATURES, "peepholes": args.peepholes,
            "front": args.front}
    log("model: %s%d LSTM layers x %d units + dense, %d parameters; %d steps/epoch of %d x %d frames" % (
        "dense %d ReLU + " % args.front if args.front else "", args.layers, args.units, params, steps, args.batch,
        args.frames))

    best_f, best_epoch, best_df, bad = -1.0, 0, 0.0, 0
    last_df, df_epoch = float("nan"), 0
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        losses = []
        if args.pos_weight_epochs > 0:   # linear decay from --pos-weight to 1
            frac = min((epoch - 1) / args.pos_weight_epochs, 1.0)
            pos_weight = torch.tensor(args.pos_weight + (1.0 - args.pos_weight) * frac)
        for _ in range(steps):
            x, y, m, onset = make_batch(train, rng, args, args.p_real)
            x, y, m = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(m)
            if args.tempo_weight > 0:
                model.with_tempo = True
                logits, tempo_logits = model(x)
                model.with_tempo = False
                tt = torch.from_numpy(np.stack([common.tempo_targets(yy, len(yy)) for yy in y.numpy()]))
                tt[m == 0] = -100
                tempo_loss = F.cross_entropy(tempo_logits.reshape(-1, common.TEMPO_BINS), tt.reshape(-1),
                                             ignore_index=-100)
            else:
                logits, tempo_loss = model(x), 0.0
            if args.onset_mix > 0:
                bce = mixed_bce(logits, torch.from_numpy(onset), y, args.onset_mix, pos_weight)
            else:
                bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none", pos_weight=pos_weight)
            if args.onset_boost > 0:
                # Boosting: frames weighted by how wrong the onset function is there (its own
                # cross-entropy against the targets), so the network learns most where the
                # onset function it is mixed with errs (off-beat onsets, quiet beats).
                m = m * (1 + args.onset_boost * weighted_bce(torch.from_numpy(onset), y, eps=1e-4))
            loss = (bce * m).sum() / m.sum()
            loss = loss + args.tempo_weight * tempo_loss
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if ema is not None:
                ema.update_parameters(model)
            losses.append(loss.item())
        vloss, pf, vt = validate(evaluated, valid, args.valid_mix)
        if epoch % args.dbn_every == 0 or epoch == args.epochs or (args.stop_after and epoch >= args.stop_after) \
                or (args.max_minutes and time.time() - start_time > args.max_minutes * 60):
            df = dbn_f(evaluated, tactus, vfiles, args.valid_mix)
            df_epoch = epoch
        else:
            df = last_df
        last_df = df
        vf = {"dbn": df, "peaks": pf, "last": float(epoch)}[args.select]
        sched.step() if args.schedule == "cosine" else sched.step(df if args.select == "last" else vf)
        wall = time.time() - start_time
        rec = {"epoch": epoch, "train_loss": float(np.mean(losses)), "valid_loss": vloss, "valid_f": df,
               "valid_f_peaks": pf, "valid_f_dbn": df, "valid_f_dbn_epoch": df_epoch, "select": vf,
               "pos_weight": float(pos_weight), "threshold": vt, "lr": opt.param_groups[0]["lr"],
               "epoch_s": time.time() - t0, "wall_s": wall}
        logf.write(json.dumps(rec) + "\n"); logf.flush()
        improved = vf > best_f
        log(("epoch %3d  train %.4f (pos_weight %.2f)  valid loss %.4f  F peaks %.3f (thr %.1f)  F tactus %.3f"
             "  %.0f s/epoch  wall %.0f s%s") % (
            epoch, rec["train_loss"], float(pos_weight), vloss, pf, vt, df, rec["epoch_s"], wall,
            "  *" if improved else ""))
        ck = {"arch": arch, "state": evaluated.state_dict(), "epoch": epoch, "valid_f": df, "valid_loss": vloss,
              "threshold": vt, "args": vars(args), "feature_stamp": cache.stamp}
        torch.save(ck, os.path.join(run_dir, "last.pt"))
        torch.save(ck, os.path.join(run_dir, "epoch%03d.pt" % epoch))   # for later selection and averaging
        if improved:
            best_f, best_epoch, best_df, bad = vf, epoch, df, 0
            torch.save(ck, os.path.join(run_dir, "best.pt"))
        else:
            bad += 1
        if bad >= args.patience:
            log("early stop: no better valid F for %d epochs" % args.patience)
            break
        if args.stop_after and epoch >= args.stop_after:
            log("stop: epoch %d (--stop-after)" % epoch)
            break
        if args.max_minutes and wall > args.max_minutes * 60:
            log("stop: wall-time limit of %.0f min" % args.max_minutes)
            break
    log("best: epoch %d (by %s), valid F of tactus %.3f; %s; total wall %.0f s" % (
        best_epoch, {"dbn": "tactus F", "peaks": "peak-picking F", "last": "last epoch"}[args.select], best_df,
        os.path.join(run_dir, "best.pt"), time.time() - start_time))


if __name__ == "__main__":
    main()
