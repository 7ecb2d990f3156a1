// Waiting in tests for something another thread does (a background worker, a server).
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace medseal::testing {

// Polls `done` every few milliseconds until it is true or `limit` has passed; returns its last value.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return done();
}

}  // namespace medseal::testing
