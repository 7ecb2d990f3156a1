// Reads on a full disk (issue 9 section 3; README "Reliability"). Every read is a ledger entry
// committed before the answer leaves (DESIGN.md 3), so on a full disk reads would fail as soon as
// writes do. The guard keeps a space reserve (storage/disk_reserve.h) and, when the disk fills,
// spends it on reads:
//
// - A ledger whose appends go through the guard (it decorates the record service's ledger). When
//   an append fails with a storage error (kIoError: SQLITE_FULL, ENOSPC) while the volume has less
//   than `low_bytes` free, the guard enters disk-low: it deletes the reserve, raises ONE critical
//   "disk-full" alert (not an integrity kind: alerts/pipeline.h), and from then on refuses every
//   append carrying a record version at once (kIoError, is_disk_low_refusal) without reaching the
//   store. Every other append (access, access-denied, erasure) goes on and fits in the freed room.
//   A failure while the volume still has room (one huge write) changes nothing.
// - It leaves disk-low when the volume has `reserve_bytes + resume_bytes` free again (checked at
//   most every `recheck`, on a write or on state()): it recreates the reserve, then admits writes.
//   No restart needed. A reserve that does not fit at start starts the guard in disk-low.
// - Alerts go to `alerts` on the transition only; the guard never sees their ledger appends (the
//   alert pipeline appends to the ledger beneath), so a failing alert cannot raise another.
//
// Thread-safe. Reads never wait for the guard's lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "ledger/ledger.h"
#include "storage/disk_reserve.h"
#include "util/clock.h"
#include "util/status.h"

namespace medseal::server {

struct DiskGuardOptions {
  uint64_t reserve_bytes = 16 << 20;      // the reserve file (serve --disk-reserve)
  uint64_t low_bytes = 1 << 20;           // a storage error with less free than this: the disk is full
  uint64_t resume_bytes = 4 << 20;        // free room beyond the reserve needed to admit writes again
  std::chrono::milliseconds recheck{1000};  // how often disk-low looks at the free space
  const Clock* clock = &system_clock();
};

// What /healthz and /metrics report.
struct DiskState {
  bool low = false;
  uint64_t free_bytes = 0;      // at the last look
  uint64_t refused_writes = 0;  // record writes refused in disk-low, since start
  uint64_t episodes = 0;        // times disk-low was entered, since start
};

class DiskGuard : public ledger::Ledger {
 public:
  // Creates the reserve on `volume` (kept by the guard) and decorates `inner` (which must outlive
  // it). Fails only on a volume error other than lack of room.
  static Result<std::unique_ptr<DiskGuard>> start(ledger::Ledger& inner, std::unique_ptr<storage::Volume> volume,
                                                  alerts::AlertSink& alerts, DiskGuardOptions options = {});

  Result<uint64_t> append(ledger::AppendRequest request) override;
  Result<uint64_t> append_all(std::vector<ledger::AppendRequest> requests) override;
  storage::LogHead head() const override { return inner_.head(); }
  Result<std::string> read_tile(const merkle::TileId& id) override { return inner_.read_tile(id); }
  Result<std::string> receipt(uint64_t index) override { return inner_.receipt(index); }

  // The state now; in disk-low, first looks whether space is back (at most every `recheck`).
  DiskState state();
  // Prometheus text: medseal_disk_low, medseal_disk_free_bytes, medseal_disk_low_episodes_total,
  // medseal_disk_low_refused_writes_total.
  std::string metrics_text();

 private:
  DiskGuard(ledger::Ledger& inner, std::unique_ptr<storage::Volume> volume, alerts::AlertSink& alerts,
            DiskGuardOptions options);
  Status admit(bool carries_record);
  void note_failure(const Status& failure);
  void enter_low(uint64_t free_bytes, std::string_view why);  // mu_ held
  void maybe_leave_low();                                     // mu_ held

  ledger::Ledger& inner_;
  std::unique_ptr<storage::Volume> volume_;
  alerts::AlertSink& alerts_;
  const DiskGuardOptions options_;
  std::mutex mu_;
  std::atomic<bool> low_{false};  // changed under mu_; read without it on the way of every append
  uint64_t last_look_ms_ = 0;
  DiskState counts_;
};

// True for the refusal a write gets in disk-low (the API answers 503, code "transient").
bool is_disk_low_refusal(const Status& status);

}  // namespace medseal::server
