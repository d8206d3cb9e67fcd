"""Beat-tracking accuracy of Tactus (one or more configurations) and madmom online.

Runs `tactus track` for each configuration and madmom's `DBNBeatTracker online` on the files of
one manifest split, scores every file with mir_eval against its annotation -- F-measure
(+-70 ms), CMLt and AMLt, with the standard 5 s trim (mir_eval.beat.trim_beats, as in
mir_eval.beat.evaluate) and untrimmed -- and prints Markdown tables per data set and overall
(mean over files), plus per-file F, also written to --out.

Run with the harness venv (bench/setup-venv.sh) from the repository root:

    PY=$(bench/setup-venv.sh | tail -1)
    $PY bench/accuracy.py --tactus .build/release/tactus --split valid \\
        --config "tactus (madmom weights)=--model reference/madmom_beats_lstm.tnn" \\
        --config "tactus (onset fallback)=--no-model" --out bench/results/accuracy-valid.md

Without --config, one configuration --label (default "tactus") with --tactus-args is run;
write it with '=' when the value starts with '-': --tactus-args="--no-model".
--no-madmom skips the reference tracker. Outputs go to a temp dir; nothing is cached.

Cross-validation (--cv): a configuration whose ARGS contain `{fold}` runs each file with the
model of the fold the file is held out in (tools/cv_folds.py: fold 4 is the valid split), e.g.
--config "tactus CV=--model cv/fold{fold}.tnn" --split all --cv; the report adds a table of
per-fold means and their mean and standard deviation over the folds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import mir_eval
import numpy as np

import benchlib as bl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import cv_folds  # noqa: E402

METRICS = ("F", "CMLt", "AMLt")
MADMOM_LABEL = "madmom 0.16.1 online"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True, help="path to the tactus binary")
    p.add_argument("--tactus-args", default="", help='arguments for the single configuration; use --tactus-args="--no-model"')
    p.add_argument("--label", default="tactus", help="name of the single configuration")
    p.add_argument("--config", action="append", default=[], metavar="LABEL=ARGS",
                   help="a tactus configuration (repeatable); overrides --label/--tactus-args")
    p.add_argument("--madmom-venv", type=Path, default=bl.DEFAULT_MADMOM_VENV)
    p.add_argument("--no-madmom", action="store_true", help="do not run madmom")
    p.add_argument("--madmom-jobs", type=int, default=2, help="parallel madmom processes")
    p.add_argument("--split", choices=("valid", "train", "all"), default="valid")
    p.add_argument("--data", type=Path, default=bl.DEFAULT_DATA)
    p.add_argument("--out", type=Path, help="write the Markdown report here too")
    p.add_argument("--cv", action="store_true",
                   help="cross-validation: '{fold}' in a configuration's ARGS is the file's fold (tools/cv_folds.py)")
    return p.parse_args()


def configurations(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(label, tactus args) pairs from --config, else from --label/--tactus-args."""
    if not args.config:
        return [(args.label, args.tactus_args)]
    configs = []
    for spec in args.config:
        label, sep, targs = spec.partition("=")
        if not sep or not label.strip():
            sys.exit(f"--config must be LABEL=ARGS, got {spec!r}")
        configs.append((label.strip(), targs.strip()))
    return configs


def scores(reference: np.ndarray, estimated: np.ndarray) -> dict[str, float]:
    """F (+-70 ms), CMLt, AMLt with the 5 s trim and untrimmed ('... raw')."""
    out = {}
    for suffix, trim in (("", True), (" raw", False)):
        ref = mir_eval.beat.trim_beats(reference) if trim else reference
        est = mir_eval.beat.trim_beats(estimated) if trim else estimated
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # empty / short beat lists score 0, as intended
            out["F" + suffix] = mir_eval.beat.f_measure(ref, est, f_measure_threshold=0.07)
            _, cmlt, _, amlt = mir_eval.beat.continuity(ref, est)
        out["CMLt" + suffix] = cmlt
        out["AMLt" + suffix] = amlt
    return out


