"""Shared pieces of the training scripts: Tactus features (through the `tactus` binary), beat
targets, the PyTorch model that mirrors Tactus's LSTM layers, and beat evaluation."""
import csv
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))   # cv_folds, tactus_weights
SHARED_DATA = os.path.join(ROOT, "..", "shared", "data")
FPS = 100.0
FEATURES = 162


def find_tactus(path=None):
    """The built `tactus` binary: --tactus, $TACTUS, or the newest in the usual build folders
    (an old build in one folder must not silently stand in for the current code)."""
    for c in (path, os.environ.get("TACTUS")):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    for kind in ("release", "debug"):
        built = [c for c in (os.path.join(ROOT, d, kind, "tactus") for d in (".build-train", ".build"))
                 if os.path.isfile(c) and os.access(c, os.X_OK)]
        if built:
            return os.path.abspath(max(built, key=os.path.getmtime))
    raise SystemExit("no tactus binary: build it (swift build -c release --scratch-path .build-train) or pass --tactus")


def feature_stamp(tactus):
    """Hash of the features of the embedded example: changes exactly when the feature stage does,
    so cached features are rebuilt after any change to it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.npy")
        subprocess.run([tactus, "features", "--example", "--output", out], check=True)
        with open(out, "rb") as f:
            return hashlib.sha1(f.read()).hexdigest()[:12]


def tactus_features(tactus, audio, out):
    subprocess.run([tactus, "features", audio, "--output", out], check=True,
                   stdout=subprocess.DEVNULL)
    return np.load(out)


class FeatureCache:
    """Features of (possibly augmented) audio, computed by `tactus features` and kept as .npy.

    Augmentation works on the audio before the feature stage: gain, added noise, and a change
    of speed (tempo and pitch together, like tape) by rewriting the samples with another header
    sample rate, so that tactus's own resampler does the work. Beats scale by 1/speed."""

    def __init__(self, tactus, directory):
        self.tactus = tactus
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.stamp = feature_stamp(tactus)

    def get(self, audio, speed=1.0, gain_db=0.0, noise_snr=None, seed=0, eq=None):
        """Features of AUDIO after the augmentation: speed factor, gain (dB), white noise at
        NOISE_SNR dB, and EQ, a (kind, cutoff Hz) Butterworth filter ("lowpass", "highpass")
        applied before the speed change."""
        st = os.stat(audio)
        key = "%s|%d|%d|%.4f|%.2f|%s|%d|%s" % (os.path.abspath(audio), st.st_size, int(st.st_mtime),
                                                speed, gain_db, noise_snr, seed, self.stamp)
        if eq is not None:
            key += "|eq %s %.0f" % eq
        name = hashlib.sha1(key.encode()).hexdigest()[:20] + ".npy"
        path = os.path.join(self.dir, name)
        if os.path.exists(path):
            return np.load(path)
        tmp_out = "%s.%d.tmp.npy" % (path, os.getpid())   # several trainings may fill one cache
        if speed == 1.0 and gain_db == 0.0 and noise_snr is None and eq is None:
            x = tactus_features(self.tactus, audio, tmp_out)
        else:
            import soundfile as sf
            y, rate = sf.read(audio, dtype="float32", always_2d=True)
            y = y.mean(axis=1) * 10 ** (gain_db / 20)
            if eq is not None:
                from scipy.signal import butter, sosfilt
                y = sosfilt(butter(2, eq[1], eq[0], fs=rate, output="sos"), y).astype(np.float32)
            if noise_snr is not None:
                rng = np.random.default_rng(seed)
                n = rng.standard_normal(len(y)).astype(np.float32)
                p = np.mean(y ** 2) + 1e-12
                y = y + n * np.sqrt(p / 10 ** (noise_snr / 10))
            peak = np.max(np.abs(y))
            if peak > 0.999:
                y *= 0.999 / peak
            with tempfile.TemporaryDirectory() as tmp:
                wav = os.path.join(tmp, "aug.wav")
                sf.write(wav, y, int(round(rate * speed)), subtype="FLOAT")
                x = tactus_features(self.tactus, wav, tmp_out)
        os.replace(tmp_out, path)
        return x


BANDS = FEATURES // 2   # the log-filtered bands; the other half is their positive first difference


