// Background WAL checkpoints for the SQLite store, internal to storage/sqlite.
//
// In WAL mode every committed byte is written twice: into the WAL at commit (and fsynced: that is
// the durability point), and later into the database file by a checkpoint. SQLite's automatic
// checkpoint runs inside the committing thread and stalls every ~1000 pages' commit for tens of
// milliseconds. Here the writer only signals after each commit and a thread with its own
// connection copies frames while the next batch is being built and committed.
//
// The WAL restarts from its beginning only when a write transaction starts with every frame
// copied, which a checkpointer racing a busy writer rarely achieves. So once the WAL passes
// kWriterCheckpointFrames the writer also checkpoints itself after its commit: cheap, because the
// background thread has already copied nearly everything, and it bounds the WAL.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/sqlite/sqlite_db.h"
#include "util/status.h"

namespace medseal::storage::sqlite {

class Checkpointer {
 public:
  // Frames in the WAL beyond which the writer checkpoints itself (16 MiB of 8 KiB pages), and the
  // size the WAL file is truncated back to after it restarts.
  static constexpr int kWriterCheckpointFrames = 2048;
  static constexpr int64_t kWalSizeLimit = 64 << 20;

  // Opens its own connection to `path` and installs the signal on `writer`.
  static Result<std::unique_ptr<Checkpointer>> start(const std::string& path, Db& writer);
  ~Checkpointer();  // stops the thread; the writer must still be open
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  explicit Checkpointer(Db db) : db_(std::move(db)) {}
  static int on_commit(void* self, sqlite3* writer, const char* schema, int frames);
  void run();

  Db db_;
  sqlite3* writer_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace medseal::storage::sqlite
