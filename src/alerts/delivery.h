// Delivery from the outbox (outbox.h) to one destination: a thread that hands the destination
// every alert after its cursor, in order, acknowledging each once delivered, and retries a failed
// delivery with exponential backoff until it succeeds or the worker stops. At-least-once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "alerts/alert.h"
#include "alerts/outbox.h"
#include "util/status.h"

namespace medseal::alerts {

// Where alerts are delivered: a webhook, a syslog server, the ledger.
class Destination {
 public:
  virtual ~Destination() = default;
  // The outbox cursor's key: stable across restarts ("webhook http://...", "ledger").
  virtual std::string name() const = 0;
  // How logs and /metrics name it: without secrets a URL may carry (a webhook's path, userinfo).
  virtual std::string label() const { return name(); }
  // Delivers one alert; ok only once the destination has it. Called from one thread.
  virtual Status deliver(const Alert& alert) = 0;
};

struct Backoff {
  std::chrono::milliseconds first{200};
  std::chrono::milliseconds max{30'000};
};

class DeliveryWorker {
 public:
  // Registers the destination's cursor and starts the thread. Both must outlive the worker.
  static Result<std::unique_ptr<DeliveryWorker>> start(Outbox& outbox, std::unique_ptr<Destination> destination,
                                                       Backoff backoff = {});
  ~DeliveryWorker();  // stops the thread; an alert being delivered is retried at the next start
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  // Something new is in the outbox.
  void wake();
  const std::string& label() const { return label_; }
  uint64_t delivered() const;  // alerts acknowledged by this worker
  uint64_t failures() const;   // failed delivery attempts

 private:
  DeliveryWorker(Outbox& outbox, std::unique_ptr<Destination> destination, Backoff backoff);
  void run();
  // Delivers what is pending; false if a delivery failed (then wait for the backoff).
  bool deliver_pending();
  // Waits for `how_long`, a wake() or stop; false once stopping.
  bool wait(std::chrono::milliseconds how_long, bool until_woken);

  Outbox& outbox_;
  std::unique_ptr<Destination> destination_;
  std::string name_, label_;
  Backoff backoff_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  uint64_t delivered_ = 0, failures_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace medseal::alerts
