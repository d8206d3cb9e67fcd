// tactus-link: GPL-2.0-or-later (see link/LICENSE).
#pragma once
// How the bridge steers a Link session from tracked beats: pure arithmetic on beats and the
// session's beat/tempo, so the rules read (and test) apart from Link and the socket.
#include <algorithm>
#include <cmath>

#include "EventLine.hpp"

namespace tactus_link {

struct SteeringConfig {
  double quantum = 4;          // beats per Link bar (--quantum); the daemon's meter when --meter
  bool useMeter = false;       // the quantum follows the operator's meter
  double tempoThreshold = 0.1; // BPM: smaller tempo moves are not sent to the session
  double tempoSlew = 1.0;      // BPM per beat at most, except on a new lock
  int tempoBeats = 8;          // beat periods the session tempo is measured over
  double phaseGain = 0.5;      // share of the phase error corrected per beat
  double maxCorrection = 0.04; // beats per beat at most: a follow never jumps (quarter-beat rule)
};

/// What to do to the session at a beat.
struct Steer {
  bool act = false;            // false: leave the session alone
  bool setTempo = false;
  double tempo = 0;
  bool force = false;          // map `beat` to the beat's time
  double beat = 0;
  bool hard = false;           // a lock change or an operator downbeat (may jump)
  double phaseError = 0;       // session beat − nearest target beat, before the correction (beats)
};

class Steering {
 public:
  explicit Steering(SteeringConfig config) : config_(config) {}

  double quantum() const { return quantum_; }
  bool steering() const { return steering_; }

  /// The daemon lost the beat or the gate closed: stop steering (peers keep the last tempo).
  void release() { steering_ = false; }
  /// The operator set bar 1: the next beat aligns the bar phase.
  void downbeat() { alignBar_ = true; }

  /// The beat `b` (tracked) against the session's beat at its time and its tempo.
  Steer onBeat(const Beat& b, double sessionBeat, double sessionTempo) {
    Steer s;
    if (!b.predicted) {  // found, not predicted: not (or no longer) locked
      steering_ = false;
      count_ = 0;
      return s;
    }
    if (config_.useMeter && b.meter >= 1) quantum_ = b.meter;
    else quantum_ = config_.quantum;
    s.act = true;
    // The tracker moved to another tempo or phase while staying locked (a new song, another
    // metrical level, the off-beat): for the session that is a lock change too, taken once it
    // holds for 2 beats (tempo off by over 4 %) or 3 beats (phase off by over a quarter beat).
    double tempo = beatsTempo(b);
    double offset = sessionBeat - std::round(sessionBeat);
    tempoOff_ = std::fabs(tempo / sessionTempo - 1) > 0.04 ? tempoOff_ + 1 : 0;
    phaseOff_ = std::fabs(offset) > 0.25 ? phaseOff_ + 1 : 0;
    bool moved = steering_ && (tempoOff_ >= 2 || phaseOff_ >= 3);
    s.hard = !steering_ || alignBar_ || (b.operatorBar && !operatorBar_) || moved;
    if (s.hard) tempoOff_ = phaseOff_ = 0;
    operatorBar_ = b.operatorBar;
    // The bar phase is set only by the operator's bar 1: a counted bar is a guess, and moving
    // every peer's bar on a guess is worse than leaving the session's bars where they are.
    double target;
    if (s.hard && b.operatorBar && b.beatInBar >= 1) {
      double p = std::fmod(double(b.beatInBar - 1), quantum_);
      target = p + quantum_ * std::round((sessionBeat - p) / quantum_);
    } else {
      target = std::round(sessionBeat);
    }
    s.phaseError = sessionBeat - target;
    if (s.hard) {
      s.setTempo = true;
      s.tempo = tempo;
      s.force = true;
      s.beat = target;
      steering_ = true;
      alignBar_ = false;
      return s;
    }
    double dt = tempo - sessionTempo;
    if (std::fabs(dt) > config_.tempoThreshold) {
      s.setTempo = true;
      s.tempo = sessionTempo + std::clamp(dt, -config_.tempoSlew, config_.tempoSlew);
    }
    double correction = std::clamp(config_.phaseGain * s.phaseError, -config_.maxCorrection, config_.maxCorrection);
    if (std::fabs(correction) > 1e-4) {
      s.force = true;
      s.beat = sessionBeat - correction;
    }
    return s;
  }

 private:
  SteeringConfig config_;
  double quantum_ = 4;
  bool steering_ = false;
  bool alignBar_ = false;
  bool operatorBar_ = false;
  static constexpr int window = 33;
  double times_[window] = {}, seqs_[window] = {};
  int count_ = 0, next_ = 0;
  int tempoOff_ = 0, phaseOff_ = 0;

  /// The tempo the beats keep: their periods over the last `tempoBeats` (by sequence number, so
  /// a lost beat counts), which is what keeps peers in phase. Every tempo change ripples to all
  /// peers, so this steadier measure is sent, not each beat's tempo estimate. Until enough
  /// beats, or when the two disagree by over 4 % (a new tempo), the beat's own tempo.
  double beatsTempo(const Beat& b) {
    times_[next_] = b.hostTime;
    seqs_[next_] = b.seq;
    next_ = (next_ + 1) % window;
    count_ = std::min(count_ + 1, window);
    int span = std::min(count_, std::min(config_.tempoBeats, window - 1) + 1);
    if (span < 5) return b.tempo;
    int first = (next_ - span + window) % window, last = (next_ - 1 + window) % window;
    double periods = seqs_[last] - seqs_[first], seconds = times_[last] - times_[first];
    if (periods < 1 || seconds <= 0) return b.tempo;
    double tempo = 60 * periods / seconds;
    return std::fabs(tempo / b.tempo - 1) > 0.04 ? b.tempo : tempo;
  }
};

}  // namespace tactus_link
