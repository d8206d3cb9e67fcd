#!/usr/bin/env python3
"""Render synthetic training audio with exact beats from MIDI (reproducible: fixed seeds).

    training/.venv/bin/python training/render.py --minutes 90 [--out training/data] [--seed 1]

Sources (licences that allow shipped weights only; ASAP is never used here):
  groove   Groove MIDI Dataset, `beat` grooves of the train split of info.csv, drums only
           (CC BY 4.0). Beats: pretty_midi get_beats() (the click grid). Tempo varied by scaling
           MIDI time.
  pop909   POP909 piano arrangements (MIT), random GM programs per track. Beats: beat_midi/NNN.txt
           (NOT get_beats(): the MIDI grid is phase-shifted against the music).
  layered  POP909 plus a Groove drum groove of similar tempo, time-warped onto the POP909 beat grid
           (Groove beat k → POP909 beat k, groove bar starts on a POP909 downbeat).

Each excerpt is cut from the MIDI (not from rendered audio), rendered by fluidsynth (reverb and
chorus off) with a soundfont drawn from those installed, mixed to mono, then given a random gain,
an optional filter, an optional synthetic room reverb (exponentially decaying noise) and optional
noise, and written as 16-bit mono WAV at 44.1 kHz with a .beats file (one time in s per line).
Everything random comes from numpy generators seeded by (--seed, excerpt index), so the same
command gives the same files. A manifest (manifest.tsv) lists audio, beats, source, licence and
the render settings.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

RATE = 44100
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MIDI = os.path.join(HERE, "..", "..", "shared", "data", "midi")

# (path, licence); those present are used. FluidR3 (MIT) and MuseScore General (MIT) are preferred.
SOUNDFONTS = [
    ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "MIT"),
    ("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3", "MIT"),
    ("/usr/share/sounds/sf2/TimGM6mb.sf2", "GPL-2"),
    ("/usr/share/sounds/sf2/OPL-3_FM_128M.sf2", "CC BY-SA 4.0 / GPL-3+"),
]
SOUNDFONT_WEIGHTS = {"FluidR3_GM.sf2": 0.4, "MuseScore_General_Lite.sf3": 0.3, "TimGM6mb.sf2": 0.2,
                     "OPL-3_FM_128M.sf2": 0.1}
# GM drum kits (bank 128) present in FluidR3 and MuseScore General; other fonts get kit 0.
DRUM_KITS = [0, 0, 0, 8, 16, 24, 25, 32, 40]
# GM programs for the POP909 tracks: pianos, chromatic percussion, organs, guitars, basses,
# strings, ensembles, brass, reeds, pipes, synth leads and pads.
MELODIC_PROGRAMS = [0, 0, 0, 1, 2, 4, 5, 6, 7, 8, 11, 16, 17, 19, 24, 25, 26, 27, 29, 40, 41, 42, 48,
                    49, 50, 52, 56, 57, 60, 61, 64, 65, 66, 68, 71, 73, 80, 81, 82, 87, 88, 89, 90, 91, 95]
BASS_PROGRAMS = [32, 33, 34, 35, 36, 38, 39, 42, 43, 58, 70, 87]

LICENCES = {"groove": "CC BY 4.0 (Groove MIDI Dataset, Gillick et al. 2019)",
            "pop909": "MIT (POP909)",
            "layered": "MIT (POP909) + CC BY 4.0 (Groove MIDI Dataset)"}


def available_soundfonts():
    fonts = [(p, lic) for p, lic in SOUNDFONTS if os.path.exists(p)]
    if not fonts:
        raise SystemExit("render.py: no soundfont found (apt-get install fluid-soundfont-gm)")
    return fonts


# ---------------------------------------------------------------- sources

def groove_files(midi_dir):
    """Train-split `beat` grooves of the Groove MIDI Dataset: (path, bpm, duration, signature)."""
    rows = []
    with open(os.path.join(midi_dir, "groove_midi", "info.csv")) as f:
        for r in csv.DictReader(f):
            if r["split"] == "train" and r["beat_type"] == "beat":
                rows.append((os.path.join(midi_dir, "groove_midi", r["midi_filename"]), float(r["bpm"]),
                             float(r["duration"]), r["time_signature"]))
    rows.sort()
    return rows


def pop909_files(midi_dir):
    d = os.path.join(midi_dir, "pop909")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".mid"))


def pop909_beats(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    rows = np.loadtxt(os.path.join(os.path.dirname(path), "beat_midi", stem + ".txt"), ndmin=2)
    return rows[:, 0], rows[:, 2].astype(bool)


# ---------------------------------------------------------------- MIDI editing

def copy_window(pm_src, start, end, warp=None, program_for=None, drum_program=0):
    """Instruments of `pm_src` with notes starting in [start, end), times shifted to start at 0
    (after `warp`, a function of source time, when given). Returns a list of pretty_midi.Instrument."""
    import pretty_midi
    out = []
    for k, inst in enumerate(pm_src.instruments):
        prog = drum_program if inst.is_drum else (program_for(k, inst) if program_for else inst.program)
        new = pretty_midi.Instrument(program=prog, is_drum=inst.is_drum, name=inst.name)
        for n in inst.notes:
            s, e = n.start, n.end
            if warp is not None:
                s, e = float(warp(s)), float(warp(e))
            if start <= s < end:
                new.notes.append(pretty_midi.Note(velocity=n.velocity, pitch=n.pitch, start=s - start,
                                                  end=max(min(e, end + 2.0) - start, s - start + 0.01)))
        for c in inst.control_changes:
            t = float(warp(c.time)) if warp is not None else c.time
            if start <= t < end and c.number in (7, 11, 64):
                new.control_changes.append(pretty_midi.ControlChange(c.number, c.value, t - start))
        if new.notes:
            out.append(new)
    return out


def write_midi(instruments, path):
    import pretty_midi
    pm = pretty_midi.PrettyMIDI(resolution=960, initial_tempo=120.0)
    # Separate channels per instrument: pretty_midi assigns them in order, drums on 9.
    pm.instruments.extend(instruments)
    pm.write(path)


def render_midi(mid_path, sf2, gain):
    fd, wav = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    try:
        subprocess.run(["fluidsynth", "-ni", "-q", "-F", wav, "-r", str(RATE), "-g", "%.3f" % gain,
                        "-R", "0", "-C", "0", "-o", "synth.polyphony=512", sf2, mid_path],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import soundfile as sf
        audio, rate = sf.read(wav, dtype="float32", always_2d=True)
    finally:
        os.unlink(wav)
    if rate != RATE:
        raise RuntimeError("fluidsynth wrote %d Hz" % rate)
    return audio.mean(axis=1)


# ---------------------------------------------------------------- audio effects

def room_reverb(x, rng):
    """Convolution with exponentially decaying noise (a synthetic room), mixed wet/dry."""
    from scipy.signal import fftconvolve
    rt60 = rng.uniform(0.15, 1.8)
    n = int(rt60 * RATE)
    t = np.arange(n) / RATE
    ir = rng.standard_normal(n) * np.exp(-6.91 * t / rt60)    # -60 dB at rt60
    ir[: int(0.002 * RATE)] *= np.linspace(0, 1, int(0.002 * RATE))
    ir /= np.sqrt(np.sum(ir ** 2)) + 1e-12
    wet = fftconvolve(x, ir)[: len(x)]
    mix = rng.uniform(0.1, 0.6)
    return ((1 - mix) * x + mix * wet * np.std(x) / (np.std(wet) + 1e-12)).astype(np.float32)


def random_filter(x, rng):
    from scipy.signal import butter, sosfilt
    kind = rng.choice(["lowpass", "highpass", "bandpass", "telephone"])
    if kind == "lowpass":
        sos = butter(rng.integers(1, 5), rng.uniform(1500, 12000), "lowpass", fs=RATE, output="sos")
    elif kind == "highpass":
        sos = butter(rng.integers(1, 4), rng.uniform(60, 600), "highpass", fs=RATE, output="sos")
    elif kind == "bandpass":
        lo = rng.uniform(80, 400)
        sos = butter(2, [lo, rng.uniform(3000, 9000)], "bandpass", fs=RATE, output="sos")
    else:
        sos = butter(3, [300, 3400], "bandpass", fs=RATE, output="sos")
    return sosfilt(sos, x).astype(np.float32), str(kind)


def add_noise(x, rng):
    kind = rng.choice(["white", "pink", "brown"])
    n = rng.standard_normal(len(x))
    if kind != "white":
        spec = np.fft.rfft(n)
        f = np.maximum(np.fft.rfftfreq(len(n), 1 / RATE), 20.0)
        spec /= np.sqrt(f) if kind == "pink" else f
        n = np.fft.irfft(spec, len(n))
    snr = rng.uniform(5, 40)
    p = np.mean(x ** 2) + 1e-12
    n *= np.sqrt(p / 10 ** (snr / 10) / (np.mean(n ** 2) + 1e-20))
    return (x + n).astype(np.float32), "%s %.0f dB" % (kind, snr)


def post_process(x, rng):
    notes = []
    if rng.random() < 0.3:
        x, k = random_filter(x, rng)
        notes.append("filter " + k)
    if rng.random() < 0.5:
        x = room_reverb(x, rng)
        notes.append("reverb")
    if rng.random() < 0.4:
        x, k = add_noise(x, rng)
        notes.append("noise " + k)
    peak = np.max(np.abs(x)) + 1e-9
    level = rng.uniform(-30, -1)            # peak level, dBFS
    x = x / peak * 10 ** (level / 20)
    notes.append("peak %.0f dBFS" % level)
    return x.astype(np.float32), notes


# ---------------------------------------------------------------- excerpts

def tempo_warp(f1, f2=None, change=0.0, ramp=0.0):
    """Source time (from the excerpt's start) → output time for a time-scale factor F1 (> 1 is
    slower) that becomes F2 at output time CHANGE: at once (RAMP 0, a tempo step) or linearly over
    RAMP seconds of source time (a tempo ramp). Monotone, so beats and notes warp alike."""
    if f2 is None:
        return lambda u: u * f1
    uc = change / f1

    def w(u):
        u = np.asarray(u, dtype=float)
        a = np.minimum(u, uc) * f1                                  # before the change
        r = np.clip(u - uc, 0, ramp) if ramp > 0 else np.zeros_like(u)
        mid = f1 * r + (f2 - f1) * r * r / (2 * ramp) if ramp > 0 else np.zeros_like(u)
        rest = np.maximum(u - uc - ramp, 0) * f2                    # after it
        out = a + mid + rest
        return float(out) if out.ndim == 0 else out
    return w


def groove_excerpt(rng, grooves, length, tempo_changes=0.0):
    import pretty_midi
    path, bpm, duration, sig = grooves[rng.integers(len(grooves))]
    pm = pretty_midi.PrettyMIDI(path)
    beats = pm.get_beats()
    # Tempo change by scaling time: factor > 1 is slower.
    factor = float(rng.uniform(0.8, 1.25))
    # A share of excerpts changes tempo within the excerpt (a step or a ramp of 10-35 %), so that
    # the network also learns beats across tempo changes. No draw at all when the share is 0,
    # so that renders without it stay identical to earlier ones.
    if tempo_changes > 0 and rng.random() < tempo_changes:
        ratio = float(rng.uniform(1.1, 1.35)) ** (1 if rng.random() < 0.5 else -1)   # new tempo / old
        f2 = float(np.clip(factor / ratio, 0.7, 1.5))
        at = float(rng.uniform(0.3, 0.6)) * length
        ramp = 0.0 if rng.random() < 0.5 else float(rng.uniform(2, 8)) / f2
        w = tempo_warp(factor, f2, at, ramp)
        latest = max(pm.get_end_time() - length / min(factor, f2), 0.0)
        start_src = float(rng.uniform(0, latest))
        inst = copy_window(pm, 0.0, length, warp=lambda t: w(t - start_src),
                           drum_program=int(rng.choice(DRUM_KITS)))
        b = np.asarray(w(beats - start_src))
        b = b[(beats >= start_src) & (b < length)]
        change = "; tempo %s x%.3f at %.1f s" % ("ramp over %.1f s to" % (ramp * f2) if ramp else "step to",
                                                    factor / f2, at)
        return inst, b, "groove", "%s bpm %.0f x%.3f%s" % (
            os.path.relpath(path, os.path.dirname(os.path.dirname(path))), bpm, 1 / factor, change)
    latest = max(pm.get_end_time() - length / factor, 0.0)
    start_src = float(rng.uniform(0, latest))
    warp = (lambda t: t * factor)
    inst = copy_window(pm, start_src * factor, start_src * factor + length, warp=warp,
                       drum_program=int(rng.choice(DRUM_KITS)))
    b = beats * factor - start_src * factor
    b = b[(b >= 0) & (b < length)]
    return inst, b, "groove", "%s bpm %.0f x%.3f" % (
        os.path.relpath(path, os.path.dirname(os.path.dirname(path))), bpm, 1 / factor)


def pop_programs(rng):
    progs = {}

    def program_for(k, inst):
        if k not in progs:
            name = (inst.name or "").upper()
            if "BRIDGE" in name and rng.random() < 0.3:
                progs[k] = int(rng.choice(BASS_PROGRAMS))
            elif rng.random() < 0.35:
                progs[k] = 0
            else:
                progs[k] = int(rng.choice(MELODIC_PROGRAMS))
        return progs[k]
    return program_for, progs


def pop909_excerpt(rng, pops, length):
    import pretty_midi
    path = pops[rng.integers(len(pops))]
    pm = pretty_midi.PrettyMIDI(path)
    beats, downbeats = pop909_beats(path)
    end = min(pm.get_end_time(), beats[-1] + 1.0)
    start = float(rng.uniform(max(beats[0] - 2, 0), max(end - length, beats[0] - 1)))
    program_for, progs = pop_programs(rng)
    inst = copy_window(pm, start, start + length, program_for=program_for)
    b = beats - start
    b = b[(b >= 0) & (b < min(length, end - start))]
    return inst, b, pm, path, start, beats, downbeats, progs


def layered_excerpt(rng, pops, grooves, length):
    import pretty_midi
    inst, b, pm, path, start, beats, downbeats, progs = pop909_excerpt(rng, pops, length)
    # Local tempo of the excerpt's beats; a groove within ±15% (or half/double time) of it.
    sel = (beats >= start) & (beats < start + length)
    if sel.sum() < 4:
        return inst, b, "pop909", "%s programs %s (too few beats for drums)" % (
            os.path.basename(path), sorted(progs.values()))
    bpm = 60 / np.median(np.diff(beats[sel]))
    # Same metrical level first; half or double time only when no groove is near the tempo.
    cands = [g for g in grooves if abs(np.log(g[1] / bpm)) < 0.14 and g[3] == "4-4"]
    if not cands:
        cands = [g for g in grooves
                 if min(abs(np.log(g[1] / bpm / 2)), abs(np.log(g[1] * 2 / bpm))) < 0.14 and g[3] == "4-4"]
    if not cands:
        cands = [g for g in grooves if g[3] == "4-4"]
    gpath, gbpm = cands[rng.integers(len(cands))][:2]
    gm = pretty_midi.PrettyMIDI(gpath)
    gbeats = gm.get_beats()
    # Ratio of groove beats to POP909 beats (1, 2 or 1/2), then map groove beat k to POP909 beat
    # (first downbeat at or after the excerpt start) + k/ratio; the groove starts at a bar line.
    ratio = min([0.5, 1.0, 2.0], key=lambda r: abs(np.log(gbpm / (bpm * r))))
    first = np.nonzero(downbeats & (beats >= start - 1e-6))[0]
    i0 = int(first[0]) if len(first) else int(np.nonzero(beats >= start)[0][0])
    n_target = int(np.sum((beats >= beats[i0]) & (beats < start + length + 2.0)))
    needed = max(int(np.ceil(n_target * ratio)), 2)
    bar = 4
    k_max = max(0, (len(gbeats) - needed) // bar)
    skip = bar * int(rng.integers(0, k_max + 1))
    src_beats = gbeats[skip: skip + needed]
    tgt_idx = i0 + np.arange(len(src_beats)) / ratio
    keep = tgt_idx <= len(beats) - 1
    src_beats, tgt_idx = src_beats[keep], tgt_idx[keep]
    if len(src_beats) < 4:
        return inst, b, "pop909", "%s programs %s (no room for drums)" % (
            os.path.basename(path), sorted(progs.values()))
    tgt = np.interp(tgt_idx, np.arange(len(beats)), beats)
    slope_s = (tgt[-1] - tgt[0]) / max(src_beats[-1] - src_beats[0], 1e-6)

    def warp(t):
        t = np.asarray(t, dtype=float)
        inside = np.interp(t, src_beats, tgt)
        return np.where(t < src_beats[0], tgt[0] + (t - src_beats[0]) * slope_s,
                        np.where(t > src_beats[-1], tgt[-1] + (t - src_beats[-1]) * slope_s, inside))
    # Drop groove notes beyond the mapped beats (the POP909 song ends there).
    drums = copy_window(gm, start, min(start + length, tgt[-1] + 0.5), warp=warp,
                        drum_program=int(rng.choice(DRUM_KITS)))
    return inst + drums, b, "layered", "%s programs %s + %s bpm %.0f ratio %g" % (
        os.path.basename(path), sorted(progs.values()),
        os.path.relpath(gpath, os.path.dirname(os.path.dirname(gpath))), gbpm, ratio)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(HERE, "data"), help="output directory (default training/data)")
    p.add_argument("--midi", default=DEFAULT_MIDI, help="shared/data/midi")
    p.add_argument("--minutes", type=float, default=60, help="total audio to render (default 60)")
    p.add_argument("--excerpts", type=int, default=0, help="number of excerpts (overrides --minutes)")
    p.add_argument("--length", type=float, nargs=2, default=[20, 45], metavar=("MIN", "MAX"),
                   help="excerpt length range in s (default 20 45)")
    p.add_argument("--mix", type=float, nargs=3, default=[0.35, 0.25, 0.4], metavar=("GROOVE", "POP909", "LAYERED"),
                   help="share of each source (default 0.35 0.25 0.4)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=int, default=0,
                   help="first excerpt index; above 0 it extends an existing manifest (after its last index)")
    p.add_argument("--tempo-changes", type=float, default=0.0,
                   help="share of groove excerpts with a tempo step or ramp inside (default 0: none, as v1's data)")
    args = p.parse_args()

    import soundfile as sf
    os.makedirs(os.path.join(args.out, "audio"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "beats"), exist_ok=True)
    fonts = available_soundfonts()
    fweights = np.array([SOUNDFONT_WEIGHTS.get(os.path.basename(f), 0.1) for f, _ in fonts])
    fweights /= fweights.sum()
    grooves = groove_files(args.midi)
    pops = pop909_files(args.midi)
    mix = np.array(args.mix) / np.sum(args.mix)
    manifest = os.path.join(args.out, "manifest.tsv")
    new = not os.path.exists(manifest) or args.start == 0
    if not new:
        with open(manifest) as f:
            last = max([int(line.split("\t")[0].split("_")[0]) for line in f if line[:1].isdigit()], default=-1)
        if args.start <= last:
            raise SystemExit("render.py: --start %d would redo excerpts already in %s: use --start %d" % (
                args.start, manifest, last + 1))
    mf = open(manifest, "w" if new else "a")
    if new:
        mf.write("id\taudio\tbeats\tsource\tlicence\tduration_s\tn_beats\tsoundfont\tsoundfont_licence\tdetails\n")
    total = 0.0
    t0 = time.time()
    i = args.start
    target = args.minutes * 60
    while (args.excerpts and i < args.start + args.excerpts) or (not args.excerpts and total < target):
        rng = np.random.default_rng([args.seed, i])
        length = float(rng.uniform(*args.length))
        kind = rng.choice(["groove", "pop909", "layered"], p=mix)
        if kind == "groove":
            inst, beats, source, details = groove_excerpt(rng, grooves, length, args.tempo_changes)
        elif kind == "pop909":
            inst, beats, _, path, _, _, _, progs = pop909_excerpt(rng, pops, length)
            source, details = "pop909", "%s programs %s" % (os.path.basename(path), sorted(progs.values()))
        else:
            inst, beats, source, details = layered_excerpt(rng, pops, grooves, length)
        fi = int(rng.choice(len(fonts), p=fweights))
        sf2, sflic = fonts[fi]
        if "FluidR3" not in sf2 and "MuseScore" not in sf2:
            for it in inst:
                if it.is_drum:
                    it.program = 0
        if len(beats) < 4 or not inst:
            i += 1
            continue
        with tempfile.TemporaryDirectory() as tmp:
            mid = os.path.join(tmp, "x.mid")
            write_midi(inst, mid)
            audio = render_midi(mid, sf2, gain=0.5)
        audio = audio[: int(length * RATE)]
        if len(audio) < int(0.9 * length * RATE) or np.max(np.abs(audio)) < 1e-4:
            i += 1
            continue
        audio, notes = post_process(audio, rng)
        name = "%05d_%s" % (i, source)
        apath = os.path.join("audio", name + ".wav")
        bpath = os.path.join("beats", name + ".beats")
        sf.write(os.path.join(args.out, apath), audio, RATE, subtype="PCM_16")
        beats = beats[beats < len(audio) / RATE]
        with open(os.path.join(args.out, bpath), "w") as f:
            f.write("".join("%.4f\n" % b for b in beats))
        dur = len(audio) / RATE
        mf.write("\t".join([name, apath, bpath, source, LICENCES[source], "%.3f" % dur, str(len(beats)),
                            os.path.basename(sf2), sflic, details + "; " + ", ".join(notes)]) + "\n")
        mf.flush()
        total += dur
        i += 1
        if i % 10 == 0:
            print("render: %d excerpts, %.1f min of audio, %.0f s" % (i - args.start, total / 60, time.time() - t0),
                  file=sys.stderr)
    mf.close()
    print("render: done: %.1f min of audio in %.0f s, manifest %s" % (total / 60, time.time() - t0, manifest),
          file=sys.stderr)


if __name__ == "__main__":
    main()
