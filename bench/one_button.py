"""One-button fixes (issue 20): what the operator's `half`/`double` and four taps do for the
default tracker, measured in file mode with `tactus track --control SECONDS:COMMAND`.

Development files only: the `train` and `valid` splits of DATA/manifest.tsv (never a test
split). Default configuration (builtin model, no --set). Each run is one process,
`tactus track FILE --format jsonl [--control T:CMD ...]`; the beats are the `time` fields.

1. Metrical-level fixes. A file is on the wrong level when, on beats at or after 10 s, the
   tracker's tempo (median inter-beat interval, IBI) is within 8 % of 2x the annotated tempo
   (median annotated IBI after 10 s) -> button `half`, or of 0.5x -> button `double`; 3x and 1/3x
   are reported as "other" (no button). Each such file is rerun with `--control 10:half` (or
   `10:double`) and scored before and after with mir_eval (F +-70 ms, CMLt, AMLt) on the
   reference and estimated beats both restricted to t >= 10 s (no further trim).
2. Tap to lock. Four annotated beats from the first one at or after 10 s, each moved by uniform
   jitter in +-20 ms (numpy default_rng(SEED), drawn in manifest order), are given as four
   `--control T:tap`. Stable lock: the first estimated beat at or after a start time from which
   8 estimated beats are each within +-70 ms of an annotated beat and their 7 inter-beat
   intervals are within 10 % of the annotated interval that holds each interval's midpoint.
   Lock time with taps = that beat - 4th tap; without taps (the run of part 1) from 0 s, from
   10 s and from the 4th tap's time. CMLt/AMLt/F after 10 s with and without taps.

Run with the harness venv (bench/setup-venv.sh) from the repository root:

    PY=$(bench/setup-venv.sh | tail -1)
    nice $PY bench/one_button.py --tactus .build/release/tactus --out bench/results/one-button.md
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mir_eval
import numpy as np

import benchlib as bl

PRESS = 10.0          # s: when the button is pressed / from where the fixes are scored
LEVEL_TOL = 0.08      # relative tolerance on the tempo ratio
LOCK_BEATS = 8        # beats in a row for a stable lock
LOCK_WINDOW = 0.07    # s: each of them within this of an annotated beat
LOCK_PERIOD_TOL = 0.10
TAPS = 4
TAP_JITTER = 0.02     # s, uniform +-


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True, help="path to the tactus binary")
    p.add_argument("--data", type=Path, default=bl.DEFAULT_DATA)
    p.add_argument("--split", choices=("dev", "train", "valid"), default="dev",
                   help="dev = train + valid (default); test splits are never used")
    p.add_argument("--seed", type=int, default=20, help="seed of the tap jitter")
    p.add_argument("--jobs", type=int, default=2, help="tactus processes at a time")
    p.add_argument("--out", type=Path, help="write the Markdown report here too")
    return p.parse_args()


# --- running -----------------------------------------------------------------------------------

def track(tactus: str, audio: Path, controls: list[str]) -> np.ndarray:
    """Beat times of `tactus track AUDIO --format jsonl` with --control CONTROLS."""
    cmd = [tactus, "track", str(audio), "--format", "jsonl"]
    for c in controls:
        cmd += ["--control", c]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"tactus failed ({proc.returncode}): {shlex.join(cmd)}\n{proc.stderr}")
    times = []
    for line in proc.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("event", "beat") == "beat" and "time" in o:
            times.append(float(o["time"]))
    return np.array(times)


def tempo_range(tactus: str) -> tuple[float, float]:
    """tracker.min_bpm and tracker.max_bpm of the default configuration (`tactus params`)."""
    out = subprocess.run([tactus, "params"], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        key, _, rest = line.partition("=")
        if key.strip() in ("tracker.min_bpm", "tracker.max_bpm") and rest.split():
            found[key.strip()] = float(rest.split()[0])
    return found.get("tracker.min_bpm", float("nan")), found.get("tracker.max_bpm", float("nan"))


def sources_state(repo: Path) -> str:
    """Whether Sources/ has uncommitted changes (the binary is built from the work tree)."""
    out = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "Sources"],
                         capture_output=True, text=True).stdout.strip()
    return "Sources/ has uncommitted changes" if out else "no uncommitted changes under Sources/"


def run_all(tactus: str, jobs: list[tuple[Path, list[str]]], n: int) -> list[np.ndarray]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda j: track(tactus, *j), jobs))


# --- measures ----------------------------------------------------------------------------------

def after(x: np.ndarray, t0: float = PRESS) -> np.ndarray:
    return x[x >= t0]


def median_ibi(x: np.ndarray) -> float:
    return float(np.median(np.diff(x))) if len(x) >= 2 else float("nan")


def scores(ref: np.ndarray, est: np.ndarray) -> dict[str, float]:
    """F (+-70 ms), CMLt, AMLt on the given (already restricted) arrays."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty / short beat lists score 0, as intended
        f = mir_eval.beat.f_measure(ref, est, f_measure_threshold=0.07)
        _, cmlt, _, amlt = mir_eval.beat.continuity(ref, est)
    return {"F": f, "CMLt": cmlt, "AMLt": amlt}


