// tactus-link: GPL-2.0-or-later (see link/LICENSE).
// libFuzzer target: arbitrary socket lines through the parser and the steering arithmetic, which
// must never crash, and must never ask for a non-finite tempo or beat, or a follow correction
// beyond its bound. Built and run by tools/fuzz.sh (target `link`).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "EventLine.hpp"
#include "Steering.hpp"

using namespace tactus_link;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Steering steering{SteeringConfig{}};
  static double sessionBeat = 0, sessionTempo = 120;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    Line line = parse(all.substr(start, end - start));
    if (line.kind == Line::beatLine) {
      if (!std::isfinite(line.beat.hostTime) || !std::isfinite(line.beat.tempo) || line.beat.tempo <= 0) std::abort();
      Steer s = steering.onBeat(line.beat, sessionBeat, sessionTempo);
      if (s.setTempo && !(std::isfinite(s.tempo) && s.tempo > 0)) std::abort();
      if (s.force && !std::isfinite(s.beat)) std::abort();
      if (s.force && !s.hard && std::fabs(s.beat - sessionBeat) > 0.0401) std::abort();
      if (s.setTempo) sessionTempo = s.tempo;
      if (s.force) sessionBeat = s.beat;
      sessionBeat += 1;
    } else if (line.kind == Line::downbeatLine) {
      steering.downbeat();
    } else if (line.kind == Line::statusLine && !line.locked) {
      steering.release();
    }
    start = end + 1;
  }
  return 0;
}
