#include "storage/sqlite/checkpointer.h"

namespace medseal::storage::sqlite {

Result<std::unique_ptr<Checkpointer>> Checkpointer::start(const std::string& path, Db& writer) {
  Result<Db> db = Db::open(path, false);
  if (!db) return db.status();
  // A connection only checkpoints once its pager has opened the WAL, which its first read does;
  // before that, sqlite3_wal_checkpoint_v2 silently does nothing.
  MEDSEAL_RETURN_IF_ERROR(db->exec("SELECT count(*) FROM sqlite_master", "open the WAL"));
  std::unique_ptr<Checkpointer> c(new Checkpointer(std::move(*db)));
  const std::string limit = "PRAGMA journal_size_limit = " + std::to_string(kWalSizeLimit);
  Result<std::string> set = writer.query_text(limit.c_str(), "set WAL size limit");
  if (!set) return set.status();
  c->writer_ = writer.get();
  // Replaces SQLite's automatic checkpoint, which uses the same hook.
  sqlite3_wal_hook(c->writer_, &Checkpointer::on_commit, c.get());
  c->thread_ = std::thread([p = c.get()] { p->run(); });
  return c;
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// Runs in the writer's thread right after each commit, with the WAL's size in frames.
int Checkpointer::on_commit(void* self, sqlite3* writer, const char* schema, int frames) {
  auto* c = static_cast<Checkpointer*>(self);
  if (frames > kWriterCheckpointFrames) {
    // Copies what the background thread has not (SQLITE_BUSY if it is at it right now: the next
    // commit tries again), so the next transaction can restart the WAL.
    sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  if (frames < c->signalled_frames_) c->signalled_frames_ = 0;  // the WAL restarted
  if (frames - c->signalled_frames_ < kBackgroundCheckpointFrames) return SQLITE_OK;
  c->signalled_frames_ = frames;
  {
    std::lock_guard lock(c->mu_);
    c->pending_ = true;
  }
  c->cv_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return pending_ || stopping_; });
    if (stopping_) return;
    pending_ = false;
    lock.unlock();
    // PASSIVE never blocks the writer or readers. Failures (a full disk, say) are not the
    // writer's: committed data is durable in the WAL, and the next checkpoint tries again.
    sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
}

}  // namespace medseal::storage::sqlite