def load_outputs(tracks: list[bl.Track], out_dir: Path) -> dict[str, np.ndarray]:
    """Per-stem beats from OUT_DIR/<stem>.beats.txt (a missing file counts as no beats)."""
    beats = {}
    for t in tracks:
        beat_file = out_dir / f"{t.stem}.beats.txt"
        if not beat_file.exists():
            print(f"warning: no output {beat_file}", file=sys.stderr)
        beats[t.stem] = np.array(bl.read_beats(beat_file) if beat_file.exists() else [])
    return beats


def score_system(tracks: list[bl.Track], beats: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per-stem scores of a system's beats against the annotations."""
    return {t.stem: scores(np.array(bl.read_beats(t.annotation)), beats[t.stem]) for t in tracks}


def identical(a: np.ndarray, b: np.ndarray, tol: float = 0.001) -> bool:
    """Same number of beats, each within TOL seconds."""
    return len(a) == len(b) and bool(np.all(np.abs(a - b) <= tol))


def agreement_table(tracks: list[bl.Track], outputs: dict[str, dict]) -> str:
    """Per tactus system: files whose beat list equals madmom's (+-1 ms)."""
    ref = outputs[MADMOM_LABEL]
    rows = []
    for system, beats in outputs.items():
        if system != MADMOM_LABEL:
            same = sum(identical(beats[t.stem], ref[t.stem]) for t in tracks)
            rows.append([system, f"{same} / {len(tracks)}"])
    return bl.markdown_table(["system", "files with beats identical to madmom (+-1 ms)"], rows)


def mean_row(name: str, per_file: dict[str, dict[str, float]], stems: list[str],
             keys: list[str]) -> list[str]:
    """A table row: NAME, file count, then the mean of each metric over STEMS."""
    means = [np.mean([per_file[s][k] for s in stems]) for k in keys]
    return [name, str(len(stems))] + [f"{m:.3f}" for m in means]


def summary_tables(tracks: list[bl.Track], results: dict[str, dict]) -> str:
    """One table per system: rows per data set and overall, trimmed and untrimmed metrics."""
    keys = [*METRICS, *(m + " raw" for m in METRICS)]
    header = ["data set", "files", *METRICS, *(m + " (no trim)" for m in METRICS)]
    datasets = sorted({t.dataset for t in tracks})
    parts = []
    for system, per_file in results.items():
        rows = [mean_row(d, per_file, [t.stem for t in tracks if t.dataset == d], keys)
                for d in datasets]
        rows.append(mean_row("**all**", per_file, [t.stem for t in tracks], keys))
        parts.append(f"### {system}\n\n" + bl.markdown_table(header, rows))
    return "\n\n".join(parts)


def overview_table(tracks: list[bl.Track], results: dict[str, dict]) -> str:
    """All systems side by side: overall means (over files)."""
    keys = [*METRICS, *(m + " raw" for m in METRICS)]
    header = ["system", "files", *METRICS, *(m + " (no trim)" for m in METRICS)]
    stems = [t.stem for t in tracks]
    return bl.markdown_table(header, [mean_row(s, r, stems, keys) for s, r in results.items()])


def per_file_table(tracks: list[bl.Track], results: dict[str, dict]) -> str:
    """F (trimmed) per file and system."""
    header = ["file", *results]
    rows = [[f"{t.dataset}/{t.stem}", *(f"{r[t.stem]['F']:.3f}" for r in results.values())]
            for t in tracks]
    return bl.markdown_table(header, rows)


def fold_table(tracks: list[bl.Track], results: dict[str, dict], folds: dict[str, int]) -> str:
    """Per system: the mean of each metric over each fold's files, then the mean and the
    standard deviation of those fold means."""
    header = ["system", *(f"fold {k} ({sum(1 for t in tracks if folds[t.stem] == k)})"
                          for k in range(cv_folds.FOLDS)), "mean of folds", "std over folds"]
    rows = []
    for system, per_file in results.items():
        for m in METRICS:
            means = [np.mean([per_file[t.stem][m] for t in tracks if folds[t.stem] == k])
                     for k in range(cv_folds.FOLDS)]
            rows.append([f"{system}: {m}", *(f"{v:.3f}" for v in means),
                         f"{np.mean(means):.3f}", f"{np.std(means):.3f}"])
    return bl.markdown_table(header, rows)


def report(args, tracks, outputs, results, notes) -> str:
    files = "file" if len(tracks) == 1 else "files"
    lines = [
        f"## Beat-tracking accuracy, split `{args.split}` ({len(tracks)} {files})",
        "",
        f"Tactus commit {bl.git_describe(Path(__file__).resolve().parent.parent)}, binary "
        f"{args.binary_id}; "
        f"mir_eval {mir_eval.__version__}. F: F-measure, +-70 ms window. CMLt/AMLt: "
        "continuity, mir_eval defaults. Main columns skip beats before 5 s "
        "(mir_eval.beat.trim_beats, as mir_eval.beat.evaluate); '(no trim)' columns score all "
        "beats. Means are over files.",
        "",
        *[f"- {n}" for n in notes],
        "",
        "### Overall",
        "",
        overview_table(tracks, results),
        "",
        summary_tables(tracks, results),
        "",
        *(["### Cross-validation folds (5 s trim)", "", fold_table(tracks, results, args.folds), ""]
          if args.cv else []),
        *(["### Agreement with madmom", "", agreement_table(tracks, outputs), ""]
          if MADMOM_LABEL in outputs else []),
        "### Per-file F (5 s trim)",
        "",
        per_file_table(tracks, results),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    tracks = [t for t in bl.read_manifest(args.data) if args.split in ("all", t.split)]
    if not tracks:
        sys.exit(f"no files in split {args.split!r}")
    outputs, notes = {}, []
    fold_of = cv_folds.assign([(t.dataset, t.stem) for t in bl.read_manifest(args.data)])
    args.folds = {t.stem: fold_of[(t.dataset, t.stem)] for t in tracks}
    with tempfile.TemporaryDirectory(prefix="tactus-accuracy-") as tmp:
        tmp = Path(tmp)
        tactus = bl.pin_binary(args.tactus, tmp)
        args.binary_id = bl.binary_id(tactus)
        for i, (label, targs) in enumerate(configurations(args)):
            print(f"running {label}: tactus track {targs}", file=sys.stderr)
            if args.cv and "{fold}" in targs:
                for k in sorted(set(args.folds.values())):
                    bl.run_tactus(tactus, [t.audio for t in tracks if args.folds[t.stem] == k],
                                  tmp / f"tactus{i}", targs.replace("{fold}", str(k)))
            else:
                bl.run_tactus(tactus, [t.audio for t in tracks], tmp / f"tactus{i}", targs)
            outputs[label] = load_outputs(tracks, tmp / f"tactus{i}")
            notes.append(f"{label}: `tactus track FILES --output-dir DIR {targs}`".rstrip())
        if not args.no_madmom:
            print("running madmom DBNBeatTracker online", file=sys.stderr)
            inputs = bl.madmom_inputs(tracks, tmp)
            bl.run_madmom(args.madmom_venv, inputs, tmp / "madmom", jobs=args.madmom_jobs)
            outputs[MADMOM_LABEL] = load_outputs(tracks, tmp / "madmom")
            notes.append(f"{MADMOM_LABEL}: `DBNBeatTracker online FILE`, one process per file.")
            if any(inputs[t.stem] != t.audio for t in tracks):
                notes.append(bl.MADMOM_RESAMPLE_NOTE)
    results = {system: score_system(tracks, beats) for system, beats in outputs.items()}
    text = report(args, tracks, outputs, results, notes)
    bl.emit_report(text, args.out)


if __name__ == "__main__":
    main()
