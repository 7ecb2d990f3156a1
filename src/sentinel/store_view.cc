#include "sentinel/store_view.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "crypto/sha256.h"
#include "storage/extras_codec.h"

namespace medseal::sentinel {
namespace {

using storage::sqlite::Db;
using storage::sqlite::Stmt;

constexpr char kHead[] = "SELECT size, checkpoint FROM log_head WHERE id = 0";
constexpr char kTile[] =
    "SELECT width, bytes, nodes FROM tiles WHERE entries = ?1 AND level = ?2 AND idx = ?3";
// Runs never cross a multiple of 256, so a run holding `from` starts at or after from - from % 256.
constexpr char kExtras[] =
    "SELECT first_idx, count, data FROM entry_extras WHERE first_idx >= ?1 AND first_idx < ?2 "
    "ORDER BY first_idx";
constexpr char kRecords[] =
    "SELECT ledger_idx, type, id, version, updated_ms, deleted, compartment, bytes "
    "FROM record_versions WHERE ledger_idx >= ?1 AND ledger_idx < ?2 ORDER BY ledger_idx";
constexpr char kKeys[] =
    "SELECT key, idx FROM entry_keys WHERE idx >= ?1 AND idx < ?2 ORDER BY idx, key";
constexpr char kLevel[] = "SELECT idx FROM tiles WHERE entries = 0 AND level = ?1 ORDER BY idx";

int64_t as_sql(uint64_t v) { return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v); }

}  // namespace

Result<StoreView> StoreView::open(const std::string& path) {
  StoreView view;
  view.path_ = path;
  MEDSEAL_RETURN_IF_ERROR(view.reopen());
  Result<ino_t> inode = view.inode();
  if (!inode) return inode.status();
  view.inode_ = *inode;
  return view;
}

Result<bool> StoreView::replaced() {
  Result<ino_t> inode = this->inode();
  if (!inode || *inode == inode_) return false;  // a file briefly missing is retried next poll
  inode_ = *inode;
  MEDSEAL_RETURN_IF_ERROR(reopen());
  return true;
}

Result<bool> StoreView::may_have_committed() {
  Result<uint32_t> frames = wal_frames();
  return !frames || *frames != 0;
}

Status StoreView::reopen() {
  version_ = Stmt();
  head_ = Stmt();
  tile_ = Stmt();
  extras_ = Stmt();
  records_ = Stmt();
  keys_ = Stmt();
  levels_ = Stmt();
  Result<Db> db = Db::open(path_, false);
  if (!db) return db.status();
  db_ = std::move(*db);
  // No mmap: the writer's checkpoints truncate the file, and a mapped page beyond its end is
  // SIGBUS; reads through read() cost about the same CPU here.
  return prepare();
}

Status StoreView::prepare() {
  const std::pair<Stmt*, const char*> all[] = {
      {&version_, "PRAGMA data_version"}, {&head_, kHead},       {&tile_, kTile},
      {&extras_, kExtras},                {&records_, kRecords}, {&keys_, kKeys},
      {&levels_, kLevel}};
  for (auto [stmt, sql] : all) {
    Result<Stmt> s = Stmt::prepare(db_, sql);
    if (!s) return s.status();
    *stmt = std::move(*s);
  }
  return Status::ok();
}

Result<int64_t> StoreView::data_version() {
  Result<bool> row = version_.start().step("read data_version");
  if (!row) return row.status();
  const int64_t v = *row ? version_.column_int(0) : 0;
  version_.start();
  return v;
}

Result<ino_t> StoreView::inode() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return Status::io("stat " + path_ + ": " + std::strerror(errno));
  }
  return st.st_ino;
}

