// Idle database sessions (a connection with its prepared statements) kept for reuse, shared by the
// store drivers. Opening a session costs more than most reads, so a read borrows an idle one and
// gives it back; when none is idle another is opened, so concurrent reads never wait for each
// other. At most `max_idle` are kept.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "util/status.h"

namespace medseal::storage {

template <typename Session>
class SessionPool {
 public:
  using Opener = std::function<Result<std::unique_ptr<Session>>()>;
  SessionPool(size_t max_idle, Opener open) : max_idle_(max_idle), open_(std::move(open)) {}

  // Runs fn on an idle session (opening one if none is idle) and keeps it for the next caller.
  // fn returns a Status or Result; an opening failure is returned in its place.
  template <typename Fn>
  auto with(Fn&& fn) -> decltype(fn(std::declval<Session&>())) {
    std::unique_ptr<Session> s;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        s = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!s) {
      Result<std::unique_ptr<Session>> opened = open_();
      if (!opened) return opened.status();
      s = std::move(*opened);
    }
    auto result = fn(*s);
    std::lock_guard lock(mu_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(s));
    return result;
  }

 private:
  const size_t max_idle_;
  const Opener open_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Session>> idle_;
};

}  // namespace medseal::storage
