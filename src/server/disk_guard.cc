#include "server/disk_guard.h"

#include <algorithm>
#include <utility>

#include "server/json_log.h"

namespace medseal::server {
namespace {

constexpr std::string_view kRefusal =
    "disk low: the data directory is full, so record writes are refused until space is freed; "
    "reads go on; retry later";

std::string gauge(const char* name, const char* type, const char* help, uint64_t value) {
  return "# HELP " + std::string(name) + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         std::to_string(value) + "\n";
}

}  // namespace

bool is_disk_low_refusal(const Status& status) {
  return status.code() == Code::kIoError && status.message() == kRefusal;
}

DiskGuard::DiskGuard(ledger::Ledger& inner, std::unique_ptr<storage::Volume> volume, alerts::AlertSink& alerts,
                     DiskGuardOptions options)
    : inner_(inner), volume_(std::move(volume)), alerts_(alerts), options_(options) {}

Result<std::unique_ptr<DiskGuard>> DiskGuard::start(ledger::Ledger& inner, std::unique_ptr<storage::Volume> volume,
                                                    alerts::AlertSink& alerts, DiskGuardOptions options) {
  std::unique_ptr<DiskGuard> guard(new DiskGuard(inner, std::move(volume), alerts, options));
  Status made = guard->volume_->create_reserve(options.reserve_bytes);
  if (made) return guard;
  // No room for the reserve: the disk is full already. Anything else is the operator's to fix.
  Result<uint64_t> free = guard->volume_->free_bytes();
  if (!free) return free.status();
  if (*free >= options.reserve_bytes) return made;
  std::lock_guard lock(guard->mu_);
  guard->enter_low(*free, "no room for the disk reserve at start");
  return guard;
}

Result<uint64_t> DiskGuard::append(ledger::AppendRequest request) {
  MEDSEAL_RETURN_IF_ERROR(admit(request.record.has_value()));
  Result<uint64_t> index = inner_.append(std::move(request));
  if (!index) note_failure(index.status());
  return index;
}

Result<uint64_t> DiskGuard::append_all(std::vector<ledger::AppendRequest> requests) {
  const bool records = std::any_of(requests.begin(), requests.end(),
                                   [](const ledger::AppendRequest& r) { return r.record.has_value(); });
  MEDSEAL_RETURN_IF_ERROR(admit(records));
  Result<uint64_t> first = inner_.append_all(std::move(requests));
  if (!first) note_failure(first.status());
  return first;
}

Status DiskGuard::admit(bool carries_record) {
  if (!carries_record || !low_.load()) return Status::ok();
  std::lock_guard lock(mu_);
  maybe_leave_low();
  if (!low_.load()) return Status::ok();
  ++counts_.refused_writes;
  return Status::io(std::string(kRefusal));
}

void DiskGuard::note_failure(const Status& failure) {
  if (failure.code() != Code::kIoError || low_.load()) return;
  Result<uint64_t> free = volume_->free_bytes();
  if (!free || *free >= options_.low_bytes) return;  // not a full disk: that write alone failed
  std::lock_guard lock(mu_);
  if (!low_.load()) enter_low(*free, "a commit failed for lack of space");
}

void DiskGuard::enter_low(uint64_t free_bytes, std::string_view why) {
  // The room first: the alert's own outbox row and ledger entry need some of it.
  Status released = volume_->release_reserve();
  low_.store(true);
  ++counts_.episodes;
  counts_.free_bytes = free_bytes;
  last_look_ms_ = options_.clock->now_ms();
  nlohmann::json fields = {{"why", why}, {"free_bytes", free_bytes}, {"reserve_released", released.is_ok()}};
  if (!released) fields["error"] = released.message();
  log_json("error", "disk low: record writes refused, reads served from the reserve", std::move(fields));
  alerts::Alert alert = alerts::make_alert(
      alerts::Severity::kCritical, "disk-full",
      "the data directory's disk is full: record writes answer 503 until space is freed; reads go on");
  alert.evidence = {{"free_bytes", free_bytes},
                    {"reserve_bytes", options_.reserve_bytes},
                    {"reserve_released", released.is_ok()},
                    {"why", why}};
  alerts_.raise(alert);
}

void DiskGuard::maybe_leave_low() {
  const uint64_t now = options_.clock->now_ms();
  if (now - last_look_ms_ < static_cast<uint64_t>(options_.recheck.count())) return;
  last_look_ms_ = now;
  Result<uint64_t> free = volume_->free_bytes();
  if (!free) return;
  counts_.free_bytes = *free;
  if (*free < options_.reserve_bytes + options_.resume_bytes) return;
  Status made = volume_->create_reserve(options_.reserve_bytes);
  if (!made) return;  // someone took the room meanwhile: look again later
  low_.store(false);
  log_json("info", "disk space is back: record writes admitted again", {{"free_bytes", *free}});
}

DiskState DiskGuard::state() {
  std::lock_guard lock(mu_);
  if (low_.load()) {
    maybe_leave_low();
  } else if (Result<uint64_t> free = volume_->free_bytes()) {
    counts_.free_bytes = *free;
  }
  DiskState s = counts_;
  s.low = low_.load();
  return s;
}

std::string DiskGuard::metrics_text() {
  const DiskState s = state();
  return gauge("medseal_disk_low", "gauge", "1 while record writes are refused for lack of disk space", s.low ? 1 : 0) +
         gauge("medseal_disk_free_bytes", "gauge", "Free bytes on the data directory's volume, beyond the reserve",
               s.free_bytes) +
         gauge("medseal_disk_low_episodes_total", "counter", "Times the disk filled since start", s.episodes) +
         gauge("medseal_disk_low_refused_writes_total", "counter", "Record writes refused for lack of disk space",
               s.refused_writes);
}

}  // namespace medseal::server
