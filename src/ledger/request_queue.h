// The queue between appending threads and the sequencer with the group-commit window, and the
// hand-off from the sequencer to the syncer.
//
// A caller enqueues one Pending (one append or append_all) and blocks on it; the sequencer takes
// the queued Pendings in batches: it waits for the first, then gathers more until the window that
// started when the first arrived has passed, or the batch holds max_entries entries, or as many
// callers wait as the previous batch served. The last rule is for closed-loop clients (a server's
// connections, each waiting for its answer before it sends more): once they have all sent their
// next request, waiting out the window only adds latency and caps throughput at
// callers / window. A Pending is never split, so an append_all gets consecutive indexes from one
// commit.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "storage/store.h"
#include "util/bytes.h"
#include "util/status.h"

namespace medseal::ledger {

// An entry made ready by the appending thread (salt, commitment, leaf bytes and hash), so that
// the sequencer, the one serial step, only has to integrate it into the tree.
struct PreparedEntry {
  std::string leaf;  // the 42-byte ledger entry
  Hash leaf_hash{};
  storage::EntryExtra extra;  // salt and statement
  uint64_t time_ms = 0;       // the entry's time, as in `leaf`
  // Written with the entry in its batch's transaction (AppendRequest).
  std::optional<storage::RecordVersion> record;
  std::vector<std::string> keys;
  std::optional<storage::Erasure> erasure;
};

// One append or append_all, on its caller's stack while the caller waits.
//
// The hand-off is one futex word per caller rather than a mutex and condition variable: with
// those, finish() had to notify while holding the lock (the caller may destroy the object as soon
// as it can see the result), so the woken caller went straight back to sleep on that mutex and
// the sequencer had to wake it a second time; about five futex calls per append. Now the
// sequencer makes one FUTEX_WAKE per caller and the caller at most one FUTEX_WAIT.
struct Pending {
  std::vector<PreparedEntry> entries;
  std::chrono::steady_clock::time_point arrival;

  // Called once by the sequencer. The caller may return (and destroy this object) as soon as it
  // sees done_, so nothing of the object is touched after the store: the wake-up names only the
  // address, which FUTEX_WAKE hashes without reading (a stale wake-up of whatever later waits at
  // that address is spurious, and every futex wait loops on its own condition).
  void finish(Result<uint64_t> r) {
    result_ = std::move(r);
    std::atomic<uint32_t>* word = &done_;
    word->store(1, std::memory_order_release);
    wake_one(word);
  }

  // Blocks the caller until finish().
  Result<uint64_t> wait() {
    while (done_.load(std::memory_order_acquire) == 0) sleep_while_zero(&done_);
    return std::move(result_);
  }

 private:
  static void wake_one(std::atomic<uint32_t>* word);
  static void sleep_while_zero(std::atomic<uint32_t>* word);

  std::atomic<uint32_t> done_{0};  // 1 once finished; the futex word
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "a futex word is 32 bits");
  Result<uint64_t> result_{Status::internal("append was never committed")};
};

class RequestQueue {
 public:
  RequestQueue(std::chrono::microseconds window, size_t max_entries)
      : window_(window), max_entries_(max_entries == 0 ? 1 : max_entries) {}

  // Enqueues `p` (the caller then waits on it). False once the queue is closed.
  bool push(Pending* p);
  // Blocks for the next batch, as described above. Empty only when the queue is closed and drained.
  std::vector<Pending*> next_batch();
  // Refuses further pushes; next_batch still hands out what is queued.
  void close();

 private:
  std::vector<Pending*> take_locked();

  const std::chrono::microseconds window_;
  const size_t max_entries_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;
  size_t queued_entries_ = 0;
  size_t last_batch_callers_ = 0;  // 0 until a batch was taken: then only the window decides
  bool closed_ = false;
};

// A batch the sequencer has committed but not yet made durable: its callers wait for the syncer.
struct Committed {
  std::vector<Pending*> batch;
  storage::LogHead head;  // what the store holds after this batch
};

// The hand-off from the sequencer to the syncer, in commit order.
class CommittedQueue {
 public:
  void push(Committed c);
  // Blocks until something was pushed, then takes all of it. Empty only when closed and drained.
  std::vector<Committed> take_all();
  // Blocks until the syncer has taken everything pushed (its flush covers it or is about to).
  void wait_until_taken();
  // The syncer has answered `n` batches it took; wait_until_idle() returns once all are.
  void finished(size_t n);
  void wait_until_idle();
  void close();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Committed> queued_;
  size_t unanswered_ = 0;  // pushed and not yet finished
  bool closed_ = false;
};

}  // namespace medseal::ledger
