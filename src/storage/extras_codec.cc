#include "storage/extras_codec.h"

#include <algorithm>

namespace medseal::storage {
namespace {

constexpr uint8_t kPresent = 0x00;
constexpr uint8_t kErased = 0x01;
constexpr size_t kSaltBytes = 32;

void put_be32(std::string& out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, 4);
}

uint32_t get_be32(std::string_view in) {
  auto* p = reinterpret_cast<const uint8_t*>(in.data());
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

size_t encoded_size(std::span<const EntryExtra> extras) {
  size_t n = 0;
  for (const EntryExtra& e : extras) n += 1 + kSaltBytes + 4 + e.statement.size();
  return n;
}

Status append_extra(std::string& out, const EntryExtra& e) {
  if (e.salt.size() != kSaltBytes) return Status::invalid("an entry's salt is not 32 bytes");
  if (e.statement.size() > UINT32_MAX) return Status::invalid("a statement is over 4 GiB");
  out.push_back(static_cast<char>(kPresent));
  out.append(e.salt);
  put_be32(out, static_cast<uint32_t>(e.statement.size()));
  out.append(e.statement);
  return Status::ok();
}

}  // namespace

Result<std::vector<ExtrasRun>> encode_extras_runs(uint64_t first_index,
                                                  std::span<const EntryExtra> extras) {
  std::vector<ExtrasRun> runs;
  size_t pos = 0;
  while (pos < extras.size()) {
    const uint64_t index = first_index + pos;
    const uint64_t room = kExtrasRunLimit - index % kExtrasRunLimit;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(room, extras.size() - pos));
    ExtrasRun run{index, n, {}};
    auto slice = extras.subspan(pos, n);
    run.data.reserve(encoded_size(slice));
    for (const EntryExtra& e : slice) MEDSEAL_RETURN_IF_ERROR(append_extra(run.data, e));
    runs.push_back(std::move(run));
    pos += n;
  }
  return runs;
}

Result<EntryExtra> decode_extra_at(std::string_view data, uint64_t offset) {
  const Status damaged = Status::internal("stored extras row is malformed");
  for (uint64_t i = 0;; ++i) {
    if (data.empty()) return Status::not_found("no extras stored for this entry");
    const auto flags = static_cast<uint8_t>(data[0]);
    data.remove_prefix(1);
    if (flags == kErased) {
      if (i == offset) return Status::not_found("the entry's extras were erased");
      continue;
    }
    if (flags != kPresent || data.size() < kSaltBytes + 4) return damaged;
    const uint32_t len = get_be32(data.substr(kSaltBytes, 4));
    if (data.size() - kSaltBytes - 4 < len) return damaged;
    if (i == offset) {
      return EntryExtra{std::string(data.substr(0, kSaltBytes)),
                        std::string(data.substr(kSaltBytes + 4, len))};
    }
    data.remove_prefix(kSaltBytes + 4 + len);
  }
}

}  // namespace medseal::storage
