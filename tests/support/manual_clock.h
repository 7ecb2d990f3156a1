// A clock that tests set by hand.
#pragma once

#include <atomic>
#include <cstdint>

#include "util/clock.h"

namespace medseal::testing {

class ManualClock : public Clock {
 public:
  explicit ManualClock(uint64_t start_ms) : now_(start_ms) {}
  uint64_t now_ms() const override { return now_; }
  void set(uint64_t ms) { now_ = ms; }

 private:
  std::atomic<uint64_t> now_;
};

}  // namespace medseal::testing
