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

Data v2 (--v2 valid|test): adds the songs of that split of training/splits_v2.tsv (training/common.py's
v2_files): beatles_mp3 (beats of training/beatles_alignment/) and stepmania, the latter scored inside
its charted span only (common.SPANS), detections and annotations alike, before the 5 s trim.
`--split none --v2 valid` scores the data v2 songs alone. The test split is for the release report
only: never run --v2 test for a choice. Files whose stems collide (beatles/X and beatles_mp3/X) run
in separate output directories.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import mir_eval
import numpy as np

import benchlib as bl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "training"))
import common  # noqa: E402
import cv_folds  # noqa: E402

METRICS = ("F", "CMLt", "AMLt")
MADMOM_LABEL = "madmom 0.16.1 online"
V2_DATASETS = ("beatles_mp3", "stepmania")
FFMPEG_44K = ["-af", "aresample=resampler=soxr", "-ar", str(bl.MADMOM_RATE), "-c:a", "pcm_f32le"]
FFMPEG_NOTE = (
    "madmom is given a 44.1 kHz WAV copy of each {what}, made by ffmpeg in a temp dir: `ffmpeg -i IN "
    "-af aresample=resampler=soxr -ar 44100 -c:a pcm_f32le OUT.wav` (libsoxr, as in Tactus). madmom "
    "reads MP3 and Opus only through ffmpeg at their own rate, and its online file mode would then "
    "resample every 2048-sample frame separately. Tactus reads the original files."
)
V2_NOTES = {
    "beatles_mp3": "beatles_mp3: the MP3s scored against training/beatles_alignment/<stem>.beats "
                   "(MP3 clock).",
    "stepmania": "stepmania: detections and annotations kept inside the charted span only (the "
                 "song's first to last charted note, stepmania/manifest.tsv), then the usual 5 s trim.",
}
TEST_NOTE = ("**The data v2 test split is read here for the release report only**: it is never used "
             "for training or for any choice.")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True, help="path to the tactus binary")
    p.add_argument("--tactus-args", default="",
                   help='arguments for the single configuration; use --tactus-args="--no-model"')
    p.add_argument("--label", default="tactus", help="name of the single configuration")
    p.add_argument("--config", action="append", default=[], metavar="LABEL=ARGS",
                   help="a tactus configuration (repeatable); overrides --label/--tactus-args")
    p.add_argument("--madmom-venv", type=Path, default=bl.DEFAULT_MADMOM_VENV)
    p.add_argument("--no-madmom", action="store_true", help="do not run madmom")
    p.add_argument("--madmom-jobs", type=int, default=2, help="parallel madmom processes")
    p.add_argument("--split", choices=("valid", "train", "all", "none"), default="valid",
                   help="manifest split ('none': no manifest files, e.g. with --v2)")
    p.add_argument("--v2", choices=("valid", "test"),
                   help="also the data v2 songs of this split (training/splits_v2.tsv); test: release report only")
    p.add_argument("--max-files", type=int, help="only the first N files of the selection (quick checks)")
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


def key(t: bl.Track) -> str:
    """A file's unique name: 'dataset/stem' (stems alone collide between data sets)."""
    return f"{t.dataset}/{t.stem}"


def v2_tracks(split: str, data: Path) -> list[bl.Track]:
    """The data v2 songs of SPLIT (common.v2_files, which fills common.SPANS); the test split only for
    the release report. Their duration is not needed here (NaN)."""
    files = common.v2_files(split, data=str(data), release_report=split == "test")
    return [bl.Track(dataset, stem, Path(audio), Path(beats), float("nan"), split)
            for audio, beats, dataset, stem in files]


def select_tracks(args: argparse.Namespace) -> list[bl.Track]:
    """The manifest files of --split, then the data v2 songs of --v2; the first --max-files."""
    tracks = [t for t in bl.read_manifest(args.data)
              if args.split != "none" and args.split in ("all", t.split)]
    if args.v2:
        tracks += v2_tracks(args.v2, args.data)
    return tracks[:args.max_files] if args.max_files else tracks


def selection(args: argparse.Namespace) -> str:
    """What was scored, for the report's title."""
    parts = [] if args.split == "none" else [f"split `{args.split}`"]
    parts += [f"data v2 `{args.v2}`"] if args.v2 else []
    return " + ".join(parts) + (f", first {args.max_files}" if args.max_files else "")


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


def load_outputs(groups: list[list[bl.Track]], out_dir: Path) -> dict[str, np.ndarray]:
    """Per-file (key) beats from OUT_DIR/group<i>/<stem>.beats.txt (a missing file counts as no
    beats)."""
    beats = {}
    for i, group in enumerate(groups):
        for t in group:
            beat_file = out_dir / f"group{i}" / f"{t.stem}.beats.txt"
            if not beat_file.exists():
                print(f"warning: no output {beat_file}", file=sys.stderr)
            beats[key(t)] = np.array(bl.read_beats(beat_file) if beat_file.exists() else [])
    return beats


