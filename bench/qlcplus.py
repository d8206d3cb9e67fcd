#!/usr/bin/env python3
"""Tactus through the real QLC+: OSC in, Art-Net out, on the loopback interface.

QLC+ (Debian 12: 4.12.6) runs headless (`QT_QPA_PLATFORM=offscreen qlcplus -o WORKSPACE -p`, no X
server, HOME pointed at a temporary directory) on a workspace this script writes: universe 1 takes
OSC input on a free loopback port and sends Art-Net to 127.0.0.1; a virtual-console button with
the Flash action, on the input channel QLC+ derives from the OSC path (Qt's qChecksum, CRC-16/X-25:
`/tactus/beat` is channel 48164), flashes a Scene that sets DMX channel 1 to 255. Art-Net frames
are received on 127.0.0.1:6454 (QLC+ binds *:6454 with SO_REUSEADDR; the more specific bind gets
the unicast frames) and every change of channel 1 is stamped on CLOCK_MONOTONIC on arrival.

    python3 bench/qlcplus.py delay [--count 200]
        QLC+'s own delay: `/tactus/beat f 1.0` (and `f 0.0` 50 ms later, as Tactus's qlcplus
        preset sends them) straight from Python at known CLOCK_MONOTONIC times, at random
        intervals (so the sends do not lock to QLC+'s 50 Hz engine tick); delay = arrival of the
        Art-Net frame with channel 1 on minus the send.
    python3 bench/qlcplus.py daemon --tactus .build/release/tactus FILE... [--suffix +lead=0.03]
        `tactus run` on each file (paced file source) with an OSC target `127.0.0.1:PORT/qlcplus`
        into QLC+: beats sent (JSON lines on stdout, `host_time` on CLOCK_MONOTONIC), beats that lit
        the channel exactly once, and light − beat (median, p5, p95).
    python3 bench/qlcplus.py check [--tactus .build/release/tactus] [--bound-ms 40]
        The end-to-end test (tools/qlcplus-test.sh): skips when qlcplus is not installed; fails
        unless every beat of a generated 120 BPM drum groove lit the channel exactly once and the
        median light − beat offset is within ±bound. Ends with `qlcplus: N passed, M failed`.

Python 3 standard library only. QLC+ is always stopped by its PID (try/finally); every loop is
bounded in time.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from xml.sax.saxutils import quoteattr

ARTNET_PORT = 6454
QLC_PATH = "/tactus/beat"
RELEASE_S = 0.05  # OSCSchema.qlcRelease: the preset's `f 0.0` goes 50 ms after the beat


# --- OSC and QLC+'s channel numbers -------------------------------------------------------------

def osc_message(path: str, value: float) -> bytes:
    """`path ,f value`, as Tactus's qlcplus preset sends it (OSC 1.0, big-endian, 4-byte aligned)."""
    def pad(b: bytes) -> bytes:
        b += b"\0"
        return b + b"\0" * (-len(b) % 4)
    return pad(path.encode()) + pad(b",f") + struct.pack(">f", value)


def qlc_channel(path: str) -> int:
    """QLC+'s input channel for an OSC path: Qt's qChecksum (CRC-16/X-25) of the path."""
    crc = 0xFFFF
    for byte in path.encode():
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


assert qlc_channel("/tactus/beat") == 48164


def free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- the workspace ------------------------------------------------------------------------------

def write_workspace(path: str | Path, osc_port: int, osc_path: str = QLC_PATH, artnet_ip: str = "127.0.0.1",
                    dmx_channel: int = 1, value: int = 255, line: int = 0) -> Path:
    """A minimal QLC+ 4 workspace: universe 1 with OSC input on 127.0.0.1:`osc_port` and Art-Net
    output to `artnet_ip` (universe 0); one generic dimmer at `dmx_channel`; a Scene setting it to
    `value`; a virtual-console button that flashes the Scene while the input channel of `osc_path`
    is non-zero.

    The plugins' lines are the machine's network interfaces in QLC+'s order; `line` 0 is the
    loopback interface (127.0.0.1) on Linux, and the UID attribute names it. The OSC plugin would
    listen on 7700 + universe without the `inputPort` parameter.
    """
    channel = qlc_channel(osc_path)
    appearance = """<Appearance>
     <FrameStyle>None</FrameStyle>
     <ForegroundColor>Default</ForegroundColor>
     <BackgroundColor>Default</BackgroundColor>
     <BackgroundImage>None</BackgroundImage>
     <Font>Default</Font>
    </Appearance>"""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE Workspace>
