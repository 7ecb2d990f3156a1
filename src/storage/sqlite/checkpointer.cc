#include "storage/sqlite/checkpointer.h"

#include <algorithm>

namespace medseal::storage::sqlite {

Result<std::unique_ptr<Checkpointer>> Checkpointer::start(const std::string& path, Db& writer,
                                                          uint32_t chunk_bytes) {
  Result<Db> db = Db::open(path, false);
  if (!db) return db.status();
  db->set_chunk_size(chunk_bytes);  // the checkpointer is what extends the database file
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
  bool copy_here = false;
  bool wake = false;
  {
    std::lock_guard lock(c->mu_);
    // A WAL that restarted is smaller than at the last commit: all of it is new.
    const bool restarted = frames < c->wal_frames_;
    const int before_commit = restarted ? 0 : c->wal_frames_;
    if (restarted) c->copied_frames_ = 0;
    c->frames_since_pass_ += frames - before_commit;
    c->wal_frames_ = frames;
    if (frames > kWriterCheckpointFrames) {
      // Copying here delays the next batch, so only when the thread has copied all but this
      // commit's frames and at most kWriterCopyFrames more (or the WAL is far too long);
      // otherwise the thread goes at once.
      copy_here = c->copied_frames_ + kWriterCopyFrames >= before_commit ||
                  frames > 2 * kWriterCheckpointFrames;
      c->urgent_ = !copy_here;
    }
    if (!copy_here) {
      // Wake the thread when it starts waiting out the delay, and when it should not wait.
      wake = !c->pending_ || c->urgent_ || c->frames_since_pass_ >= kCoalesceFrames;
      c->pending_ = true;
    }
  }
  if (copy_here) {
    // Copies what the background thread has not (SQLITE_BUSY if it is at it right now: the next
    // commit tries again), so the next transaction can restart the WAL.
    int copied = 0;
    if (sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, &copied) ==
        SQLITE_OK) {
      c->note_copied(copied);
    }
  }
  if (wake) c->cv_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::note_copied(int frames) {
  std::lock_guard lock(mu_);
  copied_frames_ = std::max(copied_frames_, frames);
}

void Checkpointer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return pending_ || stopping_; });
    cv_.wait_for(lock, kCoalesceDelay, [&] {
      return frames_since_pass_ >= kCoalesceFrames || urgent_ || stopping_;
    });
    if (stopping_) return;  // closing the writer folds the WAL in
    pending_ = false;
    urgent_ = false;
    frames_since_pass_ = 0;
    lock.unlock();
    // PASSIVE never blocks the writer or readers. Failures (a full disk, say) are not the
    // writer's: committed data is durable in the WAL, and the next checkpoint tries again.
    int copied = 0;
    if (sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  &copied) == SQLITE_OK) {
      note_copied(copied);
    }
    lock.lock();
  }
}

}  // namespace medseal::storage::sqlite