def score_system(tracks: list[bl.Track], beats: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per-file scores of a system's beats against the annotations, both inside the file's trusted
    span (common.in_span: StepMania's charted span; all of a file without one)."""
    return {key(t): scores(common.in_span(bl.read_beats(t.annotation), t.audio),
                           common.in_span(beats[key(t)], t.audio))
            for t in tracks}


def identical(a: np.ndarray, b: np.ndarray, tol: float = 0.001) -> bool:
    """Same number of beats, each within TOL seconds."""
    return len(a) == len(b) and bool(np.all(np.abs(a - b) <= tol))


def agreement_table(tracks: list[bl.Track], outputs: dict[str, dict]) -> str:
    """Per tactus system: files whose beat list equals madmom's (+-1 ms)."""
    ref = outputs[MADMOM_LABEL]
    rows = []
    for system, beats in outputs.items():
        if system != MADMOM_LABEL:
            same = sum(identical(beats[key(t)], ref[key(t)]) for t in tracks)
            rows.append([system, f"{same} / {len(tracks)}"])
    return bl.markdown_table(["system", "files with beats identical to madmom (+-1 ms)"], rows)


def mean_row(name: str, per_file: dict[str, dict[str, float]], files: list[str],
             keys: list[str]) -> list[str]:
    """A table row: NAME, file count, then the mean of each metric over FILES (keys)."""
    means = [np.mean([per_file[f][k] for f in files]) for k in keys]
    return [name, str(len(files))] + [f"{m:.3f}" for m in means]


def summary_tables(tracks: list[bl.Track], results: dict[str, dict]) -> str:
    """One table per system: rows per data set and overall, trimmed and untrimmed metrics."""
    keys = [*METRICS, *(m + " raw" for m in METRICS)]
    header = ["data set", "files", *METRICS, *(m + " (no trim)" for m in METRICS)]
    datasets = sorted({t.dataset for t in tracks})
    parts = []
    for system, per_file in results.items():
        rows = [mean_row(d, per_file, [key(t) for t in tracks if t.dataset == d], keys)
                for d in datasets]
        rows.append(mean_row("**all**", per_file, [key(t) for t in tracks], keys))
        parts.append(f"### {system}\n\n" + bl.markdown_table(header, rows))
    return "\n\n".join(parts)


def overview_table(tracks: list[bl.Track], results: dict[str, dict]) -> str:
    """All systems side by side: overall means (over files)."""
    keys = [*METRICS, *(m + " raw" for m in METRICS)]
    header = ["system", "files", *METRICS, *(m + " (no trim)" for m in METRICS)]
    files = [key(t) for t in tracks]
    return bl.markdown_table(header, [mean_row(s, r, files, keys) for s, r in results.items()])


def per_file_table(tracks: list[bl.Track], results: dict[str, dict]) -> str:
    """F (trimmed) per file and system."""
    header = ["file", *results]
    rows = [[key(t), *(f"{r[key(t)]['F']:.3f}" for r in results.values())]
            for t in tracks]
    return bl.markdown_table(header, rows)


def fold_table(tracks: list[bl.Track], results: dict[str, dict], folds: dict[str, int]) -> str:
    """Per system: the mean of each metric over each fold's files, then the mean and the
    standard deviation of those fold means."""
    header = ["system", *(f"fold {k} ({sum(1 for t in tracks if folds[key(t)] == k)})"
                          for k in range(cv_folds.FOLDS)), "mean of folds", "std over folds"]
    rows = []
    for system, per_file in results.items():
        for m in METRICS:
            means = [np.mean([per_file[key(t)][m] for t in tracks if folds[key(t)] == k])
                     for k in range(cv_folds.FOLDS)]
            rows.append([f"{system}: {m}", *(f"{v:.3f}" for v in means),
                         f"{np.mean(means):.3f}", f"{np.std(means):.3f}"])
    return bl.markdown_table(header, rows)


def report(args, tracks, outputs, results, notes) -> str:
    files = "file" if len(tracks) == 1 else "files"
    lines = [
        f"## Beat-tracking accuracy, {selection(args)} ({len(tracks)} {files})",
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


def ffprobe_rate(path: Path) -> int:
    """Sample rate of an audio file's first audio stream, from ffprobe."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate",
           "-of", "csv=p=0", str(path)]
    return int(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip())


def ffmpeg_44k(audio: Path, copy: Path) -> Path:
    """A 44.1 kHz float WAV copy of AUDIO at COPY, by ffmpeg (libsoxr); returns COPY."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(audio), *FFMPEG_44K, str(copy)],
                   check=True)
    return copy


def madmom_inputs(tracks: list[bl.Track], tmp_dir: Path) -> dict[str, Path]:
    """Stem -> file to give madmom (TRACKS' stems are distinct): manifest files as benchlib prepares
    them (sox) when sox is installed; the others (data v2: MP3, Opus) the original when at 44.1 kHz,
    else an ffmpeg copy at 44.1 kHz."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    by_sox = [t for t in tracks if t.dataset not in V2_DATASETS] if shutil.which("sox") else []
    inputs = bl.madmom_inputs(by_sox, tmp_dir) if by_sox else {}
    for t in tracks:
        if t.stem not in inputs:
            at_rate = ffprobe_rate(t.audio) == bl.MADMOM_RATE
            inputs[t.stem] = t.audio if at_rate else ffmpeg_44k(t.audio, tmp_dir / f"{t.stem}.44k.wav")
    return inputs


def madmom_notes(tracks: list[bl.Track], inputs: dict[str, Path]) -> list[str]:
    """Notes on the 44.1 kHz copies made for madmom (INPUTS: key -> file given), by sox or ffmpeg."""
    copied = [t for t in tracks if inputs[key(t)] != t.audio]
    sox = shutil.which("sox") is not None
    what = (["data v2 file (MP3 16 kHz, Opus 48 kHz)"] if any(t.dataset in V2_DATASETS for t in copied)
            else [])
    if not sox and any(t.dataset not in V2_DATASETS for t in copied):
        what.append("manifest file not at 44.1 kHz (sox is not installed)")
    notes = [bl.MADMOM_RESAMPLE_NOTE] if sox and any(t.dataset not in V2_DATASETS for t in copied) else []
    return notes + ([FFMPEG_NOTE.format(what=" and of each ".join(what))] if what else [])


def run_configuration(tactus: str, groups: list[list[bl.Track]], out_dir: Path, targs: str,
                      folds: dict[str, int] | None) -> None:
    """`tactus track` with TARGS over each group into OUT_DIR/group<i>; with FOLDS (--cv) and '{fold}'
    in TARGS, each fold's files with that fold's model."""
    for i, group in enumerate(groups):
        if folds is None or "{fold}" not in targs:
            bl.run_tactus(tactus, [t.audio for t in group], out_dir / f"group{i}", targs)
            continue
        for k in sorted({folds[key(t)] for t in group}):
            bl.run_tactus(tactus, [t.audio for t in group if folds[key(t)] == k], out_dir / f"group{i}",
                          targs.replace("{fold}", str(k)))


def run_madmom(args: argparse.Namespace, groups: list[list[bl.Track]], tmp: Path) -> list[str]:
    """madmom online over each group into TMP/madmom/group<i>; returns the notes on its inputs."""
    inputs = {}
    for i, group in enumerate(groups):
        given = madmom_inputs(group, tmp / "madmom-inputs" / f"group{i}")
        bl.run_madmom(args.madmom_venv, given, tmp / "madmom" / f"group{i}", jobs=args.madmom_jobs)
        inputs.update({key(t): given[t.stem] for t in group})
    return madmom_notes([t for g in groups for t in g], inputs)


def selection_notes(args: argparse.Namespace, tracks: list[bl.Track],
                    groups: list[list[bl.Track]]) -> list[str]:
    """Notes on the files scored: the test split, the data v2 sets, stems run apart."""
    notes = [TEST_NOTE] if args.v2 == "test" else []
    notes += [V2_NOTES[d] for d in V2_DATASETS if any(t.dataset == d for t in tracks)]
    if len(groups) > 1:
        apart = ", ".join(key(t) for g in groups[1:] for t in g)
        notes.append(f"Files whose stem another file has too ran in their own output directories: {apart}.")
    return notes


def main() -> None:
    args = parse_args()
    if args.cv and args.v2:
        sys.exit("--cv: the data v2 songs are in no cross-validation fold")
    tracks = select_tracks(args)
    if not tracks:
        sys.exit(f"no files in split {args.split!r}" + (f" nor data v2 {args.v2!r}" if args.v2 else ""))
    groups = common.stem_groups(tracks, lambda t: t.stem)
    outputs, notes = {}, selection_notes(args, tracks, groups)
    if args.cv:
        fold_of = cv_folds.assign([(t.dataset, t.stem) for t in bl.read_manifest(args.data)])
        args.folds = {key(t): fold_of[(t.dataset, t.stem)] for t in tracks}
    with tempfile.TemporaryDirectory(prefix="tactus-accuracy-") as tmp:
        tmp = Path(tmp)
        tactus = bl.pin_binary(args.tactus, tmp)
        args.binary_id = bl.binary_id(tactus)
        for i, (label, targs) in enumerate(configurations(args)):
            print(f"running {label}: tactus track {targs}", file=sys.stderr)
            run_configuration(tactus, groups, tmp / f"tactus{i}", targs, args.folds if args.cv else None)
            outputs[label] = load_outputs(groups, tmp / f"tactus{i}")
            notes.append(f"{label}: `" + f"tactus track FILES --output-dir DIR {targs}".rstrip() + "`")
        if not args.no_madmom:
            print("running madmom DBNBeatTracker online", file=sys.stderr)
            input_notes = run_madmom(args, groups, tmp)
            outputs[MADMOM_LABEL] = load_outputs(groups, tmp / "madmom")
            notes.append(f"{MADMOM_LABEL}: `DBNBeatTracker online FILE`, one process per file.")
            notes += input_notes
    results = {system: score_system(tracks, beats) for system, beats in outputs.items()}
    text = report(args, tracks, outputs, results, notes)
    bl.emit_report(text, args.out)


if __name__ == "__main__":
    main()
