"""Outputs under bad network conditions, and the MIDI clock's timing, with real receivers.

Runs in a private network namespace (root; `unshare -n`, done by the script itself) with
loopback up and routes that fail in each of the ways a stage network can: a closed port
(ECONNREFUSED), an `unreachable` route (EHOSTUNREACH), a `blackhole` route (EINVAL), and an
address on a veth link where no host answers (packets silently dropped). For each condition the
daemon (`tactus run`, paced file source in real time) sends OSC to a real receiver (python-osc
decoding every datagram) plus the failing targets, and reports from `--stats`: cost per period
p50/p99 and capture-to-event latency p50/p99; the receiver reports beats received against the
JSON lines and the capture-to-wire latency (arrival on CLOCK_MONOTONIC minus the capture time of
the sample that completed the beat's frame). Then the MIDI clock over RTP-MIDI to pymidi:
the sender's lateness (send time minus due time) and the spread of tick intervals at the peer.

    .venv-test/bin/python bench/outputs.py --tactus .build/release/tactus --seconds 30 --out bench/results/outputs.md
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import benchlib as bl  # noqa: E402

SETUP = [
    "ip link set lo up",
    "ip route add unreachable 10.8.8.0/24",
    "ip route add blackhole 10.9.9.0/24",
    "ip link add v0 type veth peer name v1",
    "ip addr add 10.4.4.1/24 dev v0",
    "ip link set v0 up",
    "ip link set v1 up",
]
CONDITIONS = [
    ("receiver only", []),
    ("+ closed port (ECONNREFUSED)", ["127.0.0.1:9"]),
    ("+ unreachable route (EHOSTUNREACH)", ["10.8.8.8:9000"]),
    ("+ blackhole route (EINVAL)", ["10.9.9.9:9000"]),
    ("+ no host on the link (silent drop)", ["10.4.4.9:9000"]),
    ("+ all four", ["127.0.0.1:9", "10.8.8.8:9000", "10.9.9.9:9000", "10.4.4.9:9000"]),
]


def q(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int((len(v) - 1) * p))] if v else float("nan")


class OSCReceiver(threading.Thread):
    """Counts /tactus/beat messages (plain or in bundles) and their arrival times."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        from pythonosc.osc_bundle import OscBundle
        from pythonosc.osc_message import OscMessage
        self.bundle, self.message = OscBundle, OscMessage
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.arrivals: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                d = self.sock.recv(4096)
            except socket.timeout:
                continue
            now = time.monotonic()
            messages = list(self.bundle(d)) if self.bundle.dgram_is_bundle(d) else [self.message(d)]
            for m in messages:
                if m.address == "/tactus/beat":
                    self.arrivals.setdefault(m.params[0], now)


