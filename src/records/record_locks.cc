#include "records/record_locks.h"

#include <algorithm>
#include <functional>

namespace medseal::records {

RecordLocks::Held::~Held() {
  // Release in reverse order of acquisition.
  while (!locks_.empty()) locks_.pop_back();
}

RecordLocks::Held RecordLocks::lock(const std::vector<std::string_view>& keys) {
  std::vector<size_t> stripes;
  stripes.reserve(keys.size());
  for (std::string_view key : keys) stripes.push_back(std::hash<std::string_view>{}(key) % kStripes);
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  Held held;
  held.locks_.reserve(stripes.size());
  for (size_t s : stripes) held.locks_.emplace_back(stripes_[s]);
  return held;
}

}  // namespace medseal::records
