"""Hostile input sweep: hours of audio no one should feed a beat tracker, through `tactus track`.

Generates (seeded, into a temp dir, one chunk at a time) full-scale white noise, pink noise, DC,
full-scale square waves, float files whose samples turn NaN/Inf in bursts (a broken source),
8 kHz, 192 kHz and 8-channel files, silence, and empty and one-sample files; tracks each with
the given tactus configuration and checks: exit status (0, or a clear error for the empty file),
no NaN/Inf in any output line, beats per minute (none expected in noise, DC, band-limited square
waves, silence, or the broken source's noise; beats expected in the generated groove at 8 kHz,
192 kHz, 8 channels; an aliased square wave is reported without a check).

    PY=$(bench/setup-venv.sh | tail -1)
    $PY bench/hostile.py --tactus .build/release/tactus --hours 10 --out bench/results/hostile.md
"""
from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import benchlib as bl  # noqa: E402

RATE = 44100


def write_wav16(path: Path, x: np.ndarray, rate: int) -> None:
    x = np.atleast_2d(x.T).T if x.ndim == 1 else x
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[1] if x.ndim == 2 else 1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def write_wav_float(path: Path, x: np.ndarray, rate: int) -> None:
    data = x.astype("<f4").tobytes()
    header = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
              + struct.pack("<IHHIIHH", 16, 3, 1, rate, rate * 4, 4, 32)
              + b"data" + struct.pack("<I", len(data)))
    path.write_bytes(header + data)


def groove(seconds: float, rate: int, bpm: float = 120) -> np.ndarray:
    n = int(seconds * rate)
    x = np.zeros(n, dtype=np.float32)
    t = np.arange(int(0.1 * rate)) / rate
    kick = np.sin(2 * np.pi * 70 * t) * np.exp(-t * 35)
    hat_noise = (np.random.default_rng(3).standard_normal(int(0.03 * rate))
                 * np.exp(-np.arange(int(0.03 * rate)) / (0.005 * rate)) * 0.2)
    period = 60 / bpm
    for k in range(int(seconds / period)):
        i = int(k * period * rate)
        x[i:i + len(kick)] += kick[: n - i] * (0.9 if k % 2 == 0 else 0.5)
        j = int((k + 0.5) * period * rate)
        x[j:j + len(hat_noise)] += hat_noise[: max(0, n - j)]
    return x


