#include "ledger/request_queue.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>

namespace medseal::ledger {

void Pending::wake_one(std::atomic<uint32_t>* word) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void Pending::sleep_while_zero(std::atomic<uint32_t>* word) {
  // Returns at once if the word is no longer 0 (EAGAIN), on a wake-up, or spuriously (EINTR).
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
}

bool RequestQueue::push(Pending* p) {
  p->arrival = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (closed_) return false;
  // Wake the sequencer only when it has something new to decide: the first request starts a
  // window; a full batch, or the last of the previous batch's callers, ends one. Everything else
  // would be a wasted context switch.
  const bool first = queue_.empty();
  const bool was_short = queued_entries_ < max_entries_;
  queue_.push_back(p);
  queued_entries_ += p->entries.size();
  const bool all_callers_back = queue_.size() == last_batch_callers_;
  // Under the lock: once it is released the sequencer may commit and answer this request, and the
  // ledger (with this queue) may be destroyed, so nothing here may touch the queue after it.
  if (first || all_callers_back || (was_short && queued_entries_ >= max_entries_)) cv_.notify_one();
  return true;
}

std::vector<Pending*> RequestQueue::next_batch() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return {};
  // The window runs from the first request's arrival: a request that waited through the previous
  // commit has already had its window, and goes at once.
  const auto deadline = queue_.front()->arrival + window_;
  cv_.wait_until(lock, deadline, [&] {
    return queued_entries_ >= max_entries_ || closed_ ||
           (last_batch_callers_ > 0 && queue_.size() >= last_batch_callers_);
  });
  return take_locked();
}

std::vector<Pending*> RequestQueue::take_locked() {
  std::vector<Pending*> batch;
  size_t entries = 0;
  // The first Pending always goes, even one larger than a batch; the rest only while they fit.
  while (!queue_.empty()) {
    Pending* p = queue_.front();
    if (!batch.empty() && entries + p->entries.size() > max_entries_) break;
    batch.push_back(p);
    entries += p->entries.size();
    queue_.pop_front();
  }
  queued_entries_ -= entries;
  last_batch_callers_ = batch.size();
  return batch;
}

void CommittedQueue::push(Committed c) {
  {
    std::lock_guard lock(mu_);
    queued_.push_back(std::move(c));
    ++unanswered_;
  }
  cv_.notify_all();  // the syncer; the sequencer, the only pusher, is not waiting
}

std::vector<Committed> CommittedQueue::take_all() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !queued_.empty() || closed_; });
  std::vector<Committed> taken = std::exchange(queued_, {});
  cv_.notify_all();  // the sequencer may wait in wait_until_taken
  return taken;
}

void CommittedQueue::wait_until_taken() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queued_.empty(); });
}

void CommittedQueue::finished(size_t n) {
  {
    std::lock_guard lock(mu_);
    unanswered_ -= n;
  }
  cv_.notify_all();
}

void CommittedQueue::wait_until_idle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return unanswered_ == 0; });
}

void CommittedQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

void RequestQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace medseal::ledger