<Workspace xmlns="http://www.qlcplus.org/Workspace" CurrentWindow="VirtualConsole">
 <Creator>
  <Name>Q Light Controller Plus</Name>
  <Version>4.12.6</Version>
  <Author>tactus bench/qlcplus.py</Author>
 </Creator>
 <Engine>
  <InputOutputMap>
   <BeatGenerator BeatType="Disabled" BPM="0"/>
   <Universe Name="Universe 1" ID="0">
    <Input Plugin="OSC" UID="127.0.0.1" Line="{line}">
     <PluginParameters inputPort="{int(osc_port)}"/>
    </Input>
    <Output Plugin="ArtNet" UID="127.0.0.1" Line="{line}">
     <PluginParameters outputIP={quoteattr(artnet_ip)} outputUni="0"/>
    </Output>
   </Universe>
  </InputOutputMap>
  <Fixture>
   <Manufacturer>Generic</Manufacturer>
   <Model>Generic</Model>
   <Mode>Generic</Mode>
   <ID>0</ID>
   <Name>Beat light</Name>
   <Universe>0</Universe>
   <Address>{int(dmx_channel) - 1}</Address>
   <Channels>1</Channels>
  </Fixture>
  <Function ID="0" Type="Scene" Name="Beat">
   <Speed FadeIn="0" FadeOut="0" Duration="0"/>
   <FixtureVal ID="0">0,{int(value)}</FixtureVal>
  </Function>
 </Engine>
 <VirtualConsole>
  <Frame Caption="">
   {appearance}
   <Button Caption="Beat" ID="0" Icon="">
    <WindowState Visible="True" X="10" Y="10" Width="80" Height="80"/>
    {appearance}
    <Function ID="0"/>
    <Action>Flash</Action>
    <Intensity Adjust="False">100</Intensity>
    <Input Universe="0" Channel="{channel}"/>
   </Button>
  </Frame>
  <Properties>
   <Size Width="640" Height="480"/>
  </Properties>
 </VirtualConsole>
</Workspace>
"""
    path = Path(path)
    path.write_text(xml)
    return path


# --- Art-Net in ---------------------------------------------------------------------------------

class ArtNetReceiver(threading.Thread):
    """ArtDmx frames on 127.0.0.1:6454: every change of one DMX channel, stamped on arrival."""

    def __init__(self, channel: int = 1, universe: int = 0) -> None:
        super().__init__(daemon=True)
        self.channel, self.universe = channel, universe
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", ARTNET_PORT))
        self.sock.settimeout(0.1)
        self.changes: list[tuple[int, int]] = []  # (CLOCK_MONOTONIC ns, new value)
        self.frames = 0
        self.value: int | None = None
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                d = self.sock.recv(1024)
            except socket.timeout:
                continue
            now = time.monotonic_ns()
            # "Art-Net\0", OpDmx 0x5000 (little-endian), version, sequence, physical, universe (LE), length (BE)
            if len(d) < 18 + self.channel or d[:8] != b"Art-Net\0" or d[8:10] != b"\x00\x50":
                continue
            if struct.unpack_from("<H", d, 14)[0] != self.universe:
                continue
            v = d[17 + self.channel]
            with self.lock:
                self.frames += 1
                if v != self.value:
                    self.value = v
                    self.changes.append((now, v))

    def ons(self, since_ns: int = 0) -> list[int]:
        """Arrival times of the frames where the channel went from 0 to non-zero."""
        return self._edges(True, since_ns)

    def offs(self, since_ns: int = 0) -> list[int]:
        """Arrival times of the frames where the channel went back to 0."""
        return self._edges(False, since_ns)

    def _edges(self, rising: bool, since_ns: int) -> list[int]:
        with self.lock:
            out, prev = [], 0
            for t, v in self.changes:
                if bool(v) == rising and bool(prev) != rising and t >= since_ns:
                    out.append(t)
                prev = v
            return out

    def close(self) -> None:
        self.stop.set()
        self.join(1)
        self.sock.close()


class OSCProbe(threading.Thread):
    """A second OSC target with the same preset: when each `f 1.0` press leaves the daemon
    (arrival on loopback, CLOCK_MONOTONIC ns), so light − beat splits into send − beat and QLC+."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.presses: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                d = self.sock.recv(1024)
            except socket.timeout:
                continue
            now = time.monotonic_ns()
            i = d.find(b",f\0\0")
            if i >= 0 and len(d) >= i + 8 and struct.unpack_from(">f", d, i + 4)[0] > 0:
                self.presses.append(now)

    def close(self) -> None:
        self.stop.set()
        self.join(1)
        self.sock.close()


