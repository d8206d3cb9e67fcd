#!/usr/bin/env python3
"""Daemon CPU with the web page (issue 21): `tactus run` on a paced 140 BPM groove in four settings,
interleaved, in the same run: web off (`web.listen = ""`), web on with no page open, web on with one
page open in headless Chromium (Selenium) at the default update rate and at 10 Hz. The daemon's
threads' CPU time in the steady state comes from /proc (schedstat), the whole run's from its
`--stats` file; the browser's CPU is its own process and not counted. Prints Markdown tables;
--out writes them too.

    .venv-test/bin/python bench/web.py --tactus .build/release/tactus --out bench/results/web.md
"""
import argparse, datetime, hashlib, json, os, subprocess, sys, tempfile, time

import importlib.util
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
spec = importlib.util.spec_from_file_location(
    "webtest", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "web-test.py"))
webtest = importlib.util.module_from_spec(spec); spec.loader.exec_module(webtest)


def cpu_by_thread(pid):
    """CPU time (s) of each thread of `pid` by name, from /proc/PID/task/TID/schedstat (ns)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            name = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            ns = int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        out[(tid, name)] = ns / 1e9
    return out


def run(tactus, wav, seconds, web, page, tmp, rate=None, settle=10.0):
    stats = os.path.join(tmp, "stats-%s-%s.json" % (web, page))
    err = open(os.path.join(tmp, "err-%s-%s.txt" % (web, page)), "w+")
    cmd = [tactus, "run", "--set", "capture.source=file", "--set", "capture.file=" + wav, "--set", "capture.loop=true",
           "--set", "capture.realtime_priority=0", "--set", "output.stdout=false", "--set", "control.listen=",
           "--set", "web.listen=" + ("127.0.0.1:0" if web else ""), "--duration", str(seconds), "--stats", stats]
    if rate:
        cmd += ["--set", "web.update_rate=%g" % rate]
    daemon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    browser = None
    if page:
        browser = webtest.open_browser("http://127.0.0.1:%d/" % webtest.daemon_port(err))
    # Steady state: from `settle` s after the start to 2 s before the end, every thread's CPU time.
    time.sleep(settle)
    a, t0 = cpu_by_thread(daemon.pid), time.monotonic()
    time.sleep(max(1.0, seconds - settle - 2))
    z, t1 = cpu_by_thread(daemon.pid), time.monotonic()
    daemon.wait(timeout=seconds + 60)
    if browser:
        beats = browser.execute_script("return window.tactusBeats")
        browser.quit()
    else:
        beats = None
    s = json.load(open(stats))
    threads = {}
    for key, v in z.items():
        group = "web (NIO)" if key[1].startswith("NIO-") else key[1]
        threads[group] = threads.get(group, 0) + (v - a.get(key, 0)) / (t1 - t0)
    s["steady_share"] = sum(threads.values())
    s["threads"] = threads
    return s, beats


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--repeat", type=int, default=3, help="rounds of the settings, interleaved")
    p.add_argument("--out")
    a = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="tactus-bench-web-")
    wav = os.path.join(tmp, "groove.wav")
    webtest.groove(wav, seconds=40)
    settings = (("web off (`web.listen = \"\"`)", False, False, None), ("web on, no page open", True, False, None),
                ("web on, one page open (update_rate 20, the default)", True, True, None),
                ("web on, one page open, `web.update_rate = 10`", True, True, 10))
    results = {label: [] for label, _, _, _ in settings}
    for _ in range(a.repeat):
        for label, web, page, rate in settings:
            results[label].append(run(a.tactus, wav, a.seconds, web, page, tmp, rate))
    def median(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "Sources"],
                           capture_output=True, text=True).stdout.strip()
    digest = hashlib.sha256(open(a.tactus, "rb").read()).hexdigest()[:12]
    load = open("/proc/loadavg").read().split()[:2]
    lines = ["## Daemon CPU with the web page (issue 21)", "",
             "Command: `bench/web.py --tactus %s --seconds %.0f --repeat %d%s`. "
             "Tactus commit %s%s, binary sha256 %s; %s; "
             "load average at start %s (1 min), %s (5 min). Each run: `tactus run` on a paced 140 BPM groove (looped) "
             "for %.0f s; %d rounds of the settings, interleaved; medians over the rounds."
             % (a.tactus, a.seconds, a.repeat, " --out " + a.out if a.out else "", commit, "+dirty" if dirty else "",
                digest, datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), load[0], load[1], a.seconds,
                a.repeat), "",
             "**Steady state** (the daemon's threads' CPU time from `/proc/PID/task/*/schedstat`, from 10 s after "
             "the start to 2 s before the end: what an install pays by the hour):", "",
             "| setting | CPU share of one core | extra over web off | processing | capture | output | web (NIO) "
             "| rounds |",
             "|:---|---:|---:|---:|---:|---:|---:|:---|"]
    base = median([s["steady_share"] for s, _ in results[settings[0][0]]])
    for label, _, _, _ in settings:
        runs = results[label]
        shares = [s["steady_share"] for s, _ in runs]
        def thread(name):
            return 100 * median([s["threads"].get(name, 0) for s, _ in runs])
        lines.append("| %s | %.2f %% | %+.2f %% | %.2f %% | %.2f %% | %.2f %% | %.2f %% | %s |" % (
            label, 100 * median(shares), 100 * (median(shares) - base), thread("tactus-process"),
            thread("tactus-capture"), thread("tactus-output"), thread("web (NIO)"),
            ", ".join("%.2f" % (100 * x) for x in shares)))
    lines += ["", "**Whole run** (`--stats` cpu_share: CPU time over wall time from start to exit, start-up "
              "included):", "",
              "| setting | CPU share of one core | extra over web off | rounds | beats | page saw beats "
              "| max RSS (KiB) |",
              "|:---|---:|---:|:---|---:|---:|---:|"]
    base = median([s["cpu_share"] for s, _ in results[settings[0][0]]])
    for label, _, _, _ in settings:
        runs = results[label]
        shares = [s["cpu_share"] for s, _ in runs]
        s0, beats = runs[0]
        lines.append("| %s | %.2f %% | %+.2f %% | %s | %d | %s | %d |" % (
            label, 100 * median(shares), 100 * (median(shares) - base), ", ".join("%.2f" % (100 * x) for x in shares),
            s0["events"], "—" if beats is None else beats, s0["max_rss_kib"]))
    bl.emit_report("\n".join(lines) + "\n", Path(a.out) if a.out else None)


if __name__ == "__main__":
    main()
