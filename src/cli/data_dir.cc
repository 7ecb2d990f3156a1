#include "cli/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace medseal::cli {

Status make_private_dir(const std::string& path) {
  if (path.empty()) return Status::invalid("the directory name is empty");
  if (::mkdir(path.c_str(), 0700) == 0) return Status::ok();
  if (errno != EEXIST) return Status::io("cannot create " + path + ": " + std::strerror(errno));
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return Status::invalid(path + " is not a directory");
  return Status::ok();
}

Result<DataDir> DataDir::open(const std::string& path) {
  MEDSEAL_RETURN_IF_ERROR(make_private_dir(path));
  std::string lock_path = (std::filesystem::path(path) / kLockFile).string();
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io("cannot open " + lock_path + ": " + std::strerror(errno));
  // flock is released by the kernel when the process dies, so a crash never leaves a stale lock.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::precondition("another medseal process (a running server?) holds " + path);
    }
    return Status::io("cannot lock " + lock_path + ": " + std::strerror(err));
  }
  return DataDir(path, fd);
}

DataDir::DataDir(DataDir&& other) noexcept : path_(std::move(other.path_)), lock_fd_(other.lock_fd_) {
  other.lock_fd_ = -1;
}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::string DataDir::file(std::string_view name) const {
  return (std::filesystem::path(path_) / name).string();
}

}  // namespace medseal::cli