def level(ratio: float) -> str:
    """Tracker tempo / annotated tempo -> 'right', 'double', 'half', 'triple', 'third', 'other'."""
    for name, r in (("right", 1.0), ("double", 2.0), ("half", 0.5), ("triple", 3.0),
                    ("third", 1 / 3)):
        if abs(ratio / r - 1) <= LEVEL_TOL:
            return name
    return "other"


def lock_time(est: np.ndarray, ref: np.ndarray, start: float) -> float | None:
    """First estimated beat t >= START from which LOCK_BEATS beats are each within LOCK_WINDOW
    of an annotated beat and their intervals within LOCK_PERIOD_TOL of the annotated interval
    holding each interval's midpoint; t - START, or None (never within the file)."""
    if len(est) < LOCK_BEATS or len(ref) < 2:
        return None
    idx = np.clip(np.searchsorted(ref, est), 1, len(ref) - 1)
    nearest = np.minimum(np.abs(est - ref[idx - 1]), np.abs(est - ref[idx]))
    good_beat = nearest <= LOCK_WINDOW
    mid = 0.5 * (est[1:] + est[:-1])
    j = np.searchsorted(ref, mid)  # ref[j-1] <= mid < ref[j]
    inside = (j >= 1) & (j < len(ref))
    jj = np.clip(j, 1, len(ref) - 1)
    local = ref[jj] - ref[jj - 1]
    good_ibi = inside & (np.abs(np.diff(est) / local - 1) <= LOCK_PERIOD_TOL)
    for k in np.nonzero(est >= start)[0]:
        if k + LOCK_BEATS > len(est):
            break
        if good_beat[k:k + LOCK_BEATS].all() and good_ibi[k:k + LOCK_BEATS - 1].all():
            return float(est[k] - start)
    return None


def same_beats(a: np.ndarray, b: np.ndarray, tol: float = 0.001) -> bool:
    return len(a) == len(b) and bool(np.all(np.abs(a - b) <= tol))


# --- formatting --------------------------------------------------------------------------------

def f3(x: float) -> str:
    return f"{x:.3f}"


def secs(x: float | None) -> str:
    return "never" if x is None else f"{x:.2f}"


def bpm(ibi: float) -> str:
    return "-" if not np.isfinite(ibi) else f"{60 / ibi:.1f}"


def lock_summary(values: list[float | None]) -> list[str]:
    locked = [v for v in values if v is not None]
    if not locked:
        return ["-", "-", f"{len(values)} / {len(values)}"]
    return [f"{np.median(locked):.2f}", f"{np.mean(locked):.2f}",
            f"{len(values) - len(locked)} / {len(values)}"]


# --- main --------------------------------------------------------------------------------------