namespace {

// A descriptor of the WAL index that is opened once and never closed: closing any descriptor of a
// file drops every POSIX lock the process holds on it, SQLite's own locks on the WAL index
// included (the server's writer's too, inside serve), and SQLite then misreads the index.
Result<int> wal_index_fd(const std::string& shm) {
  static std::mutex mu;
  static std::map<std::string, int> fds;
  std::lock_guard lock(mu);
  auto it = fds.find(shm);
  if (it != fds.end()) return it->second;
  const int fd = ::open(shm.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io("open " + shm + ": " + std::strerror(errno));
  fds.emplace(shm, fd);
  return fd;
}

}  // namespace

Result<uint32_t> StoreView::wal_frames() const {
  // SQLite's WalIndexHdr, in native byte order: iVersion, unused, iChange (u32 each), isInit,
  // bigEndCksum (u8), szPage (u16), then mxFrame (u32) at offset 16.
  constexpr off_t kMaxFrameOffset = 16;
  const std::string shm = path_ + "-shm";
  Result<int> fd = wal_index_fd(shm);
  if (!fd) return fd.status();
  uint32_t frames = 0;
  if (::pread(*fd, &frames, sizeof frames, kMaxFrameOffset) != sizeof frames) {
    return Status::io("read " + shm + ": short read");
  }
  return frames;
}

Status StoreView::begin_snapshot() { return db_.exec("BEGIN", "begin snapshot"); }

void StoreView::end_snapshot() {
  if (db_.in_transaction()) (void)db_.exec("COMMIT", "end snapshot");
}

Result<storage::LogHead> StoreView::head() {
  Result<bool> row = head_.start().step("read head");
  if (!row) return row.status();
  storage::LogHead h;
  if (*row) {
    h.size = static_cast<uint64_t>(head_.column_int(0));
    h.checkpoint = std::string(head_.column_blob(1));
  }
  head_.start();
  return h;
}

Result<std::optional<storage::StoredTile>> StoreView::tile(bool entries, uint8_t level,
                                                           uint64_t index) {
  Stmt& q = tile_.start().bind(1, entries ? 1 : 0).bind(2, level).bind(3, as_sql(index));
  Result<bool> row = q.step("read tile");
  if (!row) return row.status();
  if (!*row) return std::optional<storage::StoredTile>();
  storage::StoredTile t{static_cast<uint32_t>(q.column_int(0)), std::string(q.column_blob(1)), ""};
  bytes_read_ += t.bytes.size();
  q.start();
  return std::optional<storage::StoredTile>(std::move(t));
}

Result<std::vector<ExtrasRow>> StoreView::extras(uint64_t from, uint64_t to) {
  Stmt& q = extras_.start().bind(1, as_sql(from - from % storage::kExtrasRunLimit))
                .bind(2, as_sql(to));
  std::vector<ExtrasRow> out;
  for (;;) {
    Result<bool> row = q.step("read extras");
    if (!row) return row.status();
    if (!*row) break;
    out.push_back({static_cast<uint64_t>(q.column_int(0)), static_cast<uint64_t>(q.column_int(1)),
                   std::string(q.column_blob(2))});
    bytes_read_ += out.back().data.size();
  }
  return out;
}

Result<std::vector<RecordRow>> StoreView::records(uint64_t from, uint64_t to) {
  Stmt& q = records_.start().bind(1, as_sql(from)).bind(2, as_sql(to));
  std::vector<RecordRow> out;
  for (;;) {
    Result<bool> row = q.step("read records");
    if (!row) return row.status();
    if (!*row) break;
    RecordRow r;
    r.ledger_index = static_cast<uint64_t>(q.column_int(0));
    r.type = std::string(q.column_text(1));
    r.id = std::string(q.column_text(2));
    r.version = static_cast<uint64_t>(q.column_int(3));
    r.updated_ms = static_cast<uint64_t>(q.column_int(4));
    r.deleted = q.column_int(5) != 0;
    r.compartment = std::string(q.column_text(6));
    const std::string_view bytes = q.column_blob(7);
    r.bytes_size = bytes.size();
    r.bytes_sha256 = crypto::sha256(bytes);
    bytes_read_ += bytes.size() + r.type.size() + r.id.size() + r.compartment.size() + 40;
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<KeyRow>> StoreView::keys(uint64_t from, uint64_t to) {
  Stmt& q = keys_.start().bind(1, as_sql(from)).bind(2, as_sql(to));
  std::vector<KeyRow> out;
  for (;;) {
    Result<bool> row = q.step("read keys");
    if (!row) return row.status();
    if (!*row) break;
    out.push_back({std::string(q.column_text(0)), static_cast<uint64_t>(q.column_int(1))});
    bytes_read_ += out.back().key.size() + 8;
  }
  return out;
}

Result<std::vector<uint64_t>> StoreView::tile_indexes(uint8_t level) {
  Stmt& q = levels_.start().bind(1, level);
  std::vector<uint64_t> out;
  for (;;) {
    Result<bool> row = q.step("read tile index");
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(static_cast<uint64_t>(q.column_int(0)));
  }
  return out;
}

}  // namespace medseal::sentinel