def augmented_crop(x, y, start, frames, rng, widen, stretch=0.1, shift=2, eq_db=6.0, gain_db=10.0, weights=None):
    """A crop of FRAMES frames of features X (from frame START) with random augmentation on the
    fly, done in the linear magnitude domain of the bands (features are log10(1 + magnitude)):
    time stretch by r in [1 − stretch, 1 + stretch] (linear interpolation of the band magnitudes
    along time; the beats move with it), a shift of the bands by up to ±`shift` (about a semitone
    each above a few hundred Hz), an equaliser (a tilt and a bump of up to ±`eq_db`) and a gain of
    up to ±`gain_db`. The difference half is recomputed exactly as Tactus computes it
    (max(0, b_t − b_{t−1}), 0 at the file's first frame). WEIGHTS (per frame of X, or None) are
    stretched with the frames (nearest source frame) and multiplied into the mask. Returns
    (features, targets, mask)."""
    r = float(rng.uniform(1 - stretch, 1 + stretch))
    lead = 1 if start > 0 else 0                   # one frame before the crop, for the difference
    first = start - lead
    need = int(np.ceil((frames - 1) * r)) + 2 + lead
    mag = 10.0 ** x[first:first + need, :BANDS].astype(np.float32) - 1
    pos = lead + (np.arange(-lead, frames)) * r    # output frames (and the lead one) in source frames
    pos = pos[pos <= len(mag) - 1]
    i0 = np.floor(pos).astype(int)
    frac = (pos - i0)[:, None].astype(np.float32)
    i1 = np.minimum(i0 + 1, len(mag) - 1)
    m = mag[i0] * (1 - frac) + mag[i1] * frac
    k = int(rng.integers(-shift, shift + 1))
    if k:
        m = m[:, np.clip(np.arange(BANDS) - k, 0, BANDS - 1)]
    band = np.arange(BANDS) / (BANDS - 1)
    g_db = (rng.uniform(-eq_db, eq_db) * (band - 0.5)
            + rng.uniform(-eq_db, eq_db) * np.exp(-0.5 * ((band - rng.uniform()) / rng.uniform(0.04, 0.2)) ** 2)
            + rng.uniform(-gain_db, gain_db))
    m *= (10.0 ** (g_db / 20)).astype(np.float32)
    bands = np.log10(1 + np.maximum(m, 0))
    diff = np.zeros_like(bands)
    diff[1:] = np.maximum(0, bands[1:] - bands[:-1])
    xc = np.concatenate([bands, diff], axis=1)[lead:]
    beats = (np.nonzero(y[start:start + need] == 1)[0] / r) / FPS
    n = len(xc)
    yc = targets(beats, n, widen)
    mask = np.ones(n, dtype=np.float32)
    if weights is not None:
        src = np.minimum(first + np.rint(pos).astype(int), len(weights) - 1)[lead:lead + n]
        mask *= weights[src]
    if n < frames:
        pad = frames - n
        xc = np.concatenate([xc, np.zeros((pad, FEATURES), np.float32)])
        yc = np.concatenate([yc, np.zeros(pad, np.float32)])
        mask = np.concatenate([mask, np.zeros(pad, np.float32)])
    return xc.astype(np.float32), yc, mask


