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

namespace {

// The encoded size of the entry at the front of `data`, flags byte included; kInternal if the
// data is malformed.
Result<size_t> entry_size(std::string_view data) {
  const Status damaged = Status::internal("stored extras row is malformed");
  const auto flags = static_cast<uint8_t>(data[0]);
  if (flags == kErased) return size_t{1};
  if (flags != kPresent || data.size() < 1 + kSaltBytes + 4) return damaged;
  const uint32_t len = get_be32(data.substr(1 + kSaltBytes, 4));
  if (data.size() - 1 - kSaltBytes - 4 < len) return damaged;
  return 1 + kSaltBytes + 4 + size_t{len};
}

// Where the entry at `offset` starts in `data`; kNotFound if the row holds fewer entries.
Result<size_t> entry_start(std::string_view data, uint64_t offset) {
  size_t pos = 0;
  for (uint64_t i = 0; i < offset; ++i) {
    if (pos == data.size()) break;
    Result<size_t> n = entry_size(data.substr(pos));
    if (!n) return n.status();
    pos += *n;
  }
  if (pos == data.size()) return Status::not_found("no extras stored for this entry");
  return pos;
}

}  // namespace

Result<EntryExtra> decode_extra_at(std::string_view data, uint64_t offset) {
  Result<size_t> start = entry_start(data, offset);
  if (!start) return start.status();
  data.remove_prefix(*start);
  Result<size_t> size = entry_size(data);
  if (!size) return size.status();
  if (*size == 1) return Status::not_found("the entry's extras were erased");
  const uint32_t len = get_be32(data.substr(1 + kSaltBytes, 4));
  return EntryExtra{std::string(data.substr(1, kSaltBytes)),
                    std::string(data.substr(1 + kSaltBytes + 4, len))};
}

Result<std::string> erase_extra_at(std::string_view data, uint64_t offset) {
  Result<size_t> start = entry_start(data, offset);
  if (!start) return start.status();
  Result<size_t> size = entry_size(data.substr(*start));
  if (!size) return size.status();
  std::string out;
  out.reserve(data.size() - *size + 1);
  out.append(data.substr(0, *start));
  out.push_back(static_cast<char>(kErased));
  out.append(data.substr(*start + *size));
  return out;
}

}  // namespace medseal::storage
