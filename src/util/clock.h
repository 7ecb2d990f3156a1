// Time behind an interface, so tests control it (after LevelDB's Env).
#pragma once

#include <cstdint>

namespace medseal {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_ms() const = 0;  // Unix time in milliseconds
};

// The system's real-time clock.
const Clock& system_clock();

}  // namespace medseal
