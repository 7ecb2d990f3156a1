// Progress for long work, on stderr and only when stderr is a terminal (logs and pipes stay clean).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace medseal::cli {

class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();  // ends the line if anything was drawn
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Redraws "label: done/total (p%)", or "label: done" when total is 0, at most ~10 times a second.
  void update(uint64_t done, uint64_t total = 0);
  // Draws the final count and ends the line, so output that follows starts on a fresh line.
  void finish(uint64_t done, uint64_t total = 0);

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  void draw(uint64_t done, uint64_t total);
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace medseal::cli
