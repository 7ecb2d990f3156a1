// What the sentinel tests share (sentinel_test.cc on SQLite, sentinel_pg_test.cc on PostgreSQL):
// the records they write, matching alerts, and waiting for one with its latency printed.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "alerts/alert.h"
#include "records/service.h"
#include "support/eventually.h"

namespace medseal::testing {

inline records::Caller sentinel_caller(identity::Role role, std::string name) {
  return records::Caller{identity::Identity{std::move(name), role, ""}, "TREAT"};
}

inline std::string patient_body(const std::string& id = "") {
  const std::string with_id = id.empty() ? "" : R"("id":")" + id + R"(",)";
  return R"({"resourceType":"Patient",)" + with_id +
         R"("name":[{"family":"Tamm"}],"birthDate":"1980-01-01"})";
}

inline std::string observation_body(const std::string& patient) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},)"
         R"("subject":{"reference":")" + patient + R"("}})";
}

// Creates a resource through `service`; sets *name to "Type/id/_history/1" and, for the first
// patient, *first_patient to "Patient/id". Returns its ledger index (0, failing the test, if the
// create failed).
inline uint64_t create_resource(records::RecordService& service, const records::Caller& who,
                                const std::string& type, const std::string& body,
                                std::string* name, std::string* first_patient) {
  uint64_t index = 0;
  auto w = service.create(who, type, body, &index);
  EXPECT_TRUE(w.is_ok()) << w.status().to_string();
  if (!w) return 0;
  *name = type + "/" + w->version.id + "/_history/1";
  if (type == "Patient" && first_patient->empty()) *first_patient = type + "/" + w->version.id;
  return w->version.ledger_index;
}

inline bool names(const alerts::Alert& a, const std::string& resource) {
  return std::find(a.resources.begin(), a.resources.end(), resource) != a.resources.end();
}

inline bool has_index(const alerts::Alert& a, uint64_t index) {
  return std::find(a.indexes.begin(), a.indexes.end(), index) != a.indexes.end();
}

// Waits up to `bound` for an alert of `kind` in `sink` that `match` accepts; prints the latency
// since `since` and returns it in ms, or fails the test listing every alert and returns -1.
inline double await_alert(const alerts::MemorySink& sink, const std::string& kind,
                          const std::function<bool(const alerts::Alert&)>& match,
                          std::chrono::seconds bound, std::chrono::steady_clock::time_point since) {
  const bool seen = eventually(
      [&] {
        for (const alerts::Alert& a : sink.alerts()) {
          if (a.kind == kind && match(a)) return true;
        }
        return false;
      },
      bound);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
  std::printf("[ latency ] %-18s %7.1f ms\n", kind.c_str(), ms);
  if (!seen) {
    std::string all;
    for (const alerts::Alert& a : sink.alerts()) all += alerts::to_json(a).dump() + "\n";
    ADD_FAILURE() << "no " << kind << " alert; got:\n" << all;
    return -1;
  }
  return ms;
}

}  // namespace medseal::testing
