// Alert sinks beside the stderr and memory ones of alert.h: a durable JSON-lines file and a fan-out.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "alerts/alert.h"

namespace medseal::alerts {

// Appends {"alert": to_json(alert)} as one line to a file and fsyncs it before raise() returns,
// so an alert survives a crash right after it. A write failure is reported on stderr (the alert
// still reaches the other sinks).
class JsonLinesFileSink : public AlertSink {
 public:
  explicit JsonLinesFileSink(std::string path) : path_(std::move(path)) {}
  void raise(const Alert& alert) override;

 private:
  std::mutex mu_;
  std::string path_;
};

// Raises each alert on every sink, in order.
class FanOutSink : public AlertSink {
 public:
  explicit FanOutSink(std::vector<AlertSink*> sinks) : sinks_(std::move(sinks)) {}
  void raise(const Alert& alert) override {
    for (AlertSink* sink : sinks_) sink->raise(alert);
  }

 private:
  std::vector<AlertSink*> sinks_;
};

}  // namespace medseal::alerts
