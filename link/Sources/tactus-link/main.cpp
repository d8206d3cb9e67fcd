// tactus-link: a bridge from the Tactus daemon's beats to an Ableton Link session.
// GPL-2.0-or-later (see link/LICENSE): it links Ableton's Link library, which is GPL; Tactus
// itself stays MIT, and the two talk only through the daemon's JSON-lines socket.
#include <ableton/Link.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "DaemonSocket.hpp"
#include "EventLine.hpp"
#include "HostClock.hpp"
#include "Steering.hpp"

using namespace tactus_link;

namespace {

std::atomic<bool> stopRequested{false};

void onSignal(int) { stopRequested.store(true); }

struct Options {
  std::string socket = "/run/tactus/events.sock";
  SteeringConfig steering;
  bool startStop = false;
  double statusInterval = 10;
};

void usage(FILE* out) {
  std::fputs(
      "usage: tactus-link [--socket PATH] [--quantum N | --meter] [--start-stop] [--tempo-threshold BPM]\n"
      "                   [--status-interval S]\n"
      "Joins the Ableton Link session on this network and steers its tempo and beat phase from the\n"
      "beats of a running tactus daemon, read from its JSON-lines socket.\n"
      "  --socket PATH           the daemon's output.jsonl_socket (default /run/tactus/events.sock)\n"
      "  --quantum N             beats per Link bar, 1-16 (default 4)\n"
      "  --meter                 the quantum follows the daemon's meter (stage control's `meter`)\n"
      "  --start-stop            Link start/stop sync: stop the transport when the daemon loses the beat\n"
      "  --tempo-threshold BPM   smaller tempo moves are not sent to the session (default 0.1)\n"
      "  --status-interval S     a status line every S seconds, 0 = never (default 10)\n",
      out);
}

bool number(const char* text, double lo, double hi, double& out) {
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (!text[0] || *end || !(v >= lo && v <= hi)) return false;
  out = v;
  return true;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](double lo, double hi, double& out) {
      if (i + 1 >= argc || !number(argv[++i], lo, hi, out)) {
        std::fprintf(stderr, "tactus-link: %s needs a number in %g...%g\n", a.c_str(), lo, hi);
        return false;
      }
      return true;
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (a == "--socket" && i + 1 < argc) {
      o.socket = argv[++i];
    } else if (a == "--quantum") {
      if (!value(1, 16, o.steering.quantum)) return false;
    } else if (a == "--meter") {
      o.steering.useMeter = true;
    } else if (a == "--start-stop") {
      o.startStop = true;
    } else if (a == "--tempo-threshold") {
      if (!value(0, 10, o.steering.tempoThreshold)) return false;
    } else if (a == "--status-interval") {
      if (!value(0, 86400, o.statusInterval)) return false;
    } else {
      std::fprintf(stderr, "tactus-link: unknown argument %s\n", a.c_str());
      usage(stderr);
      return false;
    }
  }
  return true;
}

double seconds() { return double(nanos(CLOCK_MONOTONIC)) / 1e9; }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGPIPE, SIG_IGN);

  ableton::Link link(120.0);
  std::atomic<size_t> peers{0};
  link.setNumPeersCallback([&peers](size_t n) { peers.store(n); });
  link.enableStartStopSync(o.startStop);
  link.enable(true);
  std::fprintf(stderr, "tactus-link: in the Link session (quantum %g%s); reading %s\n", o.steering.quantum,
               o.steering.useMeter ? ", following the daemon's meter" : "", o.socket.c_str());

  DaemonSocket daemon(o.socket);
  Steering steering(o.steering);
  size_t loggedPeers = 0;
  bool wasConnected = false;
  std::string lastError;
  long beats = 0;
  double lastBeat = 0, lastStatus = seconds(), lastError_ms = 0;

  auto release = [&](const char* why) {
    if (!steering.steering()) return;
    steering.release();
    std::fprintf(stderr, "tactus-link: not steering (%s); peers keep %.2f BPM\n", why,
                 link.captureAppSessionState().tempo());
    if (o.startStop) {
      auto state = link.captureAppSessionState();
      state.setIsPlaying(false, link.clock().micros());
      link.commitAppSessionState(state);
    }
  };

  auto onLine = [&](const std::string& text) {
    Line line = parse(text);
    switch (line.kind) {
      case Line::badLine:
        daemon.countBad();
        return;
      case Line::otherLine:
        return;
      case Line::downbeatLine:
        steering.downbeat();
        return;
      case Line::statusLine:
        if (!line.gate) release("the gate is closed");
        else if (!line.locked) release("the tracker is not locked");
        return;
      case Line::beatLine:
        break;
    }
    ++beats;
    lastBeat = seconds();
    auto at = linkTime(line.beat.hostTime);
    auto state = link.captureAppSessionState();
    bool wasSteering = steering.steering();
    double q = o.steering.useMeter && line.beat.meter >= 1 ? line.beat.meter : o.steering.quantum;
    Steer s = steering.onBeat(line.beat, state.beatAtTime(at, q), state.tempo());
    if (!s.act) {
      if (wasSteering) release("the tracker lost the beat");
      return;
    }
    lastError_ms = s.phaseError * 60000 / state.tempo();
    if (s.setTempo) state.setTempo(s.tempo, at);
    if (s.force) state.forceBeatAtTime(s.beat, at, steering.quantum());
    if (s.hard && o.startStop && !state.isPlaying()) state.setIsPlaying(true, at);
    link.commitAppSessionState(state);
    if (s.hard) {
      std::fprintf(stderr, "tactus-link: aligned the session to the beats: %.2f BPM, beat %g of %g%s\n", s.tempo,
                   std::fmod(s.beat, steering.quantum()) + 1, steering.quantum(),
                   line.beat.operatorBar ? " (the operator's bar)" : "");
    }
  };

  while (!stopRequested.load()) {
    std::string error;
    bool ok = daemon.poll(100, onLine, error);
    if (daemon.connected() && !wasConnected) {
      std::fprintf(stderr, "tactus-link: connected to the daemon at %s\n", o.socket.c_str());
      lastError.clear();
    }
    if (!ok && !error.empty() && error != lastError) {
      std::fprintf(stderr, "tactus-link: %s; retrying\n", error.c_str());
      lastError = error;
    }
    if (wasConnected && !daemon.connected()) release("the daemon is gone");
    wasConnected = daemon.connected();
    if (steering.steering() && seconds() - lastBeat > 2) release("no beat for 2 s");
    size_t n = peers.load();
    if (n != loggedPeers) {
      std::fprintf(stderr, "tactus-link: %zu Link peer%s\n", n, n == 1 ? "" : "s");
      loggedPeers = n;
    }
    if (o.statusInterval > 0 && seconds() - lastStatus >= o.statusInterval) {
      lastStatus = seconds();
      std::fprintf(stderr, "tactus-link: status: %s, %s, %.2f BPM, %zu peers, %ld beats, last phase error %+.1f ms, "
                   "%ld bad lines\n", daemon.connected() ? "connected" : "no daemon",
                   steering.steering() ? "steering" : "not steering", link.captureAppSessionState().tempo(), n,
                   beats, lastError_ms, daemon.badLines());
    }
  }
  std::fprintf(stderr, "tactus-link: leaving the Link session\n");
  link.enable(false);
  return 0;
}