def pink(n: int, rng: np.random.Generator, db: float) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    x = np.fft.irfft(spectrum, n)
    return x / np.sqrt(np.mean(x ** 2)) * 10 ** (db / 20)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True)
    p.add_argument("--hours", type=float, default=10, help="total audio (the mix below scales)")
    p.add_argument("--args", default="", help="extra tactus track arguments (e.g. --model M)")
    p.add_argument("--out", type=Path)
    a = p.parse_args()
    scale = a.hours / 10
    rng = np.random.default_rng(7)
    # (category, hours at --hours 10, chunk minutes, expect beats, generator(seconds) -> (kind, data, rate))
    chunk = 10
    plan = [
        ("full-scale white noise", 2.0, False, lambda s: ("16", rng.uniform(-1, 1, int(s * RATE)), RATE)),
        ("pink noise -20 dBFS", 1.0, False, lambda s: ("16", pink(int(s * RATE), rng, -20), RATE)),
        ("DC +0.5 / -0.5", 1.0, False, lambda s: ("16", np.full(int(s * RATE), rng.choice([0.5, -0.5])), RATE)),
        ("full-scale square waves, band-limited (50 Hz, 997 Hz, 5003 Hz)", 1.25, False,
         lambda s: ("16", square(s, rng.choice([50, 997, 5003])), RATE)),
        # A naive square wave at 5003 Hz aliases: its short-time spectrum repeats every 70 ms, a
        # periodic change of the input that a beat tracker may follow. Reported, not checked.
        ("naive (aliased) square wave at 5003 Hz", 0.25, None,
         lambda s: ("16", np.where((np.arange(int(s * RATE)) * 5003.0 / RATE) % 1 < 0.5, 1.0, -1.0), RATE)),
        ("broken float source: noise with NaN/Inf bursts", 1.0, False,
         lambda s: ("f", broken(int(s * RATE), rng), RATE)),
        ("silence", 0.5, False, lambda s: ("16", np.zeros(int(s * RATE)), RATE)),
        ("groove at 8 kHz", 1.0, True, lambda s: ("16", groove(s, 8000), 8000)),
        ("groove at 192 kHz", 1.0, True, lambda s: ("16", groove(s, 192000), 192000)),
        ("groove in 8 channels", 1.0, True,
         lambda s: ("16", np.repeat(groove(s, RATE)[:, None], 8, axis=1) * np.linspace(0.2, 1, 8), RATE)),
    ]
    rows = []
    total_audio = 0.0
    started = time.time()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="tactus-hostile-") as tmp_name:
        tmp = Path(tmp_name)
        tactus = bl.pin_binary(a.tactus, tmp)
        for name, hours, expect_beats, make in plan:
            seconds_total = hours * scale * 3600
            n_chunks = max(1, int(round(seconds_total / (chunk * 60))))
            seconds = seconds_total / n_chunks
            beats = 0
            statuses = set()
            bad = 0
            track_wall = 0.0
            for c in range(n_chunks):
                kind, x, rate = make(seconds)
                path = tmp / f"chunk.wav"
                (write_wav_float if kind == "f" else write_wav16)(path, np.asarray(x, dtype=np.float32), rate)
                t0 = time.time()
                r = subprocess.run([tactus, "track", "--format", "jsonl", *a.args.split(), str(path)],
                                   capture_output=True, text=True)
                track_wall += time.time() - t0
                statuses.add(r.returncode)
                lines = r.stdout.splitlines()
                beats += sum('"event":"beat"' in l for l in lines)
                bad += sum(("nan" in l.lower() or "inf" in l.lower()) for l in lines)
                path.unlink()
            minutes = seconds_total / 60
            total_audio += seconds_total
            if expect_beats is None:
                ok = statuses == {0} and bad == 0
                verdict = "reported" if ok else "FAIL"
            else:
                ok = statuses == {0} and bad == 0 and ((beats / minutes > 60) if expect_beats else beats == 0)
                verdict = "ok" if ok else "FAIL"
            failures += not ok
            rows.append([name, f"{seconds_total / 3600:.2f} h", str(n_chunks), f"{beats} ({beats / minutes:.2f}/min)",
                         ",".join(map(str, sorted(statuses))), str(bad), f"{track_wall:.0f} s", verdict])
        # The degenerate files.
        for name, frames, want in [("empty file (0 samples)", 0, "error"), ("one-sample file", 1, "ok")]:
            path = tmp / "tiny.wav"
            write_wav16(path, np.full(frames, 0.5, dtype=np.float32), RATE)
            r = subprocess.run([tactus, "track", "--format", "jsonl", *a.args.split(), str(path)],
                               capture_output=True, text=True)
            ok = ((r.returncode != 0 and "holds no audio samples" in r.stderr) if want == "error"
                  else (r.returncode == 0 and not r.stdout.strip()))
            failures += not ok
            rows.append([name, "-", "1", str(r.stdout.count('"event":"beat"')), str(r.returncode), "0", "-",
                         ("ok: " + r.stderr.strip().splitlines()[-1]) if ok and want == "error"
                         else ("ok" if ok else "FAIL")])
    text = (f"## Hostile input: {total_audio / 3600:.1f} h through `tactus track`{' ' + a.args if a.args else ''}\n\n"
            f"Command: `bench/hostile.py --tactus {a.tactus} --hours {a.hours:g}"
            f"{' --args ' + repr(a.args) if a.args else ''}`; "
            f"{bl.git_describe(Path(__file__).parents[1])}; {time.strftime('%Y-%m-%d')}; "
            f"wall {(time.time() - started) / 60:.1f} min "
            f"(generation included).\n\n"
            + bl.markdown_table(["input", "audio", "files", "beats", "exit", "NaN/Inf lines", "tracking wall", "check"],
                                rows) + "\n")
    bl.emit_report(text, a.out)
    sys.exit(1 if failures else 0)


def square(seconds: float, hz: int) -> np.ndarray:
    """A full-scale square wave without aliasing (odd harmonics below 20 kHz), as a signal
    generator's through an ADC would be: one second computed, then repeated."""
    t = np.arange(RATE) / RATE
    x = np.zeros(RATE)
    for k in range(1, int(20000 / hz) + 1, 2):
        x += np.sin(2 * np.pi * k * hz * t) / k
    x *= 4 / np.pi
    reps = int(np.ceil(seconds))
    return np.clip(np.tile(x, reps)[: int(seconds * RATE)], -1, 1)


def broken(n: int, rng: np.random.Generator) -> np.ndarray:
    """Low noise whose samples turn NaN, +Inf, -Inf or 1e30 in bursts, as from a broken driver."""
    x = (rng.standard_normal(n) * 0.01).astype(np.float32)
    for _ in range(max(1, n // RATE)):
        i = int(rng.integers(0, n))
        x[i:i + int(rng.integers(1, 2000))] = rng.choice([np.nan, np.inf, -np.inf, 1e30])
    return x


if __name__ == "__main__":
    main()
