#!/usr/bin/env python3
"""Beat emission benchmark (issue 3): timing, lead, lock and gate, Tactus next to madmom online.

For each Tactus configuration (run with `--format jsonl`, which carries beat time, emission time
and whether the beat was predicted) and for madmom 0.16.1 online (`DBNBeatTracker online`, whose
beats leave when they are detected: emission = beat time), on the chosen split of
../shared/data and on generated signals (`tactus-bench signals`):

- F (±70 ms), CMLt, AMLt on beat times (mir_eval, 5 s trim) and F on emission times;
- signed timing error of matched beats (beat time − annotation): mean, median, p95 of |error|;
- emission lead (beat time − emission time) of predicted beats: median, 5th percentile, and the
  share that left at least `--lead` s early;
- time to the first correct beat: emission time of the first beat within ±70 ms of an annotation,
  minus the first annotated beat (music start); median over files;
- re-lock after tempo steps and ramps, and after a pause between two songs at different tempi:
  first beat after the change (or the second song's start) from which four beats in a row are
  correct, minus that time; for the pause also the beats sent into it (between the first song's
  last beat and the second's first, ±70 ms);
- false beats per minute in 60 s of silence and of −40 dBFS pink noise;
- timing error against exact beats: matched beats of the generated signals from 5 s to the tempo
  change (no annotator in the loop);
- with `--madmom-offline`, madmom's offline tracker (`DBNBeatTracker single`: bidirectional
  networks, Viterbi over the whole file) as a reference row: not a live peer, but the best timing
  agreement with these annotations that madmom reaches when it may look at the future.

    PY=$(bench/setup-venv.sh | tail -n 1)
    $PY bench/emission.py --tactus .build/release/tactus --bench .build/release/tactus-bench \
        --config "predictive=--model reference/madmom_beats_lstm.tnn" \
        --config "reactive (madmom-exact)=--model reference/madmom_beats_lstm.tnn --set emission.mode=reactive" \
        --out bench/results/emission-valid.md
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import mir_eval
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

MADMOM = "madmom 0.16.1 online"
MADMOM_OFFLINE = "madmom 0.16.1 offline (reference: sees the whole file)"
WINDOW = 0.07


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tactus", required=True)
    p.add_argument("--bench", required=True, help="path to tactus-bench (writes the generated signals)")
    p.add_argument("--config", action="append", default=[], metavar="LABEL=ARGS")
    p.add_argument("--lead", type=float, default=0.05, help="configured lead of the predictive configs (s)")
    p.add_argument("--split", default="valid", choices=["valid", "train", "all"])
    p.add_argument("--data", type=Path, default=bl.DEFAULT_DATA)
    p.add_argument("--madmom-venv", type=Path, default=bl.DEFAULT_MADMOM_VENV)
    p.add_argument("--no-madmom", action="store_true")
    p.add_argument("--madmom-offline", action="store_true",
                   help="add madmom's offline tracker as a reference row (annotation agreement)")
    p.add_argument("--out", type=Path)
    return p.parse_args()


def run_tactus_jsonl(tactus, files, out_dir, args):
    bl.run_tactus(tactus, files, out_dir, args + " --format jsonl")
    events = {}
    for f in files:
        path = out_dir / f"{Path(f).stem}.beats.jsonl"
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        events[Path(f).stem] = rows
    return events


def madmom_events(venv, inputs, out_dir, mode="online"):
    bl.run_madmom(venv, inputs, out_dir, jobs=2, mode=mode)
    events = {}
    for stem in inputs:
        beats = bl.read_beats(out_dir / f"{stem}.beats.txt")
        events[stem] = [{"time": b, "emitted": b, "predicted": False} for b in beats]
    return events


def arrays(rows):
    t = np.array([r["time"] for r in rows], dtype=float)
    e = np.array([r["emitted"] for r in rows], dtype=float)
    p = np.array([bool(r.get("predicted", False)) for r in rows], dtype=bool)
    return t, e, p


def music_metrics(rows, ref, lead):
    t, e, p = arrays(rows)
    ref_t = mir_eval.beat.trim_beats(ref)
    est_t = mir_eval.beat.trim_beats(np.sort(t))
    f = mir_eval.beat.f_measure(ref_t, est_t)
    cmlc, cmlt, amlc, amlt = mir_eval.beat.continuity(ref_t, est_t)
    f_emit = mir_eval.beat.f_measure(ref_t, mir_eval.beat.trim_beats(np.sort(e)))
    matches = mir_eval.util.match_events(ref, t, WINDOW)
    errors = [t[j] - ref[i] for i, j in matches]
    first = None
    for i, j in sorted(matches, key=lambda m: e[m[1]]):
        first = e[j] - ref[0]
        break
    leads = (t - e)[p]
    return dict(F=f, CMLt=cmlt, AMLt=amlt, F_emit=f_emit, errors=errors, leads=leads.tolist(),
                ok_lead=int(np.sum(leads >= lead - 1e-6)), n_pred=int(p.sum()), first=first)


def relock(rows, ref, change):
    t, _, _ = arrays(rows)
    t = np.sort(t)
    correct = [np.min(np.abs(ref - b)) <= WINDOW if len(ref) else False for b in t]
    for k, b in enumerate(t):
        if b >= change and k + 4 <= len(t) and all(correct[k:k + 4]):
            return b - change
    return float("nan")


def fmt(x, spec="%.3f"):
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else spec % x


def main():
    args = parse_args()
    configs = [c.split("=", 1) for c in args.config]
    tracks = [t for t in bl.read_manifest(args.data) if args.split == "all" or t.split == args.split]
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        tactus = bl.pin_binary(args.tactus, tmp)
        sigdir = tmp / "signals"
        subprocess.run([args.bench, "signals", str(sigdir)], check=True)
        signals = [l.split("\t") for l in (sigdir / "index.tsv").read_text().splitlines()[1:]]
        signal_refs = {s[0]: np.array(bl.read_beats(sigdir / f"{s[0]}.beats")) for s in signals}
        music_files = [t.audio for t in tracks]
        signal_files = [sigdir / f"{s[0]}.wav" for s in signals]
        results = {}
        for label, cargs in configs:
            print(f"running tactus: {label}", file=sys.stderr)
            ev = run_tactus_jsonl(tactus, music_files + signal_files, tmp / f"t{len(results)}", cargs)
            results[label] = ev
        if not args.no_madmom:
            print("running madmom online", file=sys.stderr)
            inputs = bl.madmom_inputs(tracks, tmp)
            inputs.update({s[0]: sigdir / f"{s[0]}.wav" for s in signals})
            results[MADMOM] = madmom_events(args.madmom_venv, inputs, tmp / "madmom")
            if args.madmom_offline:
                print("running madmom offline", file=sys.stderr)
                results[MADMOM_OFFLINE] = madmom_events(args.madmom_venv, inputs, tmp / "madmom-offline",
                                                        mode="single")

    refs = {t.stem: np.array(bl.read_beats(t.annotation)) for t in tracks}
    lines = [f"## Beat emission, split `{args.split}` ({len(tracks)} files) and generated signals", "",
             f"Tactus commit {bl.git_describe(Path(__file__).resolve().parents[1])}; mir_eval {mir_eval.__version__}. "
             f"Configurations: " + "; ".join(f"{l}: `{a}`" for l, a in configs) + ". madmom: `DBNBeatTracker online`, "
             "beats leave when detected (emission = beat time).", ""]
    header = ["system", "F", "CMLt", "AMLt", "F on emission times", "mean err (ms)", "median err (ms)",
              "p95 abs err (ms)", "predicted beats", f"lead ≥ {args.lead * 1000:.0f} ms", "median lead (ms)",
              "p5 lead (ms)", "median time to first correct beat (s)"]
    rows = []
    per_file = []
    for label, ev in results.items():
        ms = {stem: music_metrics(ev[stem], refs[stem], args.lead) for stem in refs}
        err = np.array(sum((m["errors"] for m in ms.values()), [])) * 1000
        leads = np.array(sum((m["leads"] for m in ms.values()), [])) * 1000
        n_pred = sum(m["n_pred"] for m in ms.values())
        ok = sum(m["ok_lead"] for m in ms.values())
        firsts = [m["first"] for m in ms.values() if m["first"] is not None]
        rows.append([label] + [fmt(np.mean([m[k] for m in ms.values()])) for k in ("F", "CMLt", "AMLt", "F_emit")]
                    + [fmt(err.mean(), "%.1f"), fmt(float(np.median(err)), "%.1f"),
                       fmt(float(np.percentile(np.abs(err), 95)), "%.1f"), str(n_pred),
                       f"{100 * ok / n_pred:.1f} %" if n_pred else "–",
                       fmt(float(np.median(leads)), "%.1f") if len(leads) else "–",
                       fmt(float(np.percentile(leads, 5)), "%.1f") if len(leads) else "–",
                       fmt(float(np.median(firsts)), "%.2f") if firsts else "–"])
        for stem, m in ms.items():
            per_file.append([label, stem, fmt(m["F"]), fmt(m["F_emit"]), fmt(m["first"], "%.2f")])
    lines += ["### Real music", "", bl.markdown_table(header, rows), ""]

    lines += ["### Generated signals", "", signal_table(results, signals, signal_refs), ""]
    lines += ["### Per file", "", bl.markdown_table(["system", "file", "F", "F on emission times",
                                                     "time to first correct beat (s)"], per_file), ""]
    bl.emit_report("\n".join(lines), args.out)


def steady_errors(rows, ref, change):
    """Beat time − generated beat for matched beats from 5 s to the tempo change (s)."""
    t, _, _ = arrays(rows)
    t = np.sort(t[(t >= 5) & (t < change)])
    ref = ref[(ref >= 5) & (ref < change)]
    return [t[j] - ref[i] for i, j in mir_eval.util.match_events(ref, t, WINDOW)]


def pause_beats(rows, ref, resume):
    """Beats between the last reference beat before the pause and the first after it (±70 ms)."""
    t, _, _ = arrays(rows)
    last, first = ref[ref < resume].max(), ref[ref >= resume].min()
    return int(np.sum((t > last + WINDOW) & (t < first - WINDOW)))


def signal_table(results, signals, refs):
    """Re-lock time on tempo changes, false beats per minute in silence and noise, and timing
    error against the exact beats of the steady stretches."""
    header = ["system"]
    for name, kind, change, duration in signals:
        if kind == "pause":
            header.append(f"{name}: re-lock (s) / beats sent into the pause")
        else:
            header.append(f"re-lock {name} (s)" if kind in ("step", "ramp") else f"beats/min, {name}")
    header += ["steady beats matched", "mean / p95 abs err vs exact beats (ms)"]
    rows = []
    for label, ev in results.items():
        row = [label]
        err = []
        for name, kind, change, duration in signals:
            if kind in ("step", "ramp"):
                row.append(fmt(relock(ev[name], refs[name], float(change)), "%.2f"))
                err += steady_errors(ev[name], refs[name], float(change))
            elif kind == "pause":
                row.append(fmt(relock(ev[name], refs[name], float(change)), "%.2f")
                           + f" / {pause_beats(ev[name], refs[name], float(change))}")
            else:
                row.append(fmt(len(ev[name]) * 60 / float(duration), "%.1f"))
        err = np.array(err) * 1000
        row += [str(len(err)), f"{err.mean():+.1f} / {np.percentile(np.abs(err), 95):.1f}" if len(err) else "–"]
        rows.append(row)
    return bl.markdown_table(header, rows)


if __name__ == "__main__":
    main()
