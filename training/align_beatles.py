#!/usr/bin/env python3
"""Aligns the Isophonics beat annotations of shared/data/beatles_mp3/ to each MP3's clock.

The annotations are on the original CD's clock; each MP3 differs by a speed factor and an offset,
mp3_t = a * t + c (shared/data/README.md, section "beatles_mp3"). This script estimates (a, c)
from the MP3 alone and writes training/beatles_alignment/:

  fit.tsv           one row per song: a, c, the confidence metrics, kept yes/no and the reason
  <stem>.beats      for kept songs: the annotation mapped onto the MP3 clock (time in s, beat in
                    bar), beats outside the audio dropped

Method (all deterministic, no randomness):
  1. Onset envelope of the MP3 (16 kHz): log-magnitude spectral flux (512-point Hann window,
     5 ms hop, the previous frame max-filtered over 3 bins), high-passed by a 1 s moving mean and
     z-scored over the song.
  2. Coarse search over a in [0.9975, 1.0135] (1e-4 steps) and every 5 ms lag c in [-1.5, 7.5] s,
     maximising the mean envelope (lightly smoothed) at a*t+c over the annotated beats (one FFT
     cross-correlation per a).
  3. Candidates: the coarse line shifted by m half beats, m = -8..8, each refined by the
     segment fit of step 4. Half-beat phase: the phase class (even or odd m) with the higher onset
     score wins. Whole-beat (bar) shift: among that class's candidates whose onset score is close
     to the best, the one with the largest harmonic change at the annotated downbeats
     (beat-synchronous chroma and bass-chroma novelty at beat-in-bar 1 minus elsewhere).
  4. Segment fit: annotated beats in ~10 s segments (5 s hop); in each, the offset from the line
     (+-60 ms, 0.5 ms steps) maximising the mean envelope at the beats; a Huber line (IRLS)
     through the segment offsets, weighted by peak strength; iterated twice.
  5. Confidence: inlier fraction of segments (|residual| <= 15 ms), residual RMS and max over
     inliers, a quadratic term (non-linearity, ms over the song), peak sharpness, onset score at the
     beats versus half a beat off, and the bar-shift margin. A song is kept when all pass the
     thresholds in KEEP (below); otherwise it is dropped with the reasons.

It reads nothing from shared/data/beatles/ nor validation_wav_to_mp3.tsv: those are only for
training/check_alignment.py, which checks the 7 validation songs.

  training/.venv/bin/python training/align_beatles.py [--shared ../shared] [--out training/beatles_alignment]
           [--only STEM ...] [--jobs N]
"""
import argparse
import hashlib
import os
import sys
import time

import numpy as np
import soundfile as sf
from scipy.ndimage import gaussian_filter1d, maximum_filter1d, uniform_filter1d
from scipy.signal import fftconvolve

SR = 16000
HOP = 80                 # 5 ms
FPS = SR / HOP           # 200 envelope frames per second
NFFT = 512

A_GRID = np.round(np.arange(0.9975, 1.01351, 1e-4), 6)
C_MIN, C_MAX = -1.5, 7.5

SEG_LEN, SEG_HOP = 10.0, 5.0   # s of annotation time
SEG_RANGE = 0.060              # +- s around the current line
SEG_STEP = 0.0005
HUBER = 0.005                  # s
INLIER = 0.015                 # s

# Thresholds for keeping a song (principled, not tuned on the validation songs: they follow the
# README's statement of what an onset fit can do, +-20 ms in c, and the 10 ms residual target).
KEEP = dict(
    min_segments=3,             # at least 3 segment offsets to fit a line through
    min_inlier_frac=0.75,       # 3 in 4 segments within 15 ms of the line
    max_resid_rms_ms=8.0,       # inlier residual RMS (segments' own scatter: median about 5 ms)
    max_curve_ms=15.0,          # quadratic bow over the song: the README's tape drift is 15-35 ms
    min_onset_score=0.5,        # mean z-scored envelope at the beats
    min_phase_margin=0.15,      # onset score at the beats minus at the beats moved half a beat
    min_bar_margin=0.10,        # downbeat harmonic score minus the runner-up shift (mod the bar)
    min_bar_onset_margin=0.05,  # onset score minus the same labels a whole bar off
)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def read_tsv(path):
    with open(path) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]
    head = lines[0]
    return [dict(zip(head, r)) for r in lines[1:]]


