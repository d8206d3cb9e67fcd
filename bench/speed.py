"""Throughput of `tactus track` against madmom's `DBNBeatTracker online`.

Picks N (>= 20) files from the manifest (44.1 kHz files first, any split) and measures wall
time of:
  - tactus track over all files with --jobs 1 (single-threaded) and with --jobs <all cores>,
    each run --repeats times (median reported);
  - madmom DBNBeatTracker online over the same files, one single-threaded process per file,
    sequentially, and with <all cores> processes at a time (run once each; slow).
Reports total audio duration, real-time factors (audio seconds / wall seconds) and the
tactus/madmom speed ratio, single-threaded (the fair comparison) and parallel, as a Markdown
table printed and written to --out. Standard library only:

    python3 bench/speed.py --tactus .build/release/tactus \\
        --model reference/madmom_beats_lstm.tnn --files 20 --out bench/results/speed.md
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import benchlib as bl


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True, help="path to the tactus binary")
    p.add_argument("--model", help="tactus weight file (default: tactus's own default)")
    p.add_argument("--tactus-args", default="", help="extra tactus track arguments")
    p.add_argument("--madmom-venv", type=Path, default=bl.DEFAULT_MADMOM_VENV)
    p.add_argument("--no-madmom", action="store_true", help="time tactus only")
    p.add_argument("--files", type=int, default=20, help="number of files (>= 20)")
    p.add_argument("--repeats", type=int, default=3, help="tactus runs per setting (median)")
    p.add_argument("--data", type=Path, default=bl.DEFAULT_DATA)
    p.add_argument("--out", type=Path, help="write the Markdown report here too")
    args = p.parse_args()
    if args.files < 20:
        p.error("--files must be >= 20")
    return args


def pick_tracks(data_dir: Path, n: int) -> list[bl.Track]:
    """N manifest tracks, 44.1 kHz ones first (manifest order otherwise)."""
    tracks = bl.read_manifest(data_dir)
    tracks.sort(key=lambda t: bl.sample_rate(t.audio) != bl.MADMOM_RATE)  # stable
    if len(tracks) < n:
        sys.exit(f"manifest has only {len(tracks)} files, {n} requested")
    return tracks[:n]


def time_tactus(args, files: list[Path], jobs: int, tmp: Path) -> list[float]:
    """Wall seconds of --repeats runs of tactus track over FILES with --jobs JOBS."""
    targs = args.tactus_args + (f" --model {args.model}" if args.model else "")
    walls = []
    for i in range(args.repeats):
        walls.append(bl.run_tactus(args.tactus, files, tmp / f"tactus-j{jobs}-{i}", targs, jobs))
        print(f"tactus --jobs {jobs} run {i + 1}: {walls[-1]:.2f} s", file=sys.stderr)
    return walls


def cpu_name() -> str:
    """CPU model from /proc/cpuinfo, else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def row(name: str, walls: list[float], audio_s: float, madmom_wall: float | None) -> list[str]:
    """Table row: setting, runs, median wall, RTF, and speed ratio to madmom."""
    wall = statistics.median(walls)
    ratio = f"{madmom_wall / wall:.1f}x" if madmom_wall else "-"
    runs = ", ".join(f"{w:.2f}" for w in walls)
    return [name, runs, f"{wall:.2f}", f"{audio_s / wall:.1f}", ratio]


def main() -> None:
    args = parse_args()
    cores = os.cpu_count() or 1
    tracks = pick_tracks(args.data, args.files)
    files = [t.audio for t in tracks]
    audio_s = sum(t.duration_s for t in tracks)
    n_native = sum(bl.sample_rate(f) == bl.MADMOM_RATE for f in files)
    with tempfile.TemporaryDirectory(prefix="tactus-speed-") as tmp:
        tmp = Path(tmp)
        load = bl.load_note()
        args.tactus = bl.pin_binary(args.tactus, tmp)
        binary = bl.binary_id(args.tactus)
        t1 = time_tactus(args, files, 1, tmp)
        tn = time_tactus(args, files, cores, tmp)
        m1 = mn = None
        if not args.no_madmom:
            inputs = bl.madmom_inputs(tracks, tmp)
            m1 = bl.run_madmom(args.madmom_venv, inputs, tmp / "madmom-j1", jobs=1)
            print(f"madmom sequential: {m1:.2f} s", file=sys.stderr)
            mn = bl.run_madmom(args.madmom_venv, inputs, tmp / f"madmom-j{cores}", jobs=cores)
            print(f"madmom {cores} processes: {mn:.2f} s", file=sys.stderr)
    header = ["setting", "wall per run (s)", "median wall (s)", "RTF (audio s / wall s)",
              "tactus speed / madmom (same setting)"]
    rows = [row("tactus, --jobs 1 (single-threaded)", t1, audio_s, m1),
            row(f"tactus, --jobs {cores} (all cores)", tn, audio_s, mn)]
    if m1 is not None:
        rows += [row("madmom online, 1 process at a time", [m1], audio_s, None),
                 row(f"madmom online, {cores} processes at a time", [mn], audio_s, None)]
    targs = " ".join(filter(None, [f"--model {args.model}" if args.model else "",
                                   args.tactus_args]))
    notes = [
        f"{len(tracks)} files ({n_native} at 44.1 kHz), {audio_s:.1f} s of audio in total; "
        f"{cores} cores ({cpu_name()}), "
        f"Tactus commit {bl.git_describe(Path(__file__).resolve().parent.parent)}, binary "
        f"{binary}; {load}.",
        f"tactus: `tactus track FILES --output-dir DIR {targs} --jobs N`".replace("  ", " ")
        + f", one process over all files, {args.repeats} runs each (median).",
        "madmom 0.16.1: `DBNBeatTracker online FILE`, one process per file "
        "(includes Python start-up and model loading each time), OMP/OpenBLAS/MKL threads = 1; "
        "run once per setting.",
        "Speed ratio = madmom wall / tactus median wall for the same setting; the "
        "single-threaded row is the fair comparison.",
    ]
    if any(bl.sample_rate(f) != bl.MADMOM_RATE for f in files):
        notes.append(bl.MADMOM_RESAMPLE_NOTE)
    text = "\n".join([f"## Speed: tactus vs madmom online ({len(tracks)} files)", "",
                      *[f"- {n}" for n in notes], "", bl.markdown_table(header, rows), ""])
    bl.emit_report(text, args.out)


if __name__ == "__main__":
    main()
