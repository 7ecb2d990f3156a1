// Serializes writers of the same record: a writer holds its record's lock from reading the current
// version until its new version is durable, so exactly one writer wins each version number.
// Records hash onto a fixed set of stripes; a request locking several records (a transaction)
// takes their stripes in ascending order, so two such requests cannot deadlock.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <string_view>
#include <vector>

namespace medseal::records {

class RecordLocks {
 public:
  static constexpr size_t kStripes = 1024;

  // Holds the stripes of a set of records until destroyed.
  class Held {
   public:
    Held(Held&&) = default;
    ~Held();

   private:
    friend class RecordLocks;
    Held() = default;
    std::vector<std::unique_lock<std::mutex>> locks_;
  };

  // Locks the records "type/id" in `keys` (duplicates allowed).
  Held lock(const std::vector<std::string_view>& keys);

 private:
  std::array<std::mutex, kStripes> stripes_;
};

}  // namespace medseal::records
