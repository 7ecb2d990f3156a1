// The space reserve of a data directory: a file of allocated blocks that `medseal serve` gives
// back to the filesystem when the disk fills (server/disk_guard.h), so that the small access
// entries every read must commit (DESIGN.md 3, "A read") still fit while record writes are refused.
//
// Behind an interface so a test can play a full disk without filling one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "util/status.h"

namespace medseal::storage {

inline constexpr const char* kDiskReserveFile = "disk.reserve";

class Volume {
 public:
  virtual ~Volume() = default;
  // Bytes an unprivileged writer can still allocate on the volume (statvfs: f_bavail * f_frsize).
  virtual Result<uint64_t> free_bytes() = 0;
  // Makes the reserve exactly `bytes` of allocated blocks (never a sparse file), durable: the file
  // and its directory are fsynced. kIoError when the blocks cannot be had (a full volume); then no
  // reserve is left behind.
  virtual Status create_reserve(uint64_t bytes) = 0;
  // Gives the reserve's blocks back (the file is deleted, the directory fsynced). OK without one.
  virtual Status release_reserve() = 0;
};

// The volume holding directory `dir`, with its reserve in dir/disk.reserve (posix_fallocate: on
// copy-on-write filesystems such as btrfs or ZFS allocated blocks are no promise of room).
std::unique_ptr<Volume> directory_volume(std::string dir);

}  // namespace medseal::storage