def main() -> None:
    args = parse_args()
    splits = ("train", "valid") if args.split == "dev" else (args.split,)
    tracks = [t for t in bl.read_manifest(args.data) if t.split in splits]
    if not tracks:
        sys.exit(f"no files in split {args.split!r}")
    refs = {t.stem: np.array(bl.read_beats(t.annotation)) for t in tracks}
    # Files with annotated beats to score after 10 s; tap files need 4 taps + 8 beats after them.
    scored = [t for t in tracks if len(after(refs[t.stem])) >= 2]
    tapped = [t for t in scored if len(after(refs[t.stem])) >= TAPS + LOCK_BEATS]
    skipped = [t for t in tracks if t not in scored]
    started = time.perf_counter()
    load = bl.load_note()

    with tempfile.TemporaryDirectory(prefix="tactus-one-button-") as tmp:
        tactus = bl.pin_binary(args.tactus, Path(tmp))
        binary = bl.binary_id(tactus)
        bpm_range = tempo_range(tactus)

        print(f"baseline: {len(scored)} files", file=sys.stderr)
        base = dict(zip([t.stem for t in scored],
                        run_all(tactus, [(t.audio, []) for t in scored], args.jobs)))

        # 1. metrical level
        info = {}
        for t in scored:
            ref_ibi = median_ibi(after(refs[t.stem]))
            est_ibi = median_ibi(after(base[t.stem]))
            ratio = ref_ibi / est_ibi if np.isfinite(est_ibi) else float("nan")
            info[t.stem] = (ref_ibi, est_ibi, ratio, level(ratio) if np.isfinite(ratio) else "none")
        wrong = [t for t in scored if info[t.stem][3] in ("double", "half")]
        button = {t.stem: "half" if info[t.stem][3] == "double" else "double" for t in wrong}
        print(f"level fixes: {len(wrong)} files", file=sys.stderr)
        fixed = dict(zip([t.stem for t in wrong],
                         run_all(tactus, [(t.audio, [f"{PRESS:g}:{button[t.stem]}"]) for t in wrong],
                                 args.jobs)))
        # Extra: without an operator's downbeat, `half` keeps the beat series the network heard
        # stronger over the last 4 s; with one, beats 1 and 3. Phase given: `downbeat` at the
        # last annotated beat before the press, then `half`.
        halved = [t for t in wrong if button[t.stem] == "half"]
        downbeat = {t.stem: float(refs[t.stem][refs[t.stem] < PRESS][-1]) for t in halved
                    if np.any(refs[t.stem] < PRESS)}
        halved = [t for t in halved if t.stem in downbeat]
        phased = dict(zip([t.stem for t in halved],
                          run_all(tactus, [(t.audio, [f"{downbeat[t.stem]:.4f}:downbeat",
                                                      f"{PRESS:g}:half"]) for t in halved],
                                  args.jobs)))

        # 2. taps
        rng = np.random.default_rng(args.seed)
        taps = {}
        for t in tapped:
            r = after(refs[t.stem])[:TAPS]
            taps[t.stem] = np.maximum(r + rng.uniform(-TAP_JITTER, TAP_JITTER, TAPS), 0.0)
        print(f"taps: {len(tapped)} files", file=sys.stderr)
        with_taps = dict(zip([t.stem for t in tapped],
                             run_all(tactus, [(t.audio, [f"{x:.4f}:tap" for x in taps[t.stem]])
                                              for t in tapped], args.jobs)))
    wall = time.perf_counter() - started

    text = report(args, tracks, scored, skipped, tapped, refs, base, info, wrong, button, fixed,
                  (halved, downbeat, phased), taps, with_taps, binary, load, wall, bpm_range)
    bl.emit_report(text, args.out)


def report(args, tracks, scored, skipped, tapped, refs, base, info, wrong, button, fixed, phase,
           taps, with_taps, binary, load, wall, bpm_range) -> str:
    repo = Path(__file__).resolve().parent.parent
    cmd = shlex.join(["bench/one_button.py", *sys.argv[1:]])
    lines = [
        f"## One-button fixes (issue 20): `half`/`double` and four taps, split `{args.split}` "
        f"({len(tracks)} files: train + valid)" if args.split == "dev" else
        f"## One-button fixes (issue 20), split `{args.split}` ({len(tracks)} files)",
        "",
        f"Command: `{cmd}`. Tactus commit {bl.git_describe(repo)} ({sources_state(repo)}), "
        f"binary {binary}; default tempo range {bpm_range[0]:g}-{bpm_range[1]:g} BPM; "
        f"mir_eval {mir_eval.__version__}; {load}; whole run {wall:.0f} s wall "
        f"({args.jobs} processes at a time).",
        "",
        "- Default configuration (builtin model, no --set), one process per file and run: "
        "`tactus track FILE --format jsonl [--control T:CMD ...]`; beats are the `time` fields. "
        "A control is applied after the first frame at or past its time, as the daemon does.",
        "- Only development files (manifest `train` and `valid`). "
        + (f"Left out, no annotated beats after {PRESS:g} s: "
           + ", ".join(f"{t.dataset}/{t.stem}" for t in skipped) + "." if skipped else ""),
        f"- Scores: mir_eval F (+-70 ms), CMLt, AMLt (defaults) with the reference and the "
        f"estimated beats both restricted to t >= {PRESS:g} s (no other trim).",
        "",
    ]
    lines += level_section(scored, refs, base, info, wrong, button, fixed, bpm_range)
    lines += phase_section(refs, base, fixed, *phase)
    lines += tap_section(args, tapped, refs, base, taps, with_taps, bpm_range)
    return "\n".join(lines)


