#!/usr/bin/env python3
"""Daemon CPU with the web page (issue 21): `tactus run` on a paced 140 BPM groove for 30 s in
three settings, one after the other, in the same run: web off (`web.listen = ""`), web on with no
page open, web on with one page open in headless Chromium (Selenium). The daemon's own CPU time
over its wall time comes from its `--stats` file (cpu_share; the browser's CPU is its own
process and not counted). Prints a Markdown table; --out writes it too.

    .venv-test/bin/python bench/web.py --tactus .build/release/tactus --out bench/results/web.md
"""
import argparse, datetime, hashlib, json, os, subprocess, sys, tempfile

import importlib.util
spec = importlib.util.spec_from_file_location("webtest", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "web-test.py"))
webtest = importlib.util.module_from_spec(spec); spec.loader.exec_module(webtest)


def run(tactus, wav, seconds, web, page, tmp):
    stats = os.path.join(tmp, "stats-%s-%s.json" % (web, page))
    err = open(os.path.join(tmp, "err-%s-%s.txt" % (web, page)), "w+")
    cmd = [tactus, "run", "--set", "capture.source=file", "--set", "capture.file=" + wav, "--set", "capture.loop=true",
           "--set", "capture.realtime_priority=0", "--set", "output.stdout=false", "--set", "control.listen=",
           "--set", "web.listen=" + ("127.0.0.1:0" if web else ""), "--duration", str(seconds), "--stats", stats]
    daemon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    browser = None
    if page:
        browser = webtest.open_browser("http://127.0.0.1:%d/" % webtest.daemon_port(err))
    daemon.wait(timeout=seconds + 60)
    if browser:
        beats = browser.execute_script("return window.tactusBeats")
        browser.quit()
    else:
        beats = None
    s = json.load(open(stats))
    return s, beats


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--repeat", type=int, default=3, help="rounds of the three settings, interleaved")
    p.add_argument("--out")
    a = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="tactus-bench-web-")
    wav = os.path.join(tmp, "groove.wav")
    webtest.groove(wav, seconds=40)
    settings = (("web off (`web.listen = \"\"`)", False, False), ("web on, no page open", True, False),
                ("web on, one page open", True, True))
    results = {label: [] for label, _, _ in settings}
    for _ in range(a.repeat):
        for label, web, page in settings:
            results[label].append(run(a.tactus, wav, a.seconds, web, page, tmp))
    def median(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2]
    rows = []
    for label, _, _ in settings:
        runs = results[label]
        shares = [s["cpu_share"] for s, _ in runs]
        s = dict(runs[0][0])
        s["cpu_share"] = median(shares)
        rows.append((label, s, runs[0][1], shares))
    base = rows[0][1]["cpu_share"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "Sources"], capture_output=True, text=True).stdout.strip()
    digest = hashlib.sha256(open(a.tactus, "rb").read()).hexdigest()[:12]
    load = open("/proc/loadavg").read().split()[:2]
    lines = ["## Daemon CPU with the web page (issue 21)", "",
             "Command: `bench/web.py --tactus %s%s`. Tactus commit %s%s, binary sha256 %s; %s; load average at start %s (1 min), %s (5 min). "
             "Each run: `tactus run` on a paced 140 BPM groove (looped) for %.0f s, the daemon's CPU time over its wall time from `--stats`; "
             "%d rounds of the three settings, interleaved; the table gives the median and every round."
             % (a.tactus, " --out " + a.out if a.out else "", commit, "+dirty" if dirty else "", digest,
                datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), load[0], load[1], a.seconds, a.repeat), "",
             "| setting | CPU share of one core (median) | extra over web off | rounds | beats | page saw beats | max RSS (KiB) |",
             "|:---|---:|---:|---:|---:|---:|---:|"]
    for label, s, beats, shares in rows:
        lines.append("| %s | %.2f %% | %+.2f %% | %s | %d | %s | %d |" % (
            label, 100 * s["cpu_share"], 100 * (s["cpu_share"] - base), ", ".join("%.2f" % (100 * x) for x in shares),
            s["events"], "—" if beats is None else beats, s["max_rss_kib"]))
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        open(a.out, "w").write(text)


if __name__ == "__main__":
    main()