# --- QLC+ ---------------------------------------------------------------------------------------

class QLCPlus:
    """QLC+ on a fresh workspace and a temporary HOME; `with` stops it by its PID."""

    def __init__(self, osc_path: str = QLC_PATH, log: str | None = None) -> None:
        if shutil.which("qlcplus") is None:
            raise RuntimeError("qlcplus not found (apt-get install qlcplus; tools/install-deps.sh --test)")
        self.dir = Path(tempfile.mkdtemp(prefix="tactus-qlc-"))
        self.osc_path = osc_path
        self.osc_port = free_udp_port()
        self.workspace = write_workspace(self.dir / "tactus.qxw", self.osc_port, osc_path)
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.receiver: ArtNetReceiver | None = None
        self.started_s = float("nan")

    def __enter__(self) -> "QLCPlus":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> None:
        self.receiver = ArtNetReceiver()
        self.receiver.start()
        home = self.dir / "home"
        home.mkdir()
        env = dict(os.environ, HOME=str(home), QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(self.dir),
                   XDG_CONFIG_HOME=str(home / ".config"))
        out = open(self.log, "w") if self.log else subprocess.DEVNULL
        t0 = time.monotonic()
        self.proc = subprocess.Popen(["qlcplus", "-o", str(self.workspace), "-p"] + (["-d"] if self.log else []),
                                     env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        # Ready when a flash sent to the OSC port comes back on Art-Net (probes 0.3 s apart).
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            while time.monotonic() - t0 < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"qlcplus exited with status {self.proc.returncode} while starting")
                probe = time.monotonic_ns()
                self.send(sock, 1.0)
                time.sleep(0.15)
                self.send(sock, 0.0)
                time.sleep(0.15)
                if self.receiver.ons(probe):
                    self.started_s = time.monotonic() - t0
                    time.sleep(0.2)
                    return
            raise RuntimeError(f"QLC+ gave no Art-Net flash for an OSC press within {timeout:.0f} s")
        finally:
            sock.close()

    def send(self, sock: socket.socket, value: float) -> int:
        """Sends `osc_path f value`; returns the CLOCK_MONOTONIC time (ns) just before the send."""
        t = time.monotonic_ns()
        sock.sendto(osc_message(self.osc_path, value), ("127.0.0.1", self.osc_port))
        return t

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(3)
        if self.receiver is not None:
            self.receiver.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- statistics ---------------------------------------------------------------------------------