def level_section(scored, refs, base, info, wrong, button, fixed, bpm_range) -> list[str]:
    cats = {}
    for t in scored:
        cats.setdefault(info[t.stem][3], []).append(t)
    names = {"right": "right level (within 8 % of 1x)", "double": "2x (button `half`)",
             "half": "0.5x (button `double`)", "triple": "3x (other, no button)",
             "third": "1/3x (other, no button)", "other": "any other ratio (no button)",
             "none": "fewer than 2 tracker beats after 10 s"}
    cat_rows = [[names[k], str(len(cats[k])),
                 ", ".join(f"{t.dataset}/{t.stem} ({info[t.stem][2]:.2f})" for t in cats[k])
                 if k != "right" else ""]
                for k in names if k in cats]
    out = [
        f"### 1. Metrical-level fixes (`--control {PRESS:g}:half` / `{PRESS:g}:double`)",
        "",
        f"Tracker tempo / annotated tempo from median inter-beat intervals after {PRESS:g} s "
        f"(default run); a file counts at a level when the ratio is within {LEVEL_TOL:.0%} "
        "of it. In brackets: the ratio.",
        "",
        bl.markdown_table(["level of the default tracker", "files", "files (ratio)"], cat_rows),
        "",
    ]
    if not wrong:
        return out + ["No file on the wrong octave: nothing to press.", ""]
    rows, before_all, after_all, effect = [], [], [], {}
    for t in wrong:
        ref = after(refs[t.stem])
        b = scores(ref, after(base[t.stem]))
        a = scores(ref, after(fixed[t.stem]))
        before_all.append((button[t.stem], b))
        after_all.append((button[t.stem], a))
        effect[t.stem] = ""
        if same_beats(base[t.stem], fixed[t.stem]):
            target = 60 / info[t.stem][1] * (0.5 if button[t.stem] == "half" else 2)
            outside = not bpm_range[0] <= target <= bpm_range[1]
            effect[t.stem] = "no effect" + (f" ({target:.0f} BPM is outside the tempo range)"
                                            if outside else "")
        rows.append([f"{t.stem}", t.dataset, bpm(info[t.stem][0]), bpm(info[t.stem][1]),
                     f"`{button[t.stem]}`", bpm(median_ibi(after(fixed[t.stem]))),
                     *(f"{b[m]:.3f} → {a[m]:.3f}" for m in ("CMLt", "AMLt", "F")),
                     effect[t.stem]])
    header = ["file", "data set", "annotated BPM", "tracker BPM", "button", "BPM after",
              "CMLt before → after", "AMLt before → after", "F before → after", "note"]
    mean_rows = []
    for label, keep in (("`half`", "half"), ("`double`", "double"), ("all", None)):
        sel = [i for i, (bt, _) in enumerate(before_all) if keep is None or bt == keep]
        if not sel:
            continue
        mb = {m: np.mean([before_all[i][1][m] for i in sel]) for m in ("CMLt", "AMLt", "F")}
        ma = {m: np.mean([after_all[i][1][m] for i in sel]) for m in ("CMLt", "AMLt", "F")}
        up = sum(after_all[i][1]["CMLt"] > before_all[i][1]["CMLt"] + 1e-9 for i in sel)
        down = sum(after_all[i][1]["CMLt"] < before_all[i][1]["CMLt"] - 1e-9 for i in sel)
        mean_rows.append([f"**mean, {label}**", str(len(sel)),
                          *(f"{mb[m]:.3f} → {ma[m]:.3f}" for m in ("CMLt", "AMLt", "F")),
                          f"{up} / {down} / {len(sel) - up - down}"])
    out += [
        bl.markdown_table(header, rows),
        "",
        "'BPM after': median inter-beat interval of the rerun after 10 s. 'no effect': the rerun's "
        "beats equal the default run's (+-1 ms), i.e. the command changed nothing (file mode does "
        "not print the command's outcome).",
        "",
        bl.markdown_table(["", "files", "CMLt before → after", "AMLt before → after",
                           "F before → after", "CMLt up / down / same"], mean_rows),
        "",
    ]
    return out


