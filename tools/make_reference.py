#!/usr/bin/env python3
"""Build madmom 0.16.1 reference outputs for Tactus's conformance tests.

Runs madmom's online beat tracker exactly as `DBNBeatTracker online FILE` does: a FramedSignal
with origin 'online' (2048-sample frames, hop 441), each frame passed through
RNNBeatProcessor(online=True) and DBNBeatTrackingProcessor(online=True) with reset=False, so all
state is kept between frames. For each input it writes, into OUTDIR:

    NAME.features.f32     frames x 162 float32 little-endian (log-filtered spectrum + positive diff)
    NAME.activations.f32  frames float32 (8-network ensemble average)
    NAME.beats.txt        beat times (s), one per line
and OUTDIR/index.tsv: name, audio path, frames, duration.

Inputs: generated signals (written as 44.1 kHz float32 WAV into OUTDIR/signals) and the audio
files listed with --files. Run with the madmom venv's python (../shared/tools/setup-madmom.sh).
"""
import argparse
import multiprocessing as mp
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
SR = 44100


def generated_signals():
    """Deterministic test signals covering clicks, tones, noise, silence and level changes."""
    rng = np.random.RandomState(7)
    t = np.arange(int(12 * SR)) / SR
    out = {}
    # Clicks at 100 BPM over a quiet chord.
    x = 0.05 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 277.2 * t) + np.sin(2 * np.pi * 329.6 * t))
    for b in np.arange(0.3, 12, 0.6):
        i = int(b * SR)
        n = min(2000, len(x) - i)
        x[i:i + n] += 0.6 * np.exp(-np.arange(n) / 200.0) * rng.uniform(-1, 1, n)
    out["gen_clicks_100bpm"] = x
    # Logarithmic sine sweep 30 Hz - 16 kHz with amplitude steps every second.
    f = 30 * (16000 / 30.0) ** (t / t[-1])
    phase = 2 * np.pi * np.cumsum(f) / SR
    out["gen_sweep_steps"] = 0.5 * np.sin(phase) * (0.2 + 0.8 * ((t.astype(int) % 3) / 2.0))
    # Silence, then white noise bursts at 128 BPM, then a sustained tone.
    y = np.zeros_like(t)
    for b in np.arange(2.0, 8.0, 60 / 128.0):
        i = int(b * SR)
        n = int(0.08 * SR)
        y[i:i + n] += 0.4 * rng.normal(0, 1, n) * np.exp(-np.arange(n) / (0.02 * SR))
    y[int(8 * SR):] += 0.3 * np.sin(2 * np.pi * 440 * t[int(8 * SR):])
    out["gen_silence_noise_tone"] = y
    return {k: v.astype(np.float32) for k, v in out.items()}


def run_madmom(path):
    from madmom.audio.signal import FramedSignal
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor

    kw = dict(online=True, num_frames=1, origin="stream", fps=100)
    rnn = RNNBeatProcessor(**kw)
    dbn = DBNBeatTrackingProcessor(**kw)
    pre, nn = rnn.processors
    stream = FramedSignal(path, frame_size=2048, hop_size=441, fps=100, origin="online",
                          num_frames=None, num_channels=1)
    if stream.signal.sample_rate != SR:
        raise SystemExit("%s: %d Hz; references need 44.1 kHz input" % (path, stream.signal.sample_rate))
    feats, acts, beats = [], [], []
    for frame in stream:
        f = pre(frame, reset=False)
        a = nn(f, reset=False)
        b = dbn.process_online(a, reset=False)
        feats.append(np.asarray(f, dtype=np.float32).reshape(-1))
        acts.append(float(np.asarray(a).reshape(-1)[0]))
        beats.extend(float(v) for v in np.asarray(b).reshape(-1))
    return np.array(feats, dtype="<f4"), np.array(acts, dtype="<f4"), beats, len(stream.signal) / SR


def job(args):
    name, path, outdir = args
    feats, acts, beats, duration = run_madmom(path)
    feats.tofile(os.path.join(outdir, name + ".features.f32"))
    acts.tofile(os.path.join(outdir, name + ".activations.f32"))
    with open(os.path.join(outdir, name + ".beats.txt"), "w") as f:
        f.writelines("%.2f\n" % b for b in beats)
    return name, path, len(acts), duration


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("outdir")
    p.add_argument("--files", nargs="*", default=[], help="44.1 kHz audio files to add")
    p.add_argument("-j", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    import scipy.io.wavfile

    sigdir = os.path.join(args.outdir, "signals")
    os.makedirs(sigdir, exist_ok=True)
    tasks = []
    for name, x in generated_signals().items():
        path = os.path.join(sigdir, name + ".wav")
        scipy.io.wavfile.write(path, SR, x)
        tasks.append((name, os.path.abspath(path), args.outdir))
    for path in args.files:
        name = os.path.splitext(os.path.basename(path))[0]
        tasks.append((name, os.path.abspath(path), args.outdir))
    with mp.Pool(args.j) as pool:
        rows = pool.map(job, tasks)
    with open(os.path.join(args.outdir, "index.tsv"), "w") as f:
        f.write("name\taudio\tframes\tduration_s\n")
        for name, path, frames, duration in rows:
            f.write("%s\t%s\t%d\t%.3f\n" % (name, path, frames, duration))
    print("references for %d inputs in %s" % (len(rows), args.outdir), file=sys.stderr)


if __name__ == "__main__":
    main()
