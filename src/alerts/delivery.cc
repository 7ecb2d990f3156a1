#include "alerts/delivery.h"

#include <algorithm>

#include "server/json_log.h"

namespace medseal::alerts {
namespace {

constexpr size_t kPendingBatch = 64;
// With nothing to do, the outbox is looked at again this often anyway (a wake() is never lost,
// this only bounds the effect of a bug or of another writer).
constexpr std::chrono::milliseconds kIdlePoll{5000};

}  // namespace

Result<std::unique_ptr<DeliveryWorker>> DeliveryWorker::start(Outbox& outbox, std::unique_ptr<Destination> destination,
                                                              Backoff backoff) {
  auto registered = outbox.register_destination(destination->name());
  if (!registered) return registered.status();
  std::unique_ptr<DeliveryWorker> worker(new DeliveryWorker(outbox, std::move(destination), backoff));
  worker->thread_ = std::thread([w = worker.get()] { w->run(); });
  return worker;
}

DeliveryWorker::DeliveryWorker(Outbox& outbox, std::unique_ptr<Destination> destination, Backoff backoff)
    : outbox_(outbox), destination_(std::move(destination)), name_(destination_->name()),
      label_(destination_->label()),
      backoff_(backoff) {}

DeliveryWorker::~DeliveryWorker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

uint64_t DeliveryWorker::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}

uint64_t DeliveryWorker::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void DeliveryWorker::run() {
  std::chrono::milliseconds delay = backoff_.first;
  while (true) {
    if (deliver_pending()) {
      delay = backoff_.first;
      if (!wait(kIdlePoll, true)) return;
    } else {
      if (!wait(delay, false)) return;
      delay = std::min(delay * 2, backoff_.max);
    }
  }
}

bool DeliveryWorker::deliver_pending() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return true;
      woken_ = false;  // whatever was added before this read is seen by it
    }
    auto pending = outbox_.pending(name_, kPendingBatch);
    if (!pending) {
      server::log_json("error", "alert outbox unreadable", {{"destination", label_}, {"error", pending.status().message()}});
      return false;
    }
    if (pending->empty()) return true;
    for (const StoredAlert& stored : *pending) {
      Status sent = destination_->deliver(stored.alert);
      if (sent) sent = outbox_.acknowledge(name_, stored.seq);
      std::lock_guard lock(mu_);
      if (!sent) {
        ++failures_;
        server::log_json("warning", "alert delivery failed",
                         {{"destination", label_}, {"id", stored.alert.id}, {"error", sent.message()}});
        return false;
      }
      ++delivered_;
      if (stopping_) return true;
    }
  }
}

bool DeliveryWorker::wait(std::chrono::milliseconds how_long, bool until_woken) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, how_long, [&] { return stopping_ || (until_woken && woken_); });
  return !stopping_;
}

}  // namespace medseal::alerts