def phase_section(refs, base, fixed, halved, downbeat, phased) -> list[str]:
    if not halved:
        return []
    rows, cols = [], ("CMLt", "AMLt", "F")
    acc = {k: {m: [] for m in cols} for k in ("before", "half", "phased")}
    for t in halved:
        ref = after(refs[t.stem])
        s = {"before": scores(ref, after(base[t.stem])), "half": scores(ref, after(fixed[t.stem])),
             "phased": scores(ref, after(phased[t.stem]))}
        for k in s:
            for m in cols:
                acc[k][m].append(s[k][m])
        rows.append([t.stem, f"{downbeat[t.stem]:.2f}",
                     *(f"{s['before'][m]:.3f} / {s['half'][m]:.3f} / {s['phased'][m]:.3f}" for m in cols)])
    rows.append([f"**mean ({len(halved)})**", "",
                 *(" / ".join(f"{np.mean(acc[k][m]):.3f}" for k in ("before", "half", "phased"))
                   for m in cols)])
    return [
        "#### Extra: `half` with the phase given by `downbeat`",
        "",
        "Without an operator's `downbeat`, `half` keeps whichever of the two interleaved beat "
        "series the network's activation was stronger on over the last 4 s (a guess at the "
        "strong beats); after a `downbeat` it keeps beats 1 and 3 of the operator's bars. Here "
        "the same files are rerun with "
        f"`--control A:downbeat --control {PRESS:g}:half`, A = the last annotated beat before "
        f"{PRESS:g} s (an operator marking a beat, then halving). Cells: default / `half` alone / "
        "`downbeat` + `half`, scored as above.",
        "",
        bl.markdown_table(["file", "downbeat at (s)", "CMLt", "AMLt", "F"], rows),
        "",
    ]


def tap_note(plain: np.ndarray, tapped: np.ndarray, ref: np.ndarray, bpm_range) -> str:
    if not same_beats(plain, tapped):
        return ""
    tempo = 60 / median_ibi(after(ref))
    return "no effect" + (f" ({tempo:.0f} BPM is outside the tempo range)"
                          if not bpm_range[0] <= tempo <= bpm_range[1] else "")


