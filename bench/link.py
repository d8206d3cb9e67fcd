#!/usr/bin/env python3
"""Link phase error on real music (issue 22): tactus-link steering a Link session from the daemon's
beats on 5 files, measured by an independent Link peer (aalink) in a network namespace
(tools/link-test.py --files). The files: the first 5 of the manifest's valid split, in manifest
order (a rule, not a choice); each paced in real time for its first --seconds. Per file: the
session's beat phase at each predicted beat's host time, from 4 s after the first predicted beat,
as ms from the nearest integer beat; and the session tempo against the beats' own tempo.

    .venv-test/bin/python bench/link.py --tactus .build/release/tactus \\
        --tactus-link .build/release/tactus-link --out bench/results/link.md
"""
import argparse, datetime, json, os, statistics, subprocess, sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True)
    p.add_argument("--tactus-link", required=True)
    p.add_argument("--data", type=Path, default=bl.DEFAULT_DATA)
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--out")
    a = p.parse_args()
    tracks = [t for t in bl.read_manifest(a.data) if t.split == "valid"][:5]
    test = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "link-test.py")
    run = subprocess.run([sys.executable, "-W", "ignore", test, a.tactus, a.tactus_link, "--seconds", str(a.seconds),
                          "--files"] + [str(t.audio) for t in tracks], capture_output=True, text=True)
    line = next((l for l in run.stdout.splitlines() if l.startswith("[")), None)
    if run.returncode != 0 or line is None:
        sys.exit("bench/link.py: the measurement failed (%d): %s %s"
                 % (run.returncode, run.stdout[-800:], run.stderr[-800:]))
    results = json.loads(line)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    load = open("/proc/loadavg").read().split()[:2]
    out = ["## Link phase error on real music (issue 22)", "",
           "Command: `bench/link.py --tactus %s --tactus-link %s --seconds %.0f%s`; commit %s; %s; "
           "load average %s / %s. "
           "Network namespace with loopback only; the daemon (default config, paced file, first %.0f s), "
           "`tactus-link` (defaults) and an aalink 0.2.3 peer on one machine. Phase error: the session's beat at "
           "each predicted beat's `host_time`, from 4 s after the first predicted beat, as ms from the nearest "
           "integer beat (+: the session is ahead)."
           % (a.tactus, a.tactus_link, a.seconds, " --out " + a.out if a.out else "", commit,
              datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), load[0], load[1], a.seconds), "",
           "| file | beats | measured | \\|phase error\\| median / p95 / max (ms) | signed median (ms) "
           "| \\|session − beats' tempo\\| median / max (BPM) |",
           "|:---|---:|---:|---:|---:|---:|"]
    every = []
    for r in results:
        e = r["errors_ms"]
        every += e
        absd = [abs(x) for x in e]
        td = r["tempo_diff"]
        out.append("| %s | %d | %d | %.1f / %.1f / %.1f | %+.1f | %s |" % (
            r["file"], r["beats"], len(e), statistics.median(absd) if e else float("nan"), pct(absd, 95),
            max(absd, default=float("nan")), statistics.median(e) if e else float("nan"),
            "%.2f / %.2f" % (statistics.median(td), max(td)) if td else "—"))
    absd = [abs(x) for x in every]
    out.append("| **all** | | %d | **%.1f / %.1f / %.1f** | %+.1f | |" % (
        len(every), statistics.median(absd), pct(absd, 95), max(absd), statistics.median(every)))
    bl.emit_report("\n".join(out) + "\n", Path(a.out) if a.out else None)


if __name__ == "__main__":
    main()
