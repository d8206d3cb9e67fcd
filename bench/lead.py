"""Arrival lead of predicted beats over OSC (issue 23): how long before each beat its packet
reaches a receiver, measured on the receiving socket against the beat's `host_time`.

The daemon (`tactus run`) sends to a generic OSC target on loopback; a UDP socket here stamps
each datagram on CLOCK_MONOTONIC (Python's time.monotonic_ns on Linux) and decodes the beat
count of `/tactus/beat` (plain or in a bundle); the JSON lines on stdout give each beat's
`host_time` (CLOCK_MONOTONIC s) by count. Arrival lead = host_time − arrival. Two inputs:

- `file`: the paced file source (`capture.source = file`), at real time;
- `jack`: the live path: a private `jackd -d dummy` (no sound card), `aplay` playing the file
  into Tactus's JACK capture port through ALSA's jack plugin (as JackDaemonTests does).

    python3 bench/lead.py --tactus .build/release/tactus --mode file --period-hops 1 FILES...
    python3 bench/lead.py --tactus .build/release/tactus --mode jack FILES...

Standard library only. Prints a markdown table: predicted beats, late-flagged beats, arrival lead
median / p5 / min (ms), share that arrived at least lead − 3 ms early.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def beat_count(datagram: bytes) -> int | None:
    """The count argument of a /tactus/beat message, plain or inside a bundle."""
    def message(data: bytes) -> int | None:
        end = data.find(b"\0")
        if end < 0 or data[:end] != b"/tactus/beat":
            return None
        offset = (end + 4) & ~3
        tags_end = data.find(b"\0", offset)
        if tags_end < 0 or not data[offset:tags_end].startswith(b",i"):
            return None
        offset = (tags_end + 4) & ~3
        return struct.unpack(">i", data[offset:offset + 4])[0]

    if datagram.startswith(b"#bundle\0"):
        offset = 16
        while offset + 4 <= len(datagram):
            size = struct.unpack(">i", datagram[offset:offset + 4])[0]
            found = message(datagram[offset + 4:offset + 4 + size])
            if found is not None:
                return found
            offset += 4 + size
        return None
    return message(datagram)


class Receiver:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.arrivals: dict[int, float] = {}
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            now = time.monotonic_ns() / 1e9
            count = beat_count(data)
            if count is not None and count not in self.arrivals:
                self.arrivals[count] = now

    def finish(self) -> dict[int, float]:
        self.stop = True
        self.thread.join()
        self.sock.close()
        return self.arrivals


def beats_from(stdout: str) -> list[dict]:
    beats = []
    for line in stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("event") == "beat":
            beats.append(o)
    return beats


def duration_of(path: str) -> float:
    import wave
    try:
        with wave.open(path) as w:
            return w.getnframes() / w.getframerate()
    except Exception:
        return 30.0


def run_file(tactus: str, audio: str, seconds: float, period_hops: int, receiver: Receiver) -> list[dict]:
    args = [tactus, "run", "--set", "capture.source=file", "--set", f"capture.file={audio}",
            "--set", "capture.realtime_priority=0", "--set", f"capture.period_hops={period_hops}",
            "--set", f"output.osc_targets=127.0.0.1:{receiver.port}", "--duration", str(seconds)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    return beats_from(out.stdout)


def run_jack(tactus: str, audio: str, seconds: float, period_hops: int, receiver: Receiver) -> list[dict]:
    home = Path(tempfile.mkdtemp(prefix="tactus-lead-"))
    server = f"tactus-lead-{os.getpid()}"
    env = dict(os.environ, HOME=str(home), JACK_DEFAULT_SERVER=server, JACK_NO_AUDIO_RESERVATION="1")
    asoundrc = home / ".asoundrc"
    asoundrc.write_text("pcm.jackin { type jack capture_ports { 0 system:capture_1 } }\n")
    jackd = subprocess.Popen(["jackd", "-n", server, "--no-realtime", "-d", "dummy", "-r", "44100", "-p", "441"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    player = None
    try:
        time.sleep(1.5)
        tactus_p = subprocess.Popen([tactus, "run", "--set", "capture.device=jackin",
                                     "--set", "capture.realtime_priority=0",
                                     "--set", f"capture.period_hops={period_hops}",
                                     "--set", f"output.osc_targets=127.0.0.1:{receiver.port}",
                                     "--duration", str(seconds + 4)],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        port = ""
        for _ in range(50):
            time.sleep(0.1)
            lsp = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True).stdout.split("\n")
            port = next((p for p in lsp if p.startswith("tactus") and ":in_" in p), "")
            if port:
                break
        if not port:
            tactus_p.kill()
            raise RuntimeError("Tactus's JACK port did not appear")
        asoundrc.write_text("pcm.jackin { type jack capture_ports { 0 system:capture_1 } }\n"
                            f"pcm.jackout {{ type plug slave.pcm {{ type jack playback_ports "
                            f"{{ 0 \"{port}\" }} }} }}\n")
        player = subprocess.Popen(["aplay", "-q", "-D", "jackout", audio], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out, _ = tactus_p.communicate(timeout=seconds + 60)
        return beats_from(out)
    finally:
        if player:
            player.kill()
        jackd.terminate()
        jackd.wait()
        shutil.rmtree(home, ignore_errors=True)


def quantile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p * (len(s) - 1)))))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True)
    p.add_argument("--mode", choices=["file", "jack"], default="file")
    p.add_argument("--period-hops", type=int, default=1)
    p.add_argument("--seconds", type=float, default=30, help="at most this much of each file")
    p.add_argument("--lead", type=float, default=0.05, help="the configured emission.lead (s)")
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    rows, everything = [], []
    for audio in args.files:
        seconds = min(args.seconds, duration_of(audio))
        receiver = Receiver()
        beats = (run_jack(args.tactus, audio, seconds, args.period_hops, receiver) if args.mode == "jack"
                 else run_file(args.tactus, audio, seconds, args.period_hops, receiver))
        time.sleep(0.3)
        arrivals = receiver.finish()
        # Beats flagged late left with less than the lead on purpose (their prediction moved
        # nearer between two periods): counted, and kept out of the lead statistics.
        leads = [(b["host_time"] - arrivals[b["count"]]) * 1000 for b in beats
                 if b.get("predicted") and not b.get("late") and b["count"] in arrivals and "host_time" in b]
        late = sum(1 for b in beats if b.get("late"))
        everything += leads
        rows.append((Path(audio).name, leads, late, len(beats)))
    print(f"mode {args.mode}, period_hops {args.period_hops}, "
          f"emission.lead {args.lead * 1000:.0f} ms, `{' '.join(sys.argv)}`\n")
    print("| file | beats | predicted received (not late) | late-flagged | median lead (ms) | p5 (ms) | min (ms) "
          "| ≥ lead − 3 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, leads, late, n in rows + [("all", everything, sum(r[2] for r in rows), sum(r[3] for r in rows))]:
        if not leads:
            print(f"| {name} | {n} | 0 | {late} | – | – | – | – |")
            continue
        ok = sum(1 for x in leads if x >= args.lead * 1000 - 3) / len(leads)
        print(f"| {name} | {n} | {len(leads)} | {late} | {quantile(leads, 0.5):.1f} | {quantile(leads, 0.05):.1f} | "
              f"{min(leads):.1f} | {ok:.1%} |")


if __name__ == "__main__":
    main()
