#include "storage/disk_reserve.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "util/file_io.h"

namespace medseal::storage {
namespace {

class DirectoryVolume : public Volume {
 public:
  explicit DirectoryVolume(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/" + kDiskReserveFile) {}

  Result<uint64_t> free_bytes() override {
    struct statvfs st{};
    if (::statvfs(dir_.c_str(), &st) != 0) return Status::io("statvfs " + dir_ + ": " + std::strerror(errno));
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  Status create_reserve(uint64_t bytes) override {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::io("cannot open " + path_ + ": " + std::strerror(errno));
    Status made = allocate(fd, bytes);
    ::close(fd);
    if (!made) {
      ::unlink(path_.c_str());  // a partial allocation would hold room nobody counts on
      return made;
    }
    return fsync_dir(dir_);
  }

  Status release_reserve() override {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      return Status::io("cannot delete " + path_ + ": " + std::strerror(errno));
    }
    return fsync_dir(dir_);
  }

 private:
  // Emptied first, so that a larger reserve left by an earlier configuration shrinks to `bytes`.
  Status allocate(int fd, uint64_t bytes) {
    if (::ftruncate(fd, 0) != 0) return Status::io("cannot truncate " + path_ + ": " + std::strerror(errno));
    if (bytes > 0) {
      if (int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); rc != 0) {
        return Status::io("cannot reserve " + std::to_string(bytes) + " bytes in " + path_ + ": " + std::strerror(rc));
      }
    }
    if (::fsync(fd) != 0) return Status::io("cannot fsync " + path_ + ": " + std::strerror(errno));
    return Status::ok();
  }

  std::string dir_, path_;
};

}  // namespace

std::unique_ptr<Volume> directory_volume(std::string dir) { return std::make_unique<DirectoryVolume>(std::move(dir)); }

}  // namespace medseal::storage