def quantile(values: list[float], p: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    v = sorted(values)
    if not v:
        return float("nan")
    x = (len(v) - 1) * p
    i = int(x)
    return v[i] if i + 1 >= len(v) else v[i] + (v[i + 1] - v[i]) * (x - i)


def summary(values: list[float]) -> dict:
    return {"n": len(values), "median": quantile(values, 0.5), "p5": quantile(values, 0.05),
            "p95": quantile(values, 0.95), "min": min(values, default=float("nan")),
            "max": max(values, default=float("nan"))}


def sleep_until_ns(t: int) -> None:
    while True:
        left = t - time.monotonic_ns()
        if left <= 0:
            return
        if left > 2_000_000:
            time.sleep((left - 1_000_000) / 1e9)


# --- QLC+'s own delay ---------------------------------------------------------------------------

def measure_qlc_delay(count: int = 200, interval: float = 0.25, jitter: float = 0.1, seed: int = 1,
                      log: str | None = None) -> dict:
    """QLC+'s delay from an OSC press to the DMX change: `count` presses (`f 1.0`, `f 0.0` 50 ms
    later) at random intervals in [interval − jitter/2, interval + jitter/2); for each, the first
    Art-Net frame with channel 1 on after the send. Also the release's delay (`f 0.0` → off)."""
    rng = random.Random(seed)
    with QLCPlus(log=log) as qlc:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        presses, releases = [], []
        t = time.monotonic_ns() + 200_000_000
        for _ in range(count):
            sleep_until_ns(t)
            presses.append(qlc.send(sock, 1.0))
            sleep_until_ns(presses[-1] + int(RELEASE_S * 1e9))
            releases.append(qlc.send(sock, 0.0))
            t = presses[-1] + int((interval + rng.uniform(-jitter / 2, jitter / 2)) * 1e9)
        time.sleep(0.3)
        sock.close()
        ons, offs = qlc.receiver.ons(presses[0]), qlc.receiver.offs(presses[0])
        changes, started = list(qlc.receiver.changes), qlc.started_s
    # Presses that lit nothing: what channel 1 did until the next press (ms after the press, value).
    missed = []
    for i, p in enumerate(presses):
        nxt = presses[i + 1] if i + 1 < len(presses) else p + 10**9
        if not any(p <= t < nxt for t in ons):
            missed.append((i, [(round((t - p) / 1e6, 1), v) for t, v in changes if p - 10**8 <= t < nxt]))
    on_delay = _first_after(presses, ons)
    off_delay = _first_after(releases, offs)
    return {"sent": count, "lit": len(on_delay), "ons": len(ons), "on_ms": summary(on_delay),
            "off_ms": summary(off_delay), "started_s": started, "missed": missed}


def _first_after(sends: list[int], events: list[int]) -> list[float]:
    """For each send, the delay (ms) to the first event after it and before the next send."""
    out, j = [], 0
    for i, s in enumerate(sends):
        nxt = sends[i + 1] if i + 1 < len(sends) else s + 10**9
        while j < len(events) and events[j] < s:
            j += 1
        if j < len(events) and events[j] < nxt:
            out.append((events[j] - s) / 1e6)
    return out


# --- the daemon through QLC+ --------------------------------------------------------------------

def audio_seconds(path: str) -> float:
    try:
        with wave.open(path) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError, OSError):
        return 60.0  # not a WAV: the bound below allows a minute of audio


