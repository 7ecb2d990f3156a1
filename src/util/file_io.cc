#include "util/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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

Result<std::string> read_file_bounded(const std::string& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) {
    if (errno == ENOENT) return Status::not_found(path + " does not exist");
    return Status::io("cannot open " + path + ": " + std::strerror(errno));
  }
  return read_bounded(fd, path, max_bytes);
}

Status replace_file(const std::string& path, std::string_view bytes, bool durable) {
  const std::string tmp = path + ".tmp";
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.ok()) return Status::io("cannot create " + tmp + ": " + std::strerror(errno));
    MEDSEAL_RETURN_IF_ERROR(write_all(fd.get(), bytes, tmp));
    if (durable && ::fsync(fd.get()) != 0) {
      return Status::io("cannot fsync " + tmp + ": " + std::strerror(errno));
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::io("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  if (!durable) return Status::ok();
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return fsync_dir(dir.empty() ? "." : dir);
}

}  // namespace medseal
