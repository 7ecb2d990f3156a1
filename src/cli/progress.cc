#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace medseal::cli {

Progress::Progress(std::string label) : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  if (drawn_) std::fputc('\n', stderr);
}

void Progress::update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  bool finished = total != 0 && done == total;
  if (drawn_ && !finished && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  draw(done, total);
}

void Progress::finish(uint64_t done, uint64_t total) {
  if (!enabled_ || (!drawn_ && done == 0)) return;
  draw(done, total);
  std::fputc('\n', stderr);
  drawn_ = false;
}

void Progress::draw(uint64_t done, uint64_t total) {
  drawn_ = true;
  if (total == 0) {
    std::fprintf(stderr, "\r%s: %llu", label_.c_str(), static_cast<unsigned long long>(done));
  } else {
    std::fprintf(stderr, "\r%s: %llu/%llu (%llu%%)", label_.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 static_cast<unsigned long long>(done * 100 / total));
  }
  std::fflush(stderr);
}

}  // namespace medseal::cli