def run_daemon_through_qlc(tactus_binary: str, audio_file: str, extra_set_args: list[str] | None = None,
                           target_suffix: str = "", log: str | None = None, timeout: float | None = None) -> dict:
    """`tactus run` on `audio_file` (paced file source) with its qlcplus preset sending to QLC+.
    Each light (channel 1 going on) is matched to the beat whose window (half-way to the beats on
    either side, at most 0.3 s) holds it; reports beats sent, beats lit exactly once, extra lights
    and light − beat (ms)."""
    extra = []
    for kv in extra_set_args or []:
        extra += ["--set", kv]
    if timeout is None:
        timeout = audio_seconds(audio_file) + 30
    probe = OSCProbe()
    probe.start()
    with QLCPlus(log=log) as qlc:
        target = f"127.0.0.1:{qlc.osc_port}/qlcplus{target_suffix},127.0.0.1:{probe.port}/qlcplus{target_suffix}"
        cmd = [tactus_binary, "run", "--set", "capture.source=file", "--set", f"capture.file={audio_file}",
               "--set", "capture.realtime_priority=0", "--set", f"output.osc_targets={target}",
               "--set", "output.stdout=true"] + extra
        t0 = time.monotonic_ns()
        daemon = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, start_new_session=True)
        lines: list[str] = []
        err: list[str] = []
        readers = [threading.Thread(target=lambda: lines.extend(daemon.stdout), daemon=True),
                   threading.Thread(target=lambda: err.extend(daemon.stderr), daemon=True)]
        for r in readers:
            r.start()
        try:
            daemon.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(3)
            except subprocess.TimeoutExpired:
                os.kill(daemon.pid, signal.SIGKILL)
                daemon.wait(3)
        for r in readers:
            r.join(2)
        time.sleep(RELEASE_S + 0.2)  # the last release and QLC+'s tick after it
        ons = qlc.receiver.ons(t0)
    probe.close()
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    beats = [e for e in events if e.get("event") == "beat"]
    result = match_lights(beats, ons)
    sends = match_lights(beats, probe.presses)
    result["send_ms"] = sends["offset_ms"]
    # QLC+ inside the daemon run: each light minus the press that the probe saw for the same beat.
    result["unlit_beats"] = [(i, bool(b.get("predicted")), sends["per_beat_ms"][i]) for i, b in enumerate(beats)
                             if result["per_beat_ms"][i] is None]
    result["qlc_ms"] = summary([l - s for l, s in zip(result["per_beat_ms"], sends["per_beat_ms"])
                                if l is not None and s is not None])
    result.update({"file": audio_file, "status": daemon.returncode, "stderr_tail": "".join(err[-5:]),
                   "suffix": target_suffix, "started_s": qlc.started_s})
    return result


def match_lights(beats: list[dict], ons_ns: list[int]) -> dict:
    times = [b["host_time"] for b in beats]
    counts = [0] * len(times)
    offsets: list[list[float]] = [[] for _ in times]
    extra = 0
    for on in ons_ns:
        t = on / 1e9
        best = None
        for i, b in enumerate(times):
            lo = max(b - 0.3, (times[i - 1] + b) / 2 if i else -math.inf)
            hi = min(b + 0.3, (times[i + 1] + b) / 2 if i + 1 < len(times) else math.inf)
            if lo <= t < hi:
                best = i
                break
        if best is None:
            extra += 1
        else:
            counts[best] += 1
            offsets[best].append((t - times[best]) * 1000)
    once = [i for i, c in enumerate(counts) if c == 1]
    per_beat = [offsets[i][0] if counts[i] == 1 else None for i in range(len(times))]
    all_off = [offsets[i][0] for i in once]
    predicted = [offsets[i][0] for i in once if beats[i].get("predicted")]
    return {"beats": len(beats), "predicted": sum(1 for b in beats if b.get("predicted")), "lit_once": len(once),
            "lit_twice_or_more": sum(1 for c in counts if c > 1), "unlit": sum(1 for c in counts if c == 0),
            "extra_lights": extra, "offset_ms": summary(all_off), "offset_predicted_ms": summary(predicted),
            "per_beat_ms": per_beat}


# --- a generated test file ----------------------------------------------------------------------

def write_drum_wav(path: str | Path, bpm: float = 120, seconds: float = 20, rate: int = 44100, seed: int = 7) -> Path:
    """A drum groove: kick on every beat, snare on 2 and 4, closed hi-hat on eighths (16-bit mono)."""
    rng = random.Random(seed)
    n = int(seconds * rate)
    x = [0.0] * n
    period = 60 / bpm

    def add(start: float, length: float, f) -> None:
        i0 = int(start * rate)
        for k in range(int(length * rate)):
            if i0 + k < n:
                x[i0 + k] += f(k / rate)

    beat = 0
    while beat * period < seconds:
        t = beat * period
        add(t, 0.25, lambda s: 0.7 * math.exp(-s * 18) * math.sin(2 * math.pi * (55 * s + 4 * (1 - math.exp(-s * 30)))))
        if beat % 2 == 1:
            add(t, 0.15,
                lambda s: 0.35 * math.exp(-s * 30) * (rng.uniform(-1, 1) + 0.5 * math.sin(2 * math.pi * 190 * s)))
        for h in (0, 0.5):
            add(t + h * period, 0.04, lambda s: 0.12 * math.exp(-s * 120) * rng.uniform(-1, 1))
        beat += 1
    peak = max(abs(v) for v in x) or 1
    frames = b"".join(struct.pack("<h", int(v / peak * 0.8 * 32767)) for v in x)
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return path


