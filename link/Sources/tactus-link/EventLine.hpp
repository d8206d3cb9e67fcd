// tactus-link: GPL-2.0-or-later (see link/LICENSE).
#pragma once
// The few fields the bridge reads from the daemon's JSON lines (docs/events.md). The lines are
// flat objects written by the daemon, but the socket is read as untrusted: a field that is
// missing, malformed or out of range makes the line unreadable, never a wrong value.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace tactus_link {

/// The raw text of `"key":value` at the top level of a flat JSON object (no nesting expected).
inline std::optional<std::string_view> field(std::string_view line, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":";
  size_t at = line.find(pattern);
  if (at == std::string_view::npos) return std::nullopt;
  size_t start = at + pattern.size();
  size_t end = start;
  if (end < line.size() && line[end] == '"') {
    end = line.find('"', end + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return line.substr(start + 1, end - start - 1);
  }
  while (end < line.size() && line[end] != ',' && line[end] != '}') ++end;
  if (end == start) return std::nullopt;
  return line.substr(start, end - start);
}

inline std::optional<double> number(std::string_view line, std::string_view key, double lo, double hi) {
  auto text = field(line, key);
  if (!text || text->size() > 40) return std::nullopt;
  char buf[48];
  std::memcpy(buf, text->data(), text->size());
  buf[text->size()] = 0;
  char* end = nullptr;
  double v = std::strtod(buf, &end);
  if (end != buf + text->size() || !std::isfinite(v) || v < lo || v > hi) return std::nullopt;
  return v;
}

inline std::optional<bool> boolean(std::string_view line, std::string_view key) {
  auto text = field(line, key);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  return std::nullopt;
}

/// A beat as the bridge needs it.
struct Beat {
  double hostTime;   // CLOCK_MONOTONIC (s): when the beat sounds
  double tempo;      // BPM
  bool predicted;    // sent ahead: the tracker is locked
  int beatInBar;     // 1 ... meter
  int meter;
  bool operatorBar;  // bar 1 is where the operator said (`downbeat`)
  double seq;        // the daemon's beat sequence number (a hole: a beat lost on the way)
};

/// What one line says.
struct Line {
  enum Kind { beatLine, statusLine, downbeatLine, otherLine, badLine } kind = otherLine;
  Beat beat{};
  bool locked = true, gate = true;  // status (older daemons: absent, taken as true)
};

inline Line parse(std::string_view text) {
  Line out;
  auto event = field(text, "event");
  if (text.empty() || text.front() != '{' || !event) {
    out.kind = Line::badLine;
    return out;
  }
  if (*event == "beat") {
    auto host = number(text, "host_time", 0, 1e9);
    auto tempo = number(text, "tempo", 1, 1000);
    auto predicted = boolean(text, "predicted");
    if (!host || !tempo || !predicted) {
      out.kind = Line::badLine;
      return out;
    }
    auto meter = number(text, "meter", 1, 64).value_or(4);
    auto inBar = number(text, "beat_in_bar", 1, 64).value_or(0);
    auto source = field(text, "bar_source");
    auto seq = number(text, "seq", 0, 1e15).value_or(0);
    out.kind = Line::beatLine;
    out.beat = Beat{*host, *tempo, *predicted, int(inBar), int(meter), source && *source == "operator", seq};
  } else if (*event == "status") {
    out.kind = Line::statusLine;
    out.locked = boolean(text, "locked").value_or(true);
    out.gate = boolean(text, "gate").value_or(true);
  } else if (*event == "notice" && field(text, "kind") == std::optional<std::string_view>("control")
             && field(text, "command") == std::optional<std::string_view>("downbeat")
             && field(text, "result") == std::optional<std::string_view>("applied")) {
    out.kind = Line::downbeatLine;
  }
  return out;
}

}  // namespace tactus_link
