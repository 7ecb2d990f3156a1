// Background WAL checkpoints for the SQLite store, internal to storage/sqlite.
//
// In WAL mode every committed byte is written twice: into the WAL at commit (fsynced by the
// store's sync() before the commit is acknowledged: the durability point), and later into the
// database file by a checkpoint. SQLite's automatic
// checkpoint runs inside the committing thread and stalls every ~1000 pages' commit for tens of
// milliseconds. Here the writer only signals once kBackgroundCheckpointFrames new frames have
// piled up, and a thread with its own connection copies them while the next batches are built and
// committed. Copying after every commit cost a WAL and a database fdatasync per commit and copied
// pages that the next commits rewrite (the tiles, the indexes' last leaves): ~8% of an HTTP read's
// CPU. The bound keeps a full disk's freed reserve for new entries rather than for frames waiting
// to be copied (disk_full_test: 30,000 recorded reads fit in it with this bound; coalescing to
// 1,024 frames or 50 ms left room for 137).
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
  // New WAL frames (1 MiB of 8 KiB pages) that wake the background thread.
  static constexpr int kBackgroundCheckpointFrames = 128;
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
  int signalled_frames_ = 0;  // the WAL's size at the last signal; the writer's thread only
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace medseal::storage::sqlite