def run_condition(tactus: str, audio: str, seconds: float, targets: list[str], tmp: Path) -> dict:
    receiver = OSCReceiver()
    receiver.start()
    stats = tmp / "stats.json"
    osc = ",".join([f"127.0.0.1:{receiver.port}"] + targets)
    cmd = [tactus, "run", "--set", "capture.source=file", "--set", f"capture.file={audio}",
           "--set", "capture.loop=true",
           "--set", "capture.realtime_priority=0", "--set", f"output.osc_targets={osc}", "--duration", str(seconds),
           "--stats", str(stats)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    time.sleep(0.5)
    receiver.stop.set()
    receiver.join()
    beats = [json.loads(l) for l in r.stdout.splitlines() if '"event":"beat"' in l]
    s = json.loads(stats.read_text())
    wire = []
    for b in beats:
        if b["count"] in receiver.arrivals:
            emitted_host = b["host_time"] - (b["time"] - b["emitted"])
            wire.append((receiver.arrivals[b["count"]] - emitted_host) * 1000)
    return {"status": r.returncode, "beats": len(beats), "received": len(receiver.arrivals), "stats": s, "wire": wire,
            "warnings": sum(1 for l in r.stderr.splitlines() if "OSC " in l)}


def midi_clock(tactus: str, audio: str, seconds: float, tmp: Path) -> dict:
    from pymidi import server
    peer = server.Server([("127.0.0.1", 0)])
    arrivals: list[float] = []
    statuses: list[int] = []

    class Handler(server.Handler):
        def on_peer_connected(self, p): pass
        def on_peer_disconnected(self, p): pass
        def on_midi_commands(self, p, commands):
            now = time.monotonic()
            for c in commands:
                arrivals.append(now)
                statuses.append(c.command_byte)

    peer.add_handler(Handler())
    # pymidi binds control at the given port and data at port + 1: find a free pair first.
    while True:
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0)); port = a.getsockname()[1]
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            b.bind(("127.0.0.1", port + 1)); a.close(); b.close(); break
        except OSError:
            a.close(); b.close()
    peer.bind_addrs = [("127.0.0.1", port)]
    peer._init_protocols()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            peer._loop_once(timeout=0.1)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    stats = tmp / "midi-stats.json"
    cmd = [tactus, "run", "--set", "capture.source=file", "--set", f"capture.file={audio}",
           "--set", "capture.loop=true",
           "--set", "capture.realtime_priority=0", "--set", f"output.midi_rtp_peer=127.0.0.1:{port}",
           "--duration", str(seconds), "--stats", str(stats)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    time.sleep(0.5)
    stop.set()
    t.join()
    s = json.loads(stats.read_text())
    ticks = [a for a, st in zip(arrivals, statuses) if st == 0xF8]
    intervals = [(y - x) * 1000 for x, y in zip(ticks, ticks[1:])]
    # Deviation of each interval from the median of its beat's 24 (the clock may change tempo per beat).
    dev = []
    for i in range(0, len(intervals) - 24, 24):
        chunk = intervals[i:i + 24]
        m = statistics.median(chunk)
        dev += [abs(x - m) for x in chunk]
    return {"status": r.returncode, "stats": s, "messages": len(statuses), "ticks": len(ticks),
            "starts": statuses.count(0xFA), "stops": statuses.count(0xFC), "spp": statuses.count(0xF2),
            "dev": dev, "established": "established" in r.stderr}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tactus", required=True)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--audio", default=str(bl.DEFAULT_DATA / "misc_excerpts/audio/hainsworth_001.wav"))
    p.add_argument("--out", type=Path)
    p.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if not a.inside:
        os.execvp("unshare", ["unshare", "-n", sys.executable, __file__, "--inside"] + sys.argv[1:])
    for c in SETUP:
        subprocess.run(c.split(), check=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tactus-outputs-") as tmp_name:
        tmp = Path(tmp_name)
        tactus = bl.pin_binary(a.tactus, tmp)
        for name, targets in CONDITIONS:
            r = run_condition(tactus, a.audio, a.seconds, targets, tmp)
            s = r["stats"]
            rows.append([name, str(r["status"]), f"{r['received']} / {r['beats']}",
                         f"{s['cost_us_p50']:.1f} / {s['cost_us_p99']:.1f}",
                         f"{s['latency_ms_p50']:.3f} / {s['latency_ms_p99']:.3f}",
                         f"{q(r['wire'], 0.5):.3f} / {q(r['wire'], 0.99):.3f}", str(r["warnings"])])
        m = midi_clock(tactus, a.audio, a.seconds, tmp)
    ms = m["stats"]
    text = (f"## Outputs under network faults, and the MIDI clock\n\n"
            f"Command: `bench/outputs.py --tactus {a.tactus} --seconds {a.seconds:g}` "
            f"(network namespace, real-time paced "
            f"`{Path(a.audio).name}` looped); {bl.git_describe(Path(__file__).parents[1])}; "
            f"{time.strftime('%Y-%m-%d')}; {bl.load_note()}.\n\n"
            + bl.markdown_table(["OSC targets", "exit", "beats at the receiver / JSON", "cost per period µs p50 / p99",
                                 "capture→event ms p50 / p99", "capture→wire ms p50 / p99", "log lines about OSC"],
                                rows)
            + "\n\nMIDI clock over RTP-MIDI to pymidi 0.5.0 (loopback):\n\n"
            + bl.markdown_table(["measure", "value"], [
                ["session", "established" if m["established"] else "NOT established"],
                ["messages made / sent / received",
                 f"{ms['midi_messages']} / {ms['midi_rtp_sent']} / {m['messages']} "
                 f"(Start {m['starts']}, Stop {m['stops']}, Song Position {m['spp']}, ticks {m['ticks']}; "
                 f"made before the session was up are not sent)"],
                ["sender lateness (send − due) p50 / p99 / max",
                 f"{ms['midi_lateness_ms_p50']:.3f} / {ms['midi_lateness_ms_p99']:.3f} / "
                 f"{ms['midi_lateness_ms_max']:.3f} ms"],
                ["tick interval at the peer, deviation from its beat's median, p50 / p99",
                 f"{q(m['dev'], 0.5):.3f} / {q(m['dev'], 0.99):.3f} ms"],
            ]) + "\n")
    bl.emit_report(text, a.out)


if __name__ == "__main__":
    main()
