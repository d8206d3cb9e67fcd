#!/usr/bin/env python3
"""Checks the committed Beatles MP3 alignment (training/beatles_alignment/) on the 7 validation
songs (in_beatles_wav = yes in shared/data/beatles_mp3/manifest.tsv), against the exact
audio-to-audio mapping of shared/data/beatles_mp3/validation_wav_to_mp3.tsv applied to the
beatles/ WAV annotations. Python standard library only.

Checks (9 in all; exit status 1 if any fails):
  - per song (7): its aligned beats are in training/beatles_alignment/ (the song was kept) and every
    exactly mapped beat inside the MP3 has an aligned beat within a quarter of the local beat period
    with the same beat-in-bar label (no whole- or half-beat error, right bar);
  - after removing each song's constant offset (mean error), every beat within 10 ms: on at least 6 of 7;
  - the constant offset within 25 ms: on at least 6 of 7.

  python3 training/check_alignment.py        # TACTUS_SHARED overrides ../shared (the folder holding data/)

Without the shared data it prints a "skipped: ... not found" line and exits 0.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ALIGN = os.path.join(HERE, "beatles_alignment")
MAX_RESID = 0.010
MAX_OFFSET = 0.025
NEED = 6


def read_tsv(path):
    with open(path) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]
    return [dict(zip(lines[0], r)) for r in lines[1:]]


def read_beats(path):
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if p:
                out.append((float(p[0]), int(float(p[1])) if len(p) > 1 else 0))
    return out


def main():
    shared = os.environ.get("TACTUS_SHARED", os.path.join(HERE, "..", "..", "shared"))
    data = os.path.join(shared, "data")
    exact_path = os.path.join(data, "beatles_mp3", "validation_wav_to_mp3.tsv")
    if not os.path.isfile(exact_path) or not os.path.isdir(os.path.join(data, "beatles", "annotations")):
        print(f"check_alignment: skipped: {exact_path} or {data}/beatles/annotations not found")
        return 0
    manifest = {r["stem"]: r for r in read_tsv(os.path.join(data, "beatles_mp3", "manifest.tsv"))}
    exact = {r["stem"]: (float(r["a"]), float(r["c"])) for r in read_tsv(exact_path)}
    fits = {r["stem"]: r for r in read_tsv(os.path.join(ALIGN, "fit.tsv"))}
    stems = sorted(s for s, r in manifest.items() if r["in_beatles_wav"] == "yes")

    passed = failed = 0
    resid_ok = offset_ok = 0
    for stem in stems:
        a, c = exact[stem]
        dur = float(manifest[stem]["duration_s"])
        ref = [(a * t + c, b) for t, b in read_beats(os.path.join(data, "beatles", "annotations", stem + ".beats"))]
        ref = [(t, b) for t, b in ref if 0 <= t < dur]
        fit = fits.get(stem)
        path = os.path.join(ALIGN, stem + ".beats")
        if fit is None or fit["kept"] != "yes" or not os.path.isfile(path):
            why = fit["reason"] if fit else "not in fit.tsv"
            print(f"FAIL {stem}: not aligned ({why})")
            failed += 1
            continue
        est = read_beats(path)
        errs, wrong = [], 0
        j = 0
        for i, (t, b) in enumerate(ref):
            while j + 1 < len(est) and abs(est[j + 1][0] - t) <= abs(est[j][0] - t):
                j += 1
            nb = [ref[k][0] for k in (i - 1, i + 1) if 0 <= k < len(ref)]
            period = min(abs(t - x) for x in nb) if nb else 0.5
            e = est[j][0] - t if est else 1e9
            if abs(e) >= 0.25 * period or est[j][1] != b:
                wrong += 1
            errs.append(e)
        mean = sum(errs) / len(errs)
        resid = max(abs(e - mean) for e in errs)
        beat_ok = wrong == 0 and len(ref) > 0
        r_ok, o_ok = resid <= MAX_RESID, abs(mean) <= MAX_OFFSET
        resid_ok += r_ok
        offset_ok += o_ok
        passed += beat_ok
        failed += not beat_ok
        print(f"{'ok  ' if beat_ok else 'FAIL'} {stem}: a {float(fit['a']):.6f} (exact {a:.6f}) "
              f"c {float(fit['c']):.4f} (exact {c:.4f}); {len(ref)} beats, {wrong} on a wrong beat or bar; "
              f"offset {mean * 1000:+.1f} ms{'' if o_ok else ' (> 25)'}, "
              f"max residual {resid * 1000:.1f} ms{'' if r_ok else ' (> 10)'}")
    for name, n in (("beats within 10 ms after the offset", resid_ok), ("offset within 25 ms", offset_ok)):
        ok = n >= NEED
        passed += ok
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {n} of {len(stems)} songs (need {NEED})")
    print(f"alignment: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
