// tactus-link: GPL-2.0-or-later (see link/LICENSE).
#pragma once
// The daemon stamps beats on CLOCK_MONOTONIC; Link's clock on Linux is CLOCK_MONOTONIC_RAW
// (ableton/platforms/Config.hpp: platforms::linux::ClockMonotonicRaw). The two run apart by
// NTP's slew (ppm), so the offset is measured again at every beat, between two readings.
#include <chrono>
#include <cstdint>
#include <time.h>

namespace tactus_link {

inline int64_t nanos(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

/// CLOCK_MONOTONIC seconds to Link's microseconds (CLOCK_MONOTONIC_RAW), by the narrowest of
/// three bracketed readings.
inline std::chrono::microseconds linkTime(double monotonicSeconds) {
  int64_t best = 0, width = INT64_MAX;
  for (int i = 0; i < 3; ++i) {
    int64_t a = nanos(CLOCK_MONOTONIC), raw = nanos(CLOCK_MONOTONIC_RAW), b = nanos(CLOCK_MONOTONIC);
    if (b - a < width) {
      width = b - a;
      best = raw - (a + (b - a) / 2);
    }
  }
  return std::chrono::microseconds(int64_t(std::llround((monotonicSeconds * 1e9 + double(best)) / 1e3)));
}

}  // namespace tactus_link
