// Alert sinks a mirror needs besides alerts::StderrSink: a durable JSON-lines file and a fan-out.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "alerts/alert.h"

namespace medseal::mirror {

// Appends {"alert": to_json(alert)} as one line to a file and fsyncs it before raise() returns,
// so an alert survives a crash right after it. A write failure is reported on stderr (the alert
// still reaches the other sinks).
class JsonLinesFileSink : public alerts::AlertSink {
 public:
  explicit JsonLinesFileSink(std::string path) : path_(std::move(path)) {}
  void raise(const alerts::Alert& alert) override;

 private:
  std::mutex mu_;
  std::string path_;
};

// Raises each alert on every sink, in order.
class FanOutSink : public alerts::AlertSink {
 public:
  explicit FanOutSink(std::vector<alerts::AlertSink*> sinks) : sinks_(std::move(sinks)) {}
  void raise(const alerts::Alert& alert) override {
    for (alerts::AlertSink* sink : sinks_) sink->raise(alert);
  }

 private:
  std::vector<alerts::AlertSink*> sinks_;
};

}  // namespace medseal::mirror
