"""Shared helpers for the Tactus benchmark scripts (accuracy.py, speed.py).

Reads the data manifest, runs `tactus track` and madmom's `DBNBeatTracker online`, and formats
Markdown tables. Standard library only, so speed.py runs under any Python 3.
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import os
import shlex
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# ../shared/data beside the checkout, as CI and the developers have it.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_MADMOM_VENV = Path.home() / ".cache/tactus/madmom-venv"
MADMOM_RATE = 44100
MADMOM_RESAMPLE_NOTE = (
    "madmom is given a 44.1 kHz copy of each file not already at 44.1 kHz "
    "(`sox IN -r 44100 -e float -b 32 OUT.wav`, libsoxr as in Tactus; made in a temp dir "
    "before any timing). Its online file mode would otherwise resample every 2048-sample "
    "frame separately with one ffmpeg call per frame (about 80x slower). Tactus reads the "
    "original files."
)


@dataclass(frozen=True)
class Track:
    """One manifest row."""

    dataset: str
    stem: str
    audio: Path
    annotation: Path
    duration_s: float
    split: str


def read_manifest(data_dir: Path) -> list[Track]:
    """All rows of DATA/manifest.tsv, paths made absolute."""
    with open(data_dir / "manifest.tsv", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t")
        return [
            Track(r["dataset"], r["stem"], data_dir / r["audio"], data_dir / r["annotation"],
                  float(r["duration_s"]), r["split"])
            for r in rows
        ]


def sample_rate(path: Path) -> int:
    """Sample rate of an audio file, from soxi."""
    out = subprocess.run(["soxi", "-r", str(path)], check=True, capture_output=True, text=True)
    return int(float(out.stdout.strip()))


def read_beats(path: Path) -> list[float]:
    """Beat times (first column) from a text file; blank and '#' lines skipped."""
    beats = []
    for line in Path(path).read_text().splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            beats.append(float(fields[0]))
    return beats


def run_tactus(tactus: str, files: list[Path], out_dir: Path, args: str = "",
               jobs: int | None = None) -> float:
    """Run `tactus track` over FILES into OUT_DIR/<stem>.beats.txt; return wall seconds."""
    cmd = [tactus, "track", *map(str, files), "--output-dir", str(out_dir), *shlex.split(args)]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"tactus failed ({proc.returncode}): {shlex.join(cmd)}\n{proc.stderr}")
    return wall


def madmom_inputs(tracks: list[Track], tmp_dir: Path) -> dict[str, Path]:
    """Map stem -> file to give madmom: the original at 44.1 kHz, else a sox 44.1 kHz copy."""
    if shutil.which("sox") is None:
        raise RuntimeError("sox not found (apt-get install sox)")
    inputs = {}
    for t in tracks:
        if sample_rate(t.audio) == MADMOM_RATE:
            inputs[t.stem] = t.audio
        else:
            copy = tmp_dir / f"{t.stem}.44k.wav"
            subprocess.run(["sox", str(t.audio), "-r", str(MADMOM_RATE), "-e", "float", "-b", "32",
                            str(copy)], check=True)
            inputs[t.stem] = copy
    return inputs


def madmom_env() -> dict[str, str]:
    """Environment for a single-threaded madmom process."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


def run_madmom_one(venv: Path, audio: Path, out_file: Path, mode: str = "online") -> float:
    """Run `DBNBeatTracker MODE AUDIO` writing beats to OUT_FILE; return wall seconds.

    MODE "online" is the causal tracker Tactus is compared with; "single" is madmom's offline
    tracker (bidirectional networks, Viterbi over the whole file)."""
    cmd = [str(venv / "bin/DBNBeatTracker"), mode, str(audio)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=madmom_env())
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"madmom failed ({proc.returncode}): {shlex.join(cmd)}\n{proc.stderr}")
    out_file.write_text(proc.stdout)
    return wall


def run_madmom(venv: Path, inputs: dict[str, Path], out_dir: Path, jobs: int = 1,
               mode: str = "online") -> float:
    """Run madmom (MODE, see run_madmom_one) on every stem -> audio in INPUTS (JOBS processes at
    a time); return wall s."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_madmom_one, venv, audio, out_dir / f"{stem}.beats.txt", mode)
                   for stem, audio in inputs.items()]
        for fut in futures:
            fut.result()
    return time.perf_counter() - start


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def git_describe(repo: Path) -> str:
    """Short commit of REPO, with '+dirty' when the work tree has changes."""
    try:
        rev = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                             check=True, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def binary_id(path: str) -> str:
    """'sha256 <first 12 hex>, built <mtime UTC>' of a binary, to tie results to a build."""
    p = Path(path)
    digest = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
    built = datetime.datetime.fromtimestamp(p.stat().st_mtime, datetime.timezone.utc)
    return f"sha256 {digest}, built {built:%Y-%m-%d %H:%M} UTC"


def pin_binary(path: str, tmp_dir: Path) -> str:
    """Copy the tactus binary into TMP_DIR so that a rebuild during the run changes nothing."""
    copy = tmp_dir / "tactus"
    shutil.copy2(path, copy)
    return str(copy)


def load_note() -> str:
    """Load average at the start of a run (other work on the machine skews timings)."""
    one, five, _ = os.getloadavg()
    return f"load average at start {one:.2f} (1 min), {five:.2f} (5 min)"


def emit_report(text: str, out: Path | None) -> None:
    """Print a Markdown report and, when asked, write it to OUT too."""
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