def tap_section(args, tapped, refs, base, taps, with_taps, bpm_range) -> list[str]:
    rows, cold0, cold10, cold4, tap4 = [], [], [], [], []
    s_no, s_tap = [], []
    for t in tapped:
        ref = refs[t.stem]
        t4 = float(taps[t.stem][-1])
        c0 = lock_time(base[t.stem], ref, 0.0)
        c10 = lock_time(base[t.stem], ref, PRESS)
        c4 = lock_time(base[t.stem], ref, t4)
        w4 = lock_time(with_taps[t.stem], ref, t4)
        cold0.append(c0), cold10.append(c10), cold4.append(c4), tap4.append(w4)
        sn = scores(after(ref), after(base[t.stem]))
        st = scores(after(ref), after(with_taps[t.stem]))
        s_no.append(sn), s_tap.append(st)
        rows.append([t.stem, t.dataset, bpm(median_ibi(after(ref))), f"{t4:.2f}",
                     bpm(median_ibi(after(base[t.stem], t4))), bpm(median_ibi(after(with_taps[t.stem], t4))),
                     secs(c0), secs(c10), secs(c4), secs(w4),
                     f"{sn['CMLt']:.3f} → {st['CMLt']:.3f}", f"{sn['AMLt']:.3f} → {st['AMLt']:.3f}",
                     f"{sn['F']:.3f} → {st['F']:.3f}", tap_note(base[t.stem], with_taps[t.stem], ref,
                                                                bpm_range)])
    n = len(tapped)
    both = [(c, w) for c, w in zip(cold4, tap4)]
    faster = sum(1 for c, w in both if w is not None and (c is None or w < c - 0.01))
    slower = sum(1 for c, w in both if c is not None and (w is None or w > c + 0.01))
    faster1 = sum(1 for c, w in both if w is not None and (c is None or w < c - 1))
    slower1 = sum(1 for c, w in both if c is not None and (w is None or w > c + 1))
    summary = [
        ["without taps, from 0 s", *lock_summary(cold0)],
        [f"without taps, from {PRESS:g} s", *lock_summary(cold10)],
        ["without taps, from the 4th tap's time", *lock_summary(cold4)],
        ["**with 4 taps, from the 4th tap**", *lock_summary(tap4)],
    ]
    means = [["without taps", str(n), *(f3(np.mean([s[m] for s in s_no])) for m in ("CMLt", "AMLt", "F"))],
             ["with 4 taps", str(n), *(f3(np.mean([s[m] for s in s_tap])) for m in ("CMLt", "AMLt", "F"))]]
    up = sum(b["CMLt"] > a["CMLt"] + 1e-9 for a, b in zip(s_no, s_tap))
    down = sum(b["CMLt"] < a["CMLt"] - 1e-9 for a, b in zip(s_no, s_tap))
    return [
        "### 2. Tap to lock (four `--control T:tap`)",
        "",
        f"{n} files (all development files with at least {TAPS + LOCK_BEATS} annotated beats after "
        f"{PRESS:g} s). Taps: the first {TAPS} annotated beats at or after {PRESS:g} s, each plus "
        f"uniform jitter in +-{TAP_JITTER * 1000:.0f} ms (numpy default_rng({args.seed}), drawn in "
        "manifest order). Stable lock: the first estimated beat at or after the start from which "
        f"{LOCK_BEATS} estimated beats are each within +-{LOCK_WINDOW * 1000:.0f} ms of an annotated "
        f"beat and their {LOCK_BEATS - 1} intervals within {LOCK_PERIOD_TOL:.0%} of the annotated "
        "interval that holds each interval's midpoint (annotated level and phase); the lock time is "
        "that beat minus the start. 'never': no such run of beats in the file. Without taps = the "
        "default run of part 1.",
        "",
        bl.markdown_table(["lock time (s)", "median", "mean", "never lock"], summary),
        "",
        "Median and mean over the files that lock (not the same files in every row). A lock time "
        "counts from the start to the first good beat at or after it, so even a tracker locked all "
        "along shows 0 to 1 beat period here (a beat that moves a few ms across the 4th tap's time "
        "changes it by a whole period). Same start (the 4th tap's time), with taps vs "
        f"without: taps lock sooner (by > 10 ms, or lock where the run without taps never does) in "
        f"{faster} of {n} files, later or not at all in {slower}, the same in {n - faster - slower}; "
        f"by more than 1 s (or lock vs never): sooner in {faster1}, later in {slower1}.",
        "",
        f"Scores after {PRESS:g} s (reference and estimates both t >= {PRESS:g} s; the taps come "
        "after 10 s, so these include the beats before the 4th tap):",
        "",
        bl.markdown_table(["", "files", "CMLt", "AMLt", "F"], means),
        "",
        f"CMLt with taps above / below / equal to without: {up} / {down} / {n - up - down}.",
        "",
        "#### Per file",
        "",
        "'BPM no taps' / 'BPM taps': median inter-beat interval of each run after the 4th tap. "
        "Lock times in s ('never': no stable lock in the file).",
        "",
        bl.markdown_table(["file", "data set", "annotated BPM", "4th tap (s)", "BPM no taps",
                           "BPM taps", "lock, no taps, from 0",
                           f"from {PRESS:g} s", "from 4th tap", "**with taps**, from 4th tap",
                           "CMLt no taps → taps", "AMLt", "F", "note"], rows),
        "",
    ]


if __name__ == "__main__":
    main()