# --- output -------------------------------------------------------------------------------------

def qlc_version() -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "qlcplus"], capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def fmt(s: dict) -> str:
    return f"{s['median']:.1f} | {s['p5']:.1f} | {s['p95']:.1f} | {s['min']:.1f} | {s['max']:.1f}"


def cmd_delay(args) -> int:
    r = measure_qlc_delay(args.count, args.interval, args.jitter, args.seed, log=args.log)
    print(f"QLC+ {qlc_version()}: {r['sent']} presses, {r['lit']} lit (Art-Net on-transitions seen: {r['ons']}); "
          f"QLC+ answered its first probe {r['started_s']:.2f} s after its start\n")
    print("| OSC message → DMX change in Art-Net | n | median ms | p5 ms | p95 ms | min ms | max ms |")
    print("|:---|---:|---:|---:|---:|---:|---:|")
    print(f"| press `f 1.0` → channel 1 on | {r['on_ms']['n']} | {fmt(r['on_ms'])} |")
    print(f"| release `f 0.0` → channel 1 off | {r['off_ms']['n']} | {fmt(r['off_ms'])} |")
    for i, ev in r["missed"]:
        print(f"\npress {i} lit nothing; channel 1 changes from 100 ms before it to the next press (ms, value): {ev}")
    return 0 if r["lit"] == r["sent"] else 1