def load_beats(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts and not parts[0].startswith("#"):
                rows.append(float(parts[0]))
    return np.array(rows)


def targets(beats, frames, widen=0.5):
    """Beat frames (frame i is time i/FPS) set to 1, their neighbours to `widen`."""
    y = np.zeros(frames, dtype=np.float32)
    idx = np.round(np.asarray(beats) * FPS).astype(int)
    idx = idx[(idx >= 0) & (idx < frames)]
    if widen > 0:
        for d in (-1, 1):
            j = idx + d
            j = j[(j >= 0) & (j < frames)]
            y[j] = np.maximum(y[j], widen)
    y[idx] = 1.0
    return y


# Real data sets never trained on: their licence does not allow it in shipped weights.
EXCLUDED_REAL = {"madmom_sample": "CC BY-NC-SA 4.0 (madmom's test data)"}


def real_files(split=None, folds=None, data=SHARED_DATA):
    """(audio, beats, dataset, stem) of the real annotated audio of manifest.tsv: one split
    ("train", "valid"), or the files of the given cross-validation folds (tools/cv_folds.py)."""
    import cv_folds
    with open(os.path.join(data, "manifest.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    fold = cv_folds.assign([(r["dataset"], r["stem"]) for r in rows])
    return [(os.path.join(data, r["audio"]), os.path.join(data, r["annotation"]), r["dataset"], r["stem"])
            for r in rows
            if (split is None or r["split"] == split) and (folds is None or fold[(r["dataset"], r["stem"])] in folds)]


# ---------------------------------------------------------------- data v2 (issue 19)

V2_SPLITS = os.path.join(HERE, "splits_v2.tsv")
BEATLES_ALIGNMENT = os.path.join(HERE, "beatles_alignment")
# Where a file's annotations are trustworthy, by audio path: StepMania grids were synced by their
# authors between the first and last charted note only (manifest charted_start_s/charted_end_s);
# outside it they are extrapolated. Filled by v2_files; used for the loss mask and the F-measure.
SPANS = {}


def v2_files(split, splits=V2_SPLITS, data=SHARED_DATA, *, release_report=False):
    """(audio, beats, dataset, stem) of the data v2 songs of SPLIT ("train", "valid"; "test" is
    refused: it is never trained on nor used for any choice) as training/splits_v2.tsv declares it:
    shared/data/beatles_mp3 (the MP3s with the beats of training/beatles_alignment/, on the MP3
    clock; never the raw CD-clock annotations) and shared/data/stepmania (the chart grids; their
    charted span goes into SPANS). RELEASE_REPORT=True allows "test" too, for the scores of a
    release report only (bench/accuracy.py --v2 test)."""
    if split not in ("train", "valid") + (("test",) if release_report else ()):
        raise ValueError("v2_files: split %r (the test split is never read for training or choices)" % split)
    with open(splits) as f:
        rows = [r for r in csv.DictReader((l for l in f if not l.startswith("#")), delimiter="\t")
                if r["split"] == split]
    manifests = {}
    for dataset, key in (("beatles_mp3", "stem"), ("stepmania", "slug")):
        with open(os.path.join(data, dataset, "manifest.tsv")) as f:
            manifests[dataset] = {r[key]: r for r in csv.DictReader(f, delimiter="\t")}
    out = []
    for r in rows:
        dataset, stem = r["dataset"], r["stem"]
        m = manifests[dataset][stem]
        audio = os.path.join(data, dataset, m["audio"])
        if dataset == "beatles_mp3":
            beats = os.path.join(BEATLES_ALIGNMENT, stem + ".beats")
        elif dataset == "stepmania":
            beats = os.path.join(data, dataset, m["annotation"])
            SPANS[os.path.abspath(audio)] = (float(m["charted_start_s"]), float(m["charted_end_s"]))
        else:
            raise ValueError("v2_files: unknown data set %r in %s" % (dataset, splits))
        out.append((audio, beats, dataset, stem))
    return out


def stem_groups(items, stem):
    """ITEMS in groups without a repeated STEM(item), in order: `tactus track` (and madmom) name
    their outputs after the audio file's stem, and beatles/ and beatles_mp3/ share stems."""
    groups = []
    for item in items:
        group = next((g for g in groups if all(stem(other) != stem(item) for other in g)), None)
        if group is None:
            group = []
            groups.append(group)
        group.append(item)
    return groups


def span_weights(audio, frames, speed=1.0, outside=0.0):
    """Per-frame loss weights of the features (FRAMES long) of AUDIO played at SPEED: 1 inside its
    trusted span (SPANS, scaled by 1/speed), OUTSIDE elsewhere; None when all of it is trusted."""
    span = SPANS.get(os.path.abspath(audio))
    if span is None:
        return None
    w = np.full(frames, outside, dtype=np.float32)
    lo = max(0, int(np.floor(span[0] / speed * FPS)))
    hi = min(frames, int(np.ceil(span[1] / speed * FPS)) + 1)
    w[lo:hi] = 1.0
    return w


def in_span(times, audio):
    """TIMES (s) inside AUDIO's trusted span (all of them when it has none): for scoring."""
    t = np.asarray(times, dtype=float)
    span = SPANS.get(os.path.abspath(audio))
    return t if span is None else t[(t >= span[0]) & (t <= span[1])]


def synthetic_files(directory, rows=None, soundfont_licences=None):
    """(audio, beats, source, id) of render.py's excerpts in DIRECTORY (of the first ROWS rows of
    its manifest when given: the excerpts rendered first); only those rendered with a soundfont
    under one of SOUNDFONT_LICENCES when given (the rendered audio carries the sound font's
    samples: weights meant for shipping are trained on permissively licensed ones only)."""
    path = os.path.join(directory, "manifest.tsv")
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for i, r in enumerate(csv.DictReader(f, delimiter="\t")):
            if rows is not None and i >= rows:
                break
            if soundfont_licences is None or r["soundfont_licence"] in soundfont_licences:
                out.append((os.path.join(directory, r["audio"]), os.path.join(directory, r["beats"]),
                            r["source"], r["id"]))
    return out


# ---------------------------------------------------------------- model

TEMPO_MIN, TEMPO_BINS_PER_OCTAVE, TEMPO_BINS = 40.0, 8, 21   # the auxiliary tempo head: 40-250 BPM


def tempo_targets(y, frames):
    """Per frame, the bin of the local tempo (60 / the interval of the two beats around it; the
    nearest interval before the first and after the last beat), from the beat frames of targets
    Y (value 1); -100 (ignored) everywhere when fewer than two beats."""
    b = np.nonzero(y[:frames] == 1)[0]
    out = np.full(frames, -100, dtype=np.int64)
    if len(b) < 2:
        return out
    ibi = np.diff(b) / FPS
    k = np.clip(np.searchsorted(b, np.arange(frames), side="right") - 1, 0, len(ibi) - 1)
    bins = np.round(np.log2(60 / ibi[k] / TEMPO_MIN) * TEMPO_BINS_PER_OCTAVE)
    out[:] = np.clip(bins, 0, TEMPO_BINS - 1)
    return out


def build_model(units=25, layers=3, inputs=FEATURES, peepholes=False, front=0, dropout=0.0):
    import torch
    from torch import nn

    lstm_inputs = front or inputs

    class PeepholeLSTM(nn.Module):
        """Stacked LSTM with peephole connections, madmom's and Tactus's equations: i, f see the
        previous cell state, o the new one. Same parameter names as nn.LSTM, plus peep_l<k>
        (3 × units: input, forget, output). A Python loop over frames: slower than nn.LSTM."""

        def __init__(self):
            super().__init__()
            k = 1 / units ** 0.5
            for l in range(layers):
                n_in = lstm_inputs if l == 0 else units
                for name, shape in (("weight_ih", (4 * units, n_in)), ("weight_hh", (4 * units, units)),
                                    ("bias_ih", (4 * units,)), ("bias_hh", (4 * units,))):
                    setattr(self, "%s_l%d" % (name, l), nn.Parameter(torch.empty(shape).uniform_(-k, k)))
                setattr(self, "peep_l%d" % l, nn.Parameter(torch.zeros(3, units)))

        def forward(self, x, state):
            h0, c0 = state
            U = units
            for l in range(layers):
                wih, whh = getattr(self, "weight_ih_l%d" % l), getattr(self, "weight_hh_l%d" % l)
                p = getattr(self, "peep_l%d" % l)
                xw = x @ wih.T + getattr(self, "bias_ih_l%d" % l) + getattr(self, "bias_hh_l%d" % l)
                h, c = h0[l], c0[l]
                outs = []
                for t in range(x.shape[1]):
                    z = xw[:, t] + h @ whh.T
                    i = torch.sigmoid(z[:, :U] + p[0] * c)
                    f = torch.sigmoid(z[:, U:2 * U] + p[1] * c)
                    c = f * c + i * torch.tanh(z[:, 2 * U:3 * U])
                    o = torch.sigmoid(z[:, 3 * U:] + p[2] * c)
                    h = o * torch.tanh(c)
                    outs.append(h)
                x = torch.stack(outs, 1)
            return x, None

    class BeatLSTM(nn.Module):
        """Causal beat network, exactly Tactus's layer types: optionally a dense ReLU layer of
        `front` units applied to each frame (a learned projection of the 162 features), then
        `layers` LSTM layers (peepholes optional, tanh output activation, learned initial h and
        c), then a dense layer with one sigmoid output. PyTorch's LSTM equations (gates i, f, g, o;
        c' = f·c + i·g; h = o·tanh(c')) are
        Tactus's with the peepholes at zero; its two bias vectors add up to Tactus's one."""

        def __init__(self):
            super().__init__()
            self.units, self.layers, self.inputs = units, layers, inputs
            self.peepholes, self.front_units = peepholes, front
            self.front = nn.Linear(inputs, front) if front else None
            self.lstm = PeepholeLSTM() if peepholes else nn.LSTM(lstm_inputs, units, layers, batch_first=True,
                                                                 dropout=dropout if layers > 1 else 0.0)
            # Dropout (training only; inference has none, so Tactus needs no such layer): between
            # the LSTM layers (nn.LSTM's own) and on the last LSTM's output.
            self.drop = nn.Dropout(dropout)
            # Auxiliary head, training only (export.py writes the beat output alone): the local
            # tempo class, so that the shared state must carry the periodicity (multi-task
            # learning of tempo and beats, Böck, Davies & Knees 2019).
            self.tempo = nn.Linear(units, TEMPO_BINS)
            self.with_tempo = False
            self.h0 = nn.Parameter(torch.zeros(layers, 1, units))
            self.c0 = nn.Parameter(torch.zeros(layers, 1, units))
            self.out = nn.Linear(units, 1)
            # Input standardisation (x − mean) / std, set from the training features. Tactus has
            # no such layer: export.py folds it into the first layer's weights and biases.
            self.register_buffer("mean", torch.zeros(inputs))
            self.register_buffer("std", torch.ones(inputs))

        def forward(self, x):
            """x: (batch, frames, inputs) → logits (batch, frames)."""
            x = (x - self.mean) / self.std
            if self.front is not None:
                x = torch.relu(self.front(x))
            b = x.shape[0]
            state = (self.h0.expand(-1, b, -1).contiguous(), self.c0.expand(-1, b, -1).contiguous())
            h, _ = self.lstm(x, state)
            h = self.drop(h)
            if self.with_tempo:
                return self.out(h).squeeze(-1), self.tempo(h)
            return self.out(h).squeeze(-1)

    return BeatLSTM()


def load_checkpoint(path):
    import torch
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = build_model(**ck["arch"])
    missing, unexpected = model.load_state_dict(ck["state"], strict=False)
    if unexpected or any(not k.startswith("tempo.") for k in missing):   # checkpoints before the tempo head
        raise SystemExit("%s: does not fit the model: missing %s, unexpected %s" % (path, missing, unexpected))
    model.eval()
    return model, ck


# ---------------------------------------------------------------- evaluation

def pick_peaks(act, threshold, window=7):
    """Frames that are the maximum of ±window frames and above threshold (offline, simple)."""
    from scipy.ndimage import maximum_filter1d
    m = maximum_filter1d(act, 2 * window + 1, mode="constant")
    return np.nonzero((act == m) & (act > threshold))[0] / FPS


def f_measure(detections, annotations, tolerance=0.07, skip=5.0):
    """mir_eval's beat F-measure: beats before `skip` s dropped, one-to-one matches within ±70 ms."""
    d = np.sort(np.asarray(detections, dtype=float))
    a = np.sort(np.asarray(annotations, dtype=float))
    d, a = d[d >= skip], a[a >= skip]
    if len(a) == 0 or len(d) == 0:
        return 0.0
    used = np.zeros(len(d), dtype=bool)
    hits = 0
    for t in a:
        j = np.searchsorted(d, t)
        best, bestj = tolerance + 1e-9, -1
        for k in (j - 1, j, j + 1):
            if 0 <= k < len(d) and not used[k] and abs(d[k] - t) <= best:
                best, bestj = abs(d[k] - t), k
        if bestj >= 0:
            used[bestj] = True
            hits += 1
    return 2.0 * hits / (len(d) + len(a))


# ---------------------------------------------------------------- onset function

# SpectralFluxOnset's defaults (Sources/TactusCore/Activation/SpectralFluxOnset.swift, OnsetConfig):
# the model-free activation that BlendedActivation mixes with the network's at inference.
ONSET_MEAN_FRAMES = 50          # meanWindow 0.5 s at 100 frames/s
ONSET_PEAK_HALF_LIFE = 5.0      # s
ONSET_FLOOR = 10.0
ONSET_ACTIVATION_FLOOR = 0.02


def onset_activation(x):
    """Tactus's onset function on features X (frames × 162) from its reset state, as
    SpectralFluxOnset.process computes it frame by frame (float32, tested against
    `tactus track --activations --no-model` to 1e-4): spectral flux (the sum of the difference
    half), minus the causal mean of the previous 50 frames, scaled by a decaying running peak."""
    x = np.asarray(x, dtype=np.float32)
    d = x[:, BANDS:]
    flux = np.where(np.isfinite(d), d, 0).sum(axis=1, dtype=np.float32)
    n = len(flux)
    # The mean of frames t−50 … t−1 (zeros before the first frame), this frame excluded.
    c = np.concatenate([[0.0], np.cumsum(flux, dtype=np.float64)])
    lo = np.maximum(np.arange(n) - ONSET_MEAN_FRAMES, 0)
    mean = ((c[np.arange(n)] - c[lo]) / ONSET_MEAN_FRAMES).astype(np.float32)
    onset = np.maximum(flux - mean, 0)
    decay = 2.0 ** (-1 / (ONSET_PEAK_HALF_LIFE * FPS))
    peaks, p = [], ONSET_FLOOR
    for v in onset.tolist():   # a recursion: one pass in Python floats (a few 0.1 µs a frame)
        p = max(v, p * decay, ONSET_FLOOR)
        peaks.append(p)
    peak = np.array(peaks, dtype=np.float32)
    low = np.float32(ONSET_ACTIVATION_FLOOR)
    return (low + (1 - 2 * low) * np.minimum(onset / peak, 1)).astype(np.float32)
