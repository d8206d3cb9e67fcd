"""Soak: many hours of audio through the whole daemon (`tactus run`), faster than real time.

The input is one program, looped: every 44.1 kHz WAV of ../shared/data (real music) with
stretches of silence, pink noise and a generated groove with tempo steps between them, made
once with sox into a temp dir (its length a whole number of hops). The daemon reads it as its
paced file source (`capture.loop = true`, `--speed`), with the default configuration otherwise,
and writes JSON lines to stdout (read here) and to a UDP target (received here). Checked:

- beats lost between the processing thread and the outputs: the beat sequence numbers (`seq`)
  must run 1, 2, 3 ... without a hole on stdout; UDP arrivals are counted too;
- memory: RSS of the daemon every 10 s; growth from the first sample after warm-up to the end;
- the stream clock: the loop repeats exactly, so every beat of loop k must fall on the beat of
  loop 1 shifted by k program lengths (differences reported; float accumulation or lost samples
  would show as drift), and the daemon's final stream time must equal the audio it was given;
- dropped periods and events, xruns, CPU time (from `--stats`).

    PY=$(bench/setup-venv.sh | tail -1)
    $PY bench/soak.py --tactus .build/release/tactus --hours 24 --speed 300 --out bench/results/soak.md
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import benchlib as bl  # noqa: E402

RATE = 44100
HOP = 441


def make_program(data: Path, tmp: Path) -> tuple[Path, float]:
    """Music files with silence, noise and a tempo-stepped groove between them (float32 WAV)."""
    parts = []
    rng = np.random.default_rng(1)
    music = [t for t in bl.read_manifest(data) if t.audio.suffix == ".wav" and bl.sample_rate(t.audio) == RATE]

    def read(path: Path) -> np.ndarray:
        raw = subprocess.run(["sox", str(path), "-t", "f32", "-c", "1", "-"], check=True, capture_output=True).stdout
        return np.frombuffer(raw, dtype="<f4")

    def pink(seconds: float, db: float) -> np.ndarray:
        n = int(seconds * RATE)
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        x = np.fft.irfft(spectrum, n)
        return (x / np.sqrt(np.mean(x ** 2)) * 10 ** (db / 20)).astype(np.float32)

    def groove(tempi: list[float], seconds_each: float) -> np.ndarray:
        out = []
        t_kick = np.arange(int(0.12 * RATE)) / RATE
        kick = (np.sin(2 * np.pi * 60 * t_kick) * np.exp(-t_kick * 30)).astype(np.float32)
        for bpm in tempi:
            seg = np.zeros(int(seconds_each * RATE), dtype=np.float32)
            period = 60 / bpm
            for k in range(int(seconds_each / period)):
                i = int(k * period * RATE)
                seg[i:i + len(kick)] += kick[: len(seg) - i] * (1.0 if k % 2 == 0 else 0.6)
            out.append(seg)
        return np.concatenate(out)

    for i, t in enumerate(music):
        parts.append(read(t.audio))
        kind = i % 3
        if kind == 0:
            parts.append(np.zeros(10 * RATE, dtype=np.float32))
        elif kind == 1:
            parts.append(pink(10, -30))
        else:
            parts.append(groove([100, 130, 90, 140], 8))
    program = np.concatenate(parts).astype(np.float32)
    program = program[: len(program) // HOP * HOP]
    path = tmp / "program.wav"
    raw = tmp / "program.f32"
    program.tofile(raw)
    subprocess.run(["sox", "-t", "f32", "-r", str(RATE), "-c", "1", str(raw), str(path)], check=True)
    raw.unlink()
    return path, len(program) / RATE


def rss_kib(pid: int) -> int:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True)
    p.add_argument("--hours", type=float, default=24)
    p.add_argument("--speed", type=float, default=300)
    p.add_argument("--data", type=Path, default=bl.DEFAULT_DATA)
    p.add_argument("--args", default="", help="extra arguments for tactus run (e.g. --set model=...)")
    p.add_argument("--out", type=Path)
    a = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="tactus-soak-") as tmp_name:
        tmp = Path(tmp_name)
        program, length = make_program(a.data, tmp)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(0.5)
        udp_port = udp.getsockname()[1]
        udp_beats = [0]
        udp_stop = threading.Event()

        def receive() -> None:
            while not udp_stop.is_set():
                try:
                    d = udp.recv(65536)
                except socket.timeout:
                    continue
                if b'"event":"beat"' in d:
                    udp_beats[0] += 1

        receiver = threading.Thread(target=receive, daemon=True)
        receiver.start()
        duration = a.hours * 3600 / a.speed
        stats = tmp / "stats.json"
        cmd = [a.tactus, "run", "--set", "capture.source=file", "--set", f"capture.file={program}",
               "--set", "capture.loop=true", "--set", "capture.realtime_priority=0",
               "--set", f"output.jsonl_udp=127.0.0.1:{udp_port}", "--speed", str(a.speed),
               "--duration", f"{duration:.1f}", "--stats", str(stats)] + a.args.split()
        started = time.time()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        rss: list[tuple[float, int]] = []

        def sample_rss() -> None:
            while proc.poll() is None:
                rss.append((time.time() - started, rss_kib(proc.pid)))
                time.sleep(10)

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        beats: list[tuple[int, float]] = []
        notices: dict[str, int] = {}
        bad_lines = 0
        for line in proc.stdout:
            try:
                o = json.loads(line)
            except json.JSONDecodeError:
                bad_lines += 1
                continue
            if o.get("event") == "beat":
                beats.append((o["seq"], o["time"]))
            elif o.get("event") == "notice":
                notices[o["kind"]] = notices.get(o["kind"], 0) + 1
        err = proc.stderr.read()
        proc.wait()
        wall = time.time() - started
        time.sleep(1)
        udp_stop.set()
        receiver.join()
        s = json.loads(stats.read_text())

    seqs = [b[0] for b in beats]
    holes = sum(1 for x, y in zip(seqs, seqs[1:]) if y != x + 1)
    seq_ok = bool(seqs) and seqs[0] == 1 and holes == 0
    times = np.array([b[1] for b in beats])
    loops = int(s["stream_s"] // length)
    # Beats of loop 1 (the tracker has settled) against every later loop, shifted by k lengths.
    first = times[(times >= length) & (times < 2 * length)] - length
    drift = []
    for k in range(2, loops):
        seg = times[(times >= k * length) & (times < (k + 1) * length)] - k * length
        if len(seg) and len(first):
            d = np.abs(seg[:, None] - first[None, :]).min(axis=1)
            drift.append((k, float(np.median(d)), float(np.mean(d < 0.0005))))
    warm = [r for t, r in rss if t >= 60] or [r for _, r in rss]
    rss_start, rss_end = (warm[0], warm[-1]) if warm else (0, 0)
    audio_h = s["stream_s"] / 3600
    rows = [
        ["audio through the daemon", f"{audio_h:.2f} h ({loops} loops of a {length / 60:.1f} min program), "
                                     f"wall {wall / 60:.1f} min, speed {a.speed:g}x"],
        ["beats on stdout", f"{len(beats)}; seq 1..{seqs[-1] if seqs else 0}, holes {holes} -> "
                            f"{'none lost' if seq_ok else 'LOST BEATS'}"],
        ["beats received over UDP", f"{udp_beats[0]} ({udp_beats[0] - len(beats):+d} against stdout)"],
        ["events written / dropped", f"{s['events']} / {s['dropped_events']}"],
        ["periods processed / dropped", f"{s['periods']} / {s['dropped_periods']}; xruns {s['xruns']}"],
        ["RSS after 60 s warm-up -> end", f"{rss_start / 1024:.1f} MiB -> {rss_end / 1024:.1f} MiB "
                                          f"(growth {(rss_end - rss_start) / 1024:+.2f} MiB; "
                                          f"max RSS {s['max_rss_kib'] / 1024:.1f} MiB)"],
        ["stream clock", f"final {s['stream_s']:.3f} s for {s['periods']} periods of {HOP} samples "
                         f"({s['periods'] * HOP / RATE:.3f} s given); beats of loops 2..{loops - 1} on loop 1's beats: "
                         f"median offset "
                         f"{np.median([d[1] for d in drift]) * 1000 if drift else float('nan'):.3f} ms, "
                         f"worst loop median {max((d[1] for d in drift), default=float('nan')) * 1000:.3f} ms, "
                         f"last loop {drift[-1][2] * 100 if drift else float('nan'):.1f} % of beats within 0.5 ms"],
        ["CPU", f"{s['cpu_s']:.1f} s ({s['cpu_s'] / max(audio_h * 3600, 1) * 100:.3f} % of the audio's duration)"],
        ["notices", ", ".join(f"{k} {v}" for k, v in sorted(notices.items())) or "none"],
        ["unparsable lines / exit status", f"{bad_lines} / {proc.returncode}"],
    ]
    text = (f"## Soak: {audio_h:.1f} h of audio through `tactus run` at {a.speed:g}x\n\n"
            f"Command: `bench/soak.py --tactus {a.tactus} --hours {a.hours:g} --speed {a.speed:g}"
            f"{' --args ' + repr(a.args) if a.args else ''}`; {bl.git_describe(Path(__file__).parents[1])}; "
            f"{time.strftime('%Y-%m-%d')}.\n\n" + bl.markdown_table(["check", "result"], rows) + "\n")
    if proc.returncode != 0:
        text += "\nstderr tail:\n\n```\n" + err[-2000:] + "\n```\n"
    bl.emit_report(text, a.out)
    sys.exit(0 if seq_ok and proc.returncode == 0 else 1)


if __name__ == "__main__":
    main()