def daemon_rows(results: list[dict]) -> None:
    print("| file | target | exit | beats (predicted) | lit exactly once | unlit / twice / extra lights | "
          "light − beat ms median | p5 | p95 | predicted beats only: median | "
          "OSC press out − beat ms median (p5, p95) | light − OSC press ms median (p5, p95) |")
    print("|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        o, p = r["offset_ms"], r["offset_predicted_ms"]
        print(f"| {Path(r['file']).name} | `/qlcplus{r['suffix']}` | {r['status']} | {r['beats']} ({r['predicted']}) | "
              f"{r['lit_once']} | {r['unlit']} / {r['lit_twice_or_more']} / {r['extra_lights']} | "
              f"{o['median']:.1f} | {o['p5']:.1f} | {o['p95']:.1f} | {p['median']:.1f} | "
              f"{r['send_ms']['median']:.1f} ({r['send_ms']['p5']:.1f}, {r['send_ms']['p95']:.1f}) | "
              f"{r['qlc_ms']['median']:.1f} ({r['qlc_ms']['p5']:.1f}, {r['qlc_ms']['p95']:.1f}) |")
    for r in results:
        for i, predicted, send in r["unlit_beats"]:
            print(f"\n{Path(r['file']).name} `/qlcplus{r['suffix']}`: beat {i + 1} "
                  f"({'predicted' if predicted else 'not predicted'}) "
                  f"did not light exactly once; its press left {'?' if send is None else f'{send:.1f}'} ms "
                  f"after the beat "
                  f"(the release leaves {RELEASE_S * 1000:.0f} ms after the beat)")


def cmd_daemon(args) -> int:
    results = []
    for f in args.files:
        for suffix in args.suffix or [""]:
            results.append(run_daemon_through_qlc(args.tactus, f, args.set, suffix, log=args.log))
    print(f"QLC+ {qlc_version()}, `{args.tactus}`\n")
    daemon_rows(results)
    return 0 if all(r["status"] == 0 and r["lit_once"] == r["beats"] > 0 for r in results) else 1


def cmd_check(args) -> int:
    if shutil.which("qlcplus") is None:
        print("qlcplus: skipped: qlcplus is not installed (apt-get install qlcplus, or tools/install-deps.sh --test)")
        return 0
    if not os.access(args.tactus, os.X_OK):
        print(f"qlcplus: {args.tactus} not found or not executable (build it first, or give --tactus)")
        print("qlcplus: 0 passed, 1 failed")
        return 1
    passed = failed = 0

    def check(ok: bool, what: str) -> None:
        nonlocal passed, failed
        passed += ok
        failed += not ok
        print(f"{'ok' if ok else 'FAILED'}: {what}")

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tactus-qlc-check-") as tmp:
        wav = write_drum_wav(Path(tmp) / "drums_120bpm_20s.wav", 120, args.seconds)
        try:
            d = measure_qlc_delay(args.probes)
            s = d["on_ms"]
            check(d["lit"] >= 0.9 * d["sent"],
                  f"direct OSC (90 % must light): {d['lit']} of {d['sent']} presses lit channel 1; QLC+ delay "
                  f"median {s['median']:.1f} ms (p5 {s['p5']:.1f}, p95 {s['p95']:.1f}); "
                  f"first flash {d['started_s']:.2f} s after start"
                  + "".join(f"; press {i} missed, changes around it (ms, value): {ev}" for i, ev in d["missed"]))
            r = run_daemon_through_qlc(args.tactus, str(wav), args.set, args.suffix)
        except (RuntimeError, OSError) as e:
            check(False, f"QLC+ run: {e}")
            print(f"qlcplus: {passed} passed, {failed} failed")
            return 1
        o = r["offset_ms"]
        check(r["status"] == 0,
              f"tactus run exited with {r['status']}" + (f": {r['stderr_tail'].strip()}" if r["status"] else ""))
        check(r["beats"] >= int(args.seconds * 2 * 0.7), f"{r['beats']} beats sent ({r['predicted']} predicted) for "
              f"{args.seconds:.0f} s at 120 BPM")
        check(r["lit_once"] == r["beats"] and r["extra_lights"] == 0,
              f"{r['lit_once']} of {r['beats']} beats lit the channel exactly once ({r['unlit']} unlit, "
              f"{r['lit_twice_or_more']} more than once, {r['extra_lights']} lights without a beat)")
        check(abs(o["median"]) <= args.bound_ms,
              f"light − beat median {o['median']:.1f} ms within ±{args.bound_ms:g} ms "
              f"(p5 {o['p5']:.1f}, p95 {o['p95']:.1f}; predicted beats only: median "
              f"{r['offset_predicted_ms']['median']:.1f} ms; OSC press out − beat {r['send_ms']['median']:.1f} ms, "
              f"light − OSC press {r['qlc_ms']['median']:.1f} ms)")
    print(f"QLC+ {qlc_version()}; {time.monotonic() - t0:.0f} s")
    print(f"qlcplus: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("delay", help="QLC+'s own delay, OSC press → DMX change")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--interval", type=float, default=0.25, help="mean seconds between presses")
    p.add_argument("--jitter", type=float, default=0.1, help="intervals spread uniformly over this width (s)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log", help="QLC+'s debug output (-d) to this file")
    p = sub.add_parser("daemon", help="tactus run through QLC+ on files")
    p.add_argument("--tactus", default=".build/release/tactus")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra --set for tactus run")
    p.add_argument("--suffix", action="append", help="target options after /qlcplus, e.g. +lead=0.03 "
                   "(repeat to run each file once per suffix; '' for none)")
    p.add_argument("--log", help="QLC+'s debug output (-d) to this file")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("check", help="the end-to-end test (skips without qlcplus)")
    p.add_argument("--tactus", default=".build/release/tactus")
    p.add_argument("--bound-ms", type=float, default=40)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--probes", type=int, default=40, help="direct OSC presses before the daemon run")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--suffix", default="", help="target options after /qlcplus")
    args = ap.parse_args(argv)
    return {"delay": cmd_delay, "daemon": cmd_daemon, "check": cmd_check}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
