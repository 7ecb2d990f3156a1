#include "util/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace medseal {

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::io("cannot write " + path + ": " + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Result<std::string> read_bounded(const Fd& fd, const std::string& path, size_t max_bytes) {
  std::string text;
  char buf[4096];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(fd.get(), buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::io("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > max_bytes) return Status::invalid(path + " is too large");
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
}

Status check_private_file(const struct stat& st, const std::string& path) {
  if (!S_ISREG(st.st_mode)) return Status::precondition(path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return Status::precondition(path + " is open to group or others: run chmod 600 " + path);
  }
  return Status::ok();
}

Status fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return Status::io("cannot fsync directory " + dir + ": " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace medseal
