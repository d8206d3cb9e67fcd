#!/usr/bin/env python3
"""Writes training/splits_v2.tsv: the declared train/valid/test split of shared/data/beatles_mp3/ and
shared/data/stepmania/ for beat model v2, from a fixed rule (no scores). Standard library only.

Rule:
  - group key: the stem, except the two StepMania "top-of-the-world" songs (a song and its remix),
    which share the key "thumbsy_top-of-the-world" so that they land in one split;
  - h = int(sha1("<dataset>:<group key>").hexdigest(), 16) mod 20: 0-3 test, 4-6 valid, 7-19 train;
  - beatles_mp3: the 7 songs that are also in shared/data/beatles/ (v1 trained on them) take their
    split in the top-level shared/data/manifest.tsv (train or valid), never test;
  - excluded: the 5 StepMania grids the README calls suspect (possibly half a beat off), and the
    Beatles songs that training/align_beatles.py dropped (training/beatles_alignment/fit.tsv,
    kept = no), with its reason.

  python3 training/make_splits_v2.py            # rewrites training/splits_v2.tsv, prints the counts
  python3 training/make_splits_v2.py --check    # exit 1 if the committed file differs from the rule

TACTUS_SHARED overrides ../shared (the folder holding data/).
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "splits_v2.tsv")
SUSPECT = {
    "hodobox_numb": "suspect grid (README): madmom and v1 both half a beat off",
    "thumbsy_retro-mermaid-kasane-teto": "suspect grid (README): madmom and v1 both half a beat off",
    "hodobox_caramelldansen": "suspect grid (README): madmom and v1 both half a beat off",
    "thumbsy_crayon-hatsune-miku": "suspect grid (README): madmom and v1 both half a beat off",
    "thumbsy_lavolz": "suspect grid (README): v1 half a beat off, madmom split",
}
GROUPS = {"thumbsy_top-of-the-world-nanobii-remix": "thumbsy_top-of-the-world"}


def read_tsv(path):
    with open(path) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]
    return [dict(zip(lines[0], r)) for r in lines[1:]]


def hash_split(dataset, key):
    h = int(hashlib.sha1(f"{dataset}:{key}".encode()).hexdigest(), 16) % 20
    return ("test" if h < 4 else "valid" if h < 7 else "train"), h


def build(data):
    rows = []
    old = {r["stem"]: r["split"] for r in read_tsv(os.path.join(data, "manifest.tsv")) if r["dataset"] == "beatles"}
    fit = {r["stem"]: r for r in read_tsv(os.path.join(HERE, "beatles_alignment", "fit.tsv"))}
    for r in read_tsv(os.path.join(data, "beatles_mp3", "manifest.tsv")):
        stem, dur = r["stem"], float(r["duration_s"])
        split, h = hash_split("beatles_mp3", stem)
        reason = f"sha1 mod 20 = {h}"
        if stem in old:
            split, reason = old[stem], f"in beatles/ (v1 trained on it): its split in manifest.tsv"
        f = fit.get(stem)
        if f is None or f["kept"] != "yes":
            split, reason = "excluded", "alignment dropped: " + (f["reason"] if f else "not in fit.tsv")
        rows.append(("beatles_mp3", stem, split, reason, dur))
    for r in read_tsv(os.path.join(data, "stepmania", "manifest.tsv")):
        stem, dur = r["slug"], float(r["duration_s"])
        key = GROUPS.get(stem, stem)
        split, h = hash_split("stepmania", key)
        reason = f"sha1 mod 20 = {h}" + (f" (group {key})" if key != stem or stem in GROUPS.values() else "")
        if stem in SUSPECT:
            split, reason = "excluded", SUSPECT[stem]
        rows.append(("stepmania", stem, split, reason, dur))
    return rows


def render(rows):
    lines = [l for l in __doc__.strip().splitlines()]
    out = ["# splits_v2.tsv: written by training/make_splits_v2.py (do not edit by hand; rerun it)."]
    out += ["# " + l if l else "#" for l in lines[:13]]
    out.append("dataset\tstem\tsplit\treason")
    out += [f"{d}\t{s}\t{sp}\t{r}" for d, s, sp, r, _ in rows]
    return "\n".join(out) + "\n"


def summary(rows):
    lines = []
    for ds in ("beatles_mp3", "stepmania"):
        sub = [r for r in rows if r[0] == ds]
        parts = []
        for sp in ("train", "valid", "test", "excluded"):
            x = [r for r in sub if r[2] == sp]
            parts.append(f"{sp} {len(x)} ({sum(r[4] for r in x) / 60:.1f} min)")
        used = [r for r in sub if r[2] != "excluded"]
        test = [r for r in used if r[2] == "test"]
        lines.append(f"{ds}: " + ", ".join(parts) + f"; test {100 * len(test) / len(used):.1f}% of the used songs")
    return lines


def main():
    shared = os.environ.get("TACTUS_SHARED", os.path.join(HERE, "..", "..", "shared"))
    data = os.path.join(shared, "data")
    rows = build(data)
    text = render(rows)
    for l in summary(rows):
        print(l)
    if "--check" in sys.argv[1:]:
        with open(OUT) as f:
            same = f.read() == text
        print("splits_v2.tsv " + ("matches the rule" if same else "DIFFERS from the rule"))
        return 0 if same else 1
    with open(OUT, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