def read_beats(path):
    t, b = [], []
    with open(path) as f:
        for line in f:
            p = line.split()
            if p:
                t.append(float(p[0]))
                b.append(int(float(p[1])) if len(p) > 1 else 0)
    return np.array(t), np.array(b)


def load_audio(path):
    x, sr = sf.read(path, dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        raise SystemExit(f"{path}: sample rate {sr}, expected {SR}")
    return x


def stft_mag(x, nfft, hop):
    """Magnitude STFT, frame n centred at n*hop samples (zero padding at both ends)."""
    pad = nfft // 2
    xp = np.concatenate([np.zeros(pad), x, np.zeros(pad + hop)])
    n = 1 + (len(x) + hop - 1) // hop
    idx = np.arange(nfft)[None, :] + hop * np.arange(n)[:, None]
    frames = xp[idx] * np.hanning(nfft + 2)[1:-1][None, :]
    return np.abs(np.fft.rfft(frames, axis=1))


def onset_envelope(x):
    """Log-magnitude spectral flux (superflux-style max filter), 200 frames/s, z-scored.

    The flux of frame n (difference to frame n-1) belongs to the instant between the two frame
    centres, (n - 0.5) * hop; env[k] here is placed at time k / FPS by shifting by half a hop."""
    mag = stft_mag(x, NFFT, HOP)
    lo, hi = int(30 * NFFT / SR), int(7800 * NFFT / SR)
    s = np.log1p(1000.0 * mag[:, lo:hi])
    ref = maximum_filter1d(s, size=3, axis=1)
    flux = np.zeros(len(s))
    flux[1:] = np.maximum(s[1:] - ref[:-1], 0).sum(axis=1)
    # frame n's flux sits at (n - 0.5) hops: resample onto the integer grid k/FPS
    k = np.arange(len(flux))
    flux = np.interp(k, k - 0.5, flux)
    flux = flux - uniform_filter1d(flux, size=int(FPS), mode="nearest")
    sd = flux.std()
    return flux / (sd if sd > 0 else 1.0)


def chroma_features(x):
    """Beat-independent chroma (12) and bass chroma (12) at 20 ms hops, 4096-point frames."""
    nfft, hop = 4096, 320
    mag = stft_mag(x, nfft, hop) ** 2
    f = np.fft.rfftfreq(nfft, 1.0 / SR)
    out = []
    for lo, hi in ((110.0, 2000.0), (40.0, 220.0)):
        sel = np.where((f >= lo) & (f <= hi))[0]
        pc = np.round(12 * np.log2(f[sel] / 440.0)).astype(int) % 12
        m = np.zeros((len(sel), 12))
        m[np.arange(len(sel)), pc] = 1.0
        out.append(np.log1p(100.0 * (mag[:, sel] @ m)))
    return np.concatenate(out, axis=1), SR / hop


class Song:
    def __init__(self, stem, audio_path, ann_path):
        self.stem = stem
        x = load_audio(audio_path)
        self.duration = len(x) / SR
        self.env = onset_envelope(x)
        self.env_s = gaussian_filter1d(self.env, 1.0)          # for the fine fits
        self.env_c = gaussian_filter1d(self.env, 3.0)          # for the coarse search
        self.chroma, self.chroma_fps = chroma_features(x)
        self.t, self.bib = read_beats(ann_path)

    def env_at(self, times, env=None):
        """Envelope at arbitrary times (linear interpolation); outside the audio: 0."""
        env = self.env_s if env is None else env
        p = np.asarray(times) * FPS
        i = np.floor(p).astype(int)
        w = p - i
        ok = (i >= 0) & (i + 1 < len(env))
        v = np.zeros(p.shape)
        v[ok] = env[i[ok]] * (1 - w[ok]) + env[i[ok] + 1] * w[ok]
        return v

    def onset_score(self, a, c):
        return float(self.env_at(a * self.t + c).mean())

    # -- step 2: coarse search ---------------------------------------------------------------
    def coarse_map(self):
        """Score map M[i, j]: mean smoothed envelope at A_GRID[i] * t + lag j (C_MIN + j / FPS)."""
        env = self.env_c
        n = len(env)
        lag_lo, lag_hi = int(round(C_MIN * FPS)), int(round(C_MAX * FPS))
        padl = -lag_lo
        hmax = int(A_GRID[-1] * self.t[-1] * FPS) + 2
        envp = np.concatenate([np.zeros(padl), env, np.zeros(max(0, hmax - n) + lag_hi + 10)])
        M = np.zeros((len(A_GRID), lag_hi - lag_lo + 1))
        for k, a in enumerate(A_GRID):
            p = a * self.t * FPS
            i = np.floor(p).astype(int)
            w = p - i
            h = np.zeros(i.max() + 2)
            np.add.at(h, i, 1 - w)
            np.add.at(h, i + 1, w)
            # r[j] = sum_k h[k] * envp[j + k] = score at lag j + lag_lo
            r = fftconvolve(envp, h[::-1], mode="valid")
            M[k] = r[: lag_hi - lag_lo + 1] / len(self.t)
        return M

    # -- step 4: segment fit -------------------------------------------------------------------
    def segments(self):
        t = self.t
        starts = np.arange(t[0], max(t[0] + 1e-9, t[-1] - SEG_LEN / 2), SEG_HOP)
        segs = []
        for s0 in starts:
            idx = np.where((t >= s0) & (t < s0 + SEG_LEN))[0]
            if len(idx) >= 6:
                segs.append(idx)
        if not segs:
            segs = [np.arange(len(t))]
        return segs

    def segment_offsets(self, a, c):
        d = np.arange(-SEG_RANGE, SEG_RANGE + 1e-9, SEG_STEP)
        rows = []
        for idx in self.segments():
            tt = self.t[idx]
            base = a * tt + c
            if base[-1] < 0 or base[0] > self.duration:
                continue
            curve = self.env_at(base[None, :] + d[:, None]).mean(axis=1)
            j = int(np.argmax(curve))
            off = d[j]
            if 0 < j < len(d) - 1:     # parabolic interpolation of the peak
                y0, y1, y2 = curve[j - 1], curve[j], curve[j + 1]
                den = y0 - 2 * y1 + y2
                if den < 0:
                    off += 0.5 * (y0 - y2) / den * SEG_STEP
            edge = j == 0 or j == len(d) - 1
            sharp = float((curve[j] - np.median(curve)) / (curve.std() + 1e-9))
            rows.append((float(tt.mean()), float(off), float(curve[j]), sharp, edge))
        return rows

    def refine(self, a, c, iters=3):
        """Segment offsets around the line, a Huber line through them; iterated. Keeps the segment
        residuals of the final line in self.seg for the album step."""
        self.seg = None
        for _ in range(iters):
            rows = self.segment_offsets(a, c)
            if len(rows) < 2:
                break
            tm = np.array([r[0] for r in rows])
            off = np.array([r[1] for r in rows])
            wpk = np.clip(np.array([r[2] for r in rows]), 0.05, None)
            edge = np.array([r[4] for r in rows])
            wpk[edge] *= 0.05
            slope, icpt, t0 = huber_line(tm, off, wpk)
            # new line: a*t + c + slope*(t - t0) + icpt
            a, c = a + slope, c + icpt - slope * t0
            resid = off - (slope * (tm - t0) + icpt)
            self.seg = dict(tm=tm, r=resid, w=wpk, edge=edge, sharp=np.array([x[3] for x in rows]))
        return a, c, line_stats(self.seg)

    # -- step 3: harmonic change at the downbeats -------------------------------------------------
    def downbeat_score(self, a, c):
        b = a * self.t + c
        fr = np.round(b * self.chroma_fps).astype(int)
        n = len(self.chroma)
        ok = np.where((fr[:-1] >= 0) & (fr[1:] <= n) & (fr[1:] > fr[:-1]))[0]
        if len(ok) < 8:
            return 0.0
        # beat-synchronous chroma of the interval starting at beat i
        cs = np.vstack([np.zeros(self.chroma.shape[1]), np.cumsum(self.chroma, axis=0)])
        seg = np.full((len(b), self.chroma.shape[1]), np.nan)
        seg[ok] = (cs[fr[ok + 1]] - cs[fr[ok]]) / (fr[ok + 1] - fr[ok])[:, None]
        nov = np.zeros(len(b))
        cnt = np.zeros(len(b))
        for wdt in (1, 2, 4):
            for i in range(wdt, len(b) - wdt):
                pre, post = seg[i - wdt:i], seg[i:i + wdt]
                if np.isnan(pre).any() or np.isnan(post).any():
                    continue
                val = 0.0
                for part in (slice(0, 12), slice(12, 24)):
                    u, v = pre[:, part].mean(0), post[:, part].mean(0)
                    u = u - u.mean()
                    v = v - v.mean()
                    den = np.linalg.norm(u) * np.linalg.norm(v)
                    val += (1 - float(u @ v) / den) if den > 0 else 0.0
                nov[i] += val / 2
                cnt[i] += 1
        have = cnt > 0
        if have.sum() < 8:
            return 0.0
        nov = nov[have] / cnt[have]
        lab = self.bib[have]
        down, other = nov[lab == 1], nov[lab != 1]
        if len(down) < 2 or len(other) < 2:
            return 0.0
        return float((down.mean() - other.mean()) / (nov.std() + 1e-9))

    # -- the whole fit -------------------------------------------------------------------------------
    def fit(self):
        M = self.coarse_map()
        i0, j0 = np.unravel_index(int(np.argmax(M)), M.shape)
        a0, c0, score0 = float(A_GRID[i0]), C_MIN + j0 / FPS, float(M[i0, j0])
        period = float(np.median(np.diff(self.t))) * a0
        # candidates: the best of the coarse map near a0 (+-5e-4) and near c0 + m half beats (+-P/4)
        da = int(round(5e-4 / 1e-4))
        half_w = max(1, int(period / 4 * FPS))
        cands = []
        for m in range(-8, 9):
            jc = j0 + int(round(m * period / 2 * FPS))
            lo, hi = max(0, jc - half_w), min(M.shape[1], jc + half_w + 1)
            ilo, ihi = max(0, i0 - da), min(M.shape[0], i0 + da + 1)
            if hi <= lo:
                continue
            sub = M[ilo:ihi, lo:hi]
            ii, jj = np.unravel_index(int(np.argmax(sub)), sub.shape)
            cands.append(dict(m=m, a=float(A_GRID[ilo + ii]), c=C_MIN + (lo + jj) / FPS, onset_c=float(sub[ii, jj])))
        # half-beat phase: the coarse maximum's (m = 0) beats against the best candidate half a beat off
        odd = [d for d in cands if d["m"] % 2]
        coarse_phase_margin = score0 - max(d["onset_c"] for d in odd)
        # whole-beat shift: the candidates of the coarse maximum's phase that score nearly as well on
        # onsets (a wrong shift on a steady song scores about the same): harmonic change at the annotated
        # downbeats picks the shift modulo the bar length; a whole-bar shift (same labels) is decided by
        # the onset score.
        even = [d for d in cands if d["m"] % 2 == 0]
        close = [d for d in even if d["onset_c"] >= score0 - 0.25 * abs(score0)]
        bars = np.diff(np.append(np.where(self.bib == 1)[0], len(self.bib)))
        blen = int(np.bincount(bars[bars > 0]).argmax()) if len(bars) else 4
        groups = {}
        for d in close:
            d["down"] = self.downbeat_score(d["a"], d["c"])
            groups.setdefault((d["m"] // 2) % blen, []).append(d)
        gscore = {g: max(d["down"] for d in v) for g, v in groups.items()}
        order = sorted(gscore, key=lambda g: -gscore[g])
        bar_margin = gscore[order[0]] - gscore[order[1]] if len(order) > 1 else 9.0
        members = sorted(groups[order[0]], key=lambda d: -d["onset_c"])
        pick = members[0]
        bar_onset_margin = members[0]["onset_c"] - members[1]["onset_c"] if len(members) > 1 else 9.0
        a, c, info = self.refine(pick["a"], pick["c"])
        half = self.onset_score(a, c + period / 2)
        half2 = self.onset_score(a, c - period / 2)
        return dict(
            coarse_a=a0, coarse_c=c0, coarse_score=score0, a=a, c=c, shift_beats=pick["m"] / 2.0,
            onset_score=self.onset_score(a, c), half_beat_score=max(half, half2),
            phase_margin=self.onset_score(a, c) - max(half, half2), coarse_phase_margin=coarse_phase_margin,
            bar_len=blen, n_bar_cands=len(close), down_score=pick["down"], bar_margin=bar_margin,
            bar_onset_margin=bar_onset_margin, **info)


def huber_line(tm, off, wpk, slope=None):
    """Huber (IRLS) line off ~ slope * (tm - t0) + icpt, t0 the weighted mean time; with slope
    given, only the intercept is fitted."""
    t0 = float(np.average(tm, weights=wpk))
    x = tm - t0
    w = wpk.copy()
    for _k in range(30):
        if slope is None:
            X = np.stack([x, np.ones_like(x)], axis=1)
            W = np.sqrt(w)[:, None]
            sl, ic = np.linalg.lstsq(X * W, off * W[:, 0], rcond=None)[0]
        else:
            sl, ic = slope, float(np.average(off - slope * x, weights=w))
        r = off - (sl * x + ic)
        w = wpk * np.where(np.abs(r) <= HUBER, 1.0, HUBER / np.maximum(np.abs(r), 1e-12))
    return float(sl), float(ic), t0


def line_stats(seg):
    """Confidence metrics of a line from its segment residuals."""
    if seg is None:
        return dict(n_seg=0, inlier_frac=0.0, resid_rms_ms=99.0, resid_max_ms=99.0, curve_ms=99.0,
                    sharp=0.0, a_se=1.0)
    tm, r, w, edge = seg["tm"], seg["r"], seg["w"], seg["edge"]
    inl = (np.abs(r) <= INLIER) & ~edge
    curve_ms = 0.0
    if inl.sum() >= 4:
        # non-linearity: a quadratic through the inliers; its departure from its chord at the middle
        u = (tm[inl] - tm[inl].min()) / max(np.ptp(tm[inl]), 1e-9)
        q = np.polyfit(u, r[inl], 2, w=np.sqrt(w[inl]))
        curve_ms = abs(q[0]) / 4 * 1000.0
    rms = float(np.sqrt(np.average(r[inl] ** 2, weights=w[inl]))) if inl.any() else 0.099
    # slope standard error: segments overlap by half (about n/2 independent ones); the residual
    # scale is floored at 3 ms (the annotations' own drift against the onsets, README)
    n_eff = max(1.0, inl.sum() / 2.0)
    if inl.sum() >= 2:
        tt = tm[inl]
        var_t = float(np.average((tt - np.average(tt, weights=w[inl])) ** 2, weights=w[inl]))
        a_se = max(rms, 0.003) / np.sqrt(max(var_t, 1e-6) * n_eff)
    else:
        a_se = 1.0
    return dict(
        n_seg=len(tm), inlier_frac=float(inl.mean()), resid_rms_ms=rms * 1000,
        resid_max_ms=float(np.abs(r[inl]).max() * 1000) if inl.any() else 99.0,
        curve_ms=float(curve_ms), sharp=float(np.median(seg["sharp"])), a_se=float(a_se))


def album_of(stem):
    return stem.split("_", 1)[0]


def album_step(res):
    """Shrinks each song's slope toward its album's: a normal prior with the median of the album's
    other songs as centre and their spread (1.4826 MAD, at least 1e-4) as sd, against the song's
    slope standard error; then refits c with the slope fixed. All songs of the album count: poor
    fits can only widen the spread, which weakens the prior (the safe side). Albums whose songs
    differ in speed (Let It Be) thus get almost no pull, steady ones (Abbey Road) a strong one."""
    by_album = {}
    for r in res:
        if r["seg"] is not None:
            by_album.setdefault(album_of(r["stem"]), []).append(r)
    for r in res:
        r["a_song"], r["c_song"] = r["a"], r["c"]
        r["final_inlier_frac"], r["final_resid_rms_ms"] = r["inlier_frac"], r["resid_rms_ms"]
    for r in res:
        others = [o["a_song"] for o in by_album.get(album_of(r["stem"]), []) if o is not r]
        r["album_a"], r["album_sd"] = float("nan"), float("nan")
        if len(others) < 5 or r["seg"] is None:      # a median and MAD of fewer say little
            continue
        center = float(np.median(others))
        tau = max(1.4826 * float(np.median(np.abs(np.array(others) - center))), 1e-4)
        se = r["a_se"]
        a_post = (r["a"] / se ** 2 + center / tau ** 2) / (1 / se ** 2 + 1 / tau ** 2)
        seg = r["seg"]
        # residuals against the new slope, then the intercept alone
        off = seg["r"] - (a_post - r["a"]) * seg["tm"]
        _, ic, t0 = huber_line(seg["tm"], off, seg["w"], slope=0.0)
        r["a"], r["c"] = a_post, r["c"] + ic
        r["album_a"], r["album_sd"] = center, tau
        # the decision keeps the song's own line statistics (scatter and bow are properties of the
        # song's segment offsets); the final line's inlier share is recorded beside them
        st = line_stats(dict(seg, r=off - ic))
        r["final_inlier_frac"], r["final_resid_rms_ms"] = st["inlier_frac"], st["resid_rms_ms"]


def decide(r):
    reasons = []
    k = KEEP
    if r["n_seg"] < k["min_segments"]:
        reasons.append(f"only {r['n_seg']} segments")
    if r["inlier_frac"] < k["min_inlier_frac"]:
        reasons.append(f"inlier fraction {r['inlier_frac']:.2f} < {k['min_inlier_frac']}")
    if r["resid_rms_ms"] > k["max_resid_rms_ms"]:
        reasons.append(f"residual RMS {r['resid_rms_ms']:.1f} ms > {k['max_resid_rms_ms']}")
    if r["curve_ms"] > k["max_curve_ms"]:
        reasons.append(f"not linear: bow {r['curve_ms']:.1f} ms > {k['max_curve_ms']}")
    if r["onset_score"] < k["min_onset_score"]:
        reasons.append(f"onset score {r['onset_score']:.2f} < {k['min_onset_score']}")
    if r["phase_margin"] < k["min_phase_margin"]:
        reasons.append(f"half-beat margin {r['phase_margin']:.2f} < {k['min_phase_margin']}")
    if r["bar_onset_margin"] < k["min_bar_onset_margin"]:
        reasons.append(f"whole-bar onset margin {r['bar_onset_margin']:.3f} < {k['min_bar_onset_margin']}")
    if r["bar_margin"] < k["min_bar_margin"]:
        reasons.append(f"bar-shift margin {r['bar_margin']:.3f} < {k['min_bar_margin']}")
    return (not reasons), "; ".join(reasons) if reasons else "ok"


COLS = ["stem", "a", "c", "kept", "reason", "a_song", "a_se", "c_song", "album_a", "album_sd", "onset_score",
        "half_beat_score", "phase_margin", "coarse_phase_margin",
        "bar_len", "down_score", "bar_margin", "bar_onset_margin", "n_bar_cands", "shift_beats", "n_seg", "inlier_frac",
        "resid_rms_ms", "final_inlier_frac", "final_resid_rms_ms",
        "resid_max_ms", "curve_ms", "sharp", "coarse_a", "coarse_c", "coarse_score", "n_beats", "n_beats_out",
        "duration_s"]


def fmt(v):
    if isinstance(v, float):
        return f"{v:.6f}" if abs(v) < 10 else f"{v:.3f}"
    return str(v)


def process(args):
    """Steps 1-4 for one song (the album step and the decision need all songs)."""
    stem, data = args
    t0 = time.time()
    s = Song(stem, os.path.join(data, "audio", stem + ".mp3"), os.path.join(data, "annotations", stem + ".beats"))
    r = s.fit()
    r.update(stem=stem, duration_s=round(s.duration, 3), seg=s.seg, t=s.t, bib=s.bib, secs=time.time() - t0)
    return r


def finish(r, out):
    kept, reason = decide(r)
    r["kept"] = "yes" if kept else "no"
    r["reason"] = reason
    tt = r["a"] * r["t"] + r["c"]
    inside = (tt >= 0) & (tt < r["duration_s"])
    r["n_beats"] = int(inside.sum())
    r["n_beats_out"] = int((~inside).sum())
    path = os.path.join(out, r["stem"] + ".beats")
    if kept:
        with open(path, "w") as f:
            for x, b in zip(tt[inside], r["bib"][inside]):
                f.write(f"{x:.4f}\t{b}\n")
    elif os.path.exists(path):
        os.remove(path)
    log(f"{r['stem']}: a={r['a']:.6f} (song {r['a_song']:.6f}+-{r['a_se']:.6f}, album {r['album_a']:.6f}) "
        f"c={r['c']:.4f} shift={r['shift_beats']:+.1f} onset={r['onset_score']:.2f} phase={r['phase_margin']:.2f} "
        f"bar={r['bar_margin']:.3f}/{r['bar_onset_margin']:.3f} rms={r['resid_rms_ms']:.1f} "
        f"inl={r['inlier_frac']:.2f} bow={r['curve_ms']:.1f} -> {r['kept']} ({reason}) [{r['secs']:.1f}s]")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.environ.get("TACTUS_SHARED", os.path.join(here, "..", "..", "shared")))
    ap.add_argument("--out", default=os.path.join(here, "beatles_alignment"))
    ap.add_argument("--only", nargs="*", help="these stems only (for trials: use another --out; the album "
                                              "step then sees only these songs)")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    data = os.path.join(args.shared, "data", "beatles_mp3")
    rows = read_tsv(os.path.join(data, "manifest.tsv"))
    stems = [r["stem"] for r in rows]
    if args.only:
        stems = [s for s in stems if s in set(args.only)]
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    jobs = [(s, data) for s in stems]
    if args.jobs > 1:
        from multiprocessing import Pool
        with Pool(args.jobs) as p:
            res = p.map(process, jobs, chunksize=1)
    else:
        res = [process(j) for j in jobs]
    album_step(res)
    for r in res:
        finish(r, args.out)
    with open(os.path.join(args.out, "fit.tsv"), "w") as f:
        f.write("\t".join(COLS) + "\n")
        for r in sorted(res, key=lambda r: r["stem"]):
            f.write("\t".join(fmt(r[c]) for c in COLS) + "\n")
    kept = sum(r["kept"] == "yes" for r in res)
    log(f"{len(res)} songs, {kept} kept, {len(res) - kept} dropped, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
