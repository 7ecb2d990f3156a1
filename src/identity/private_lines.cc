#include "identity/private_lines.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/file_io.h"

namespace medseal::identity {
namespace {

Status io_error(const std::string& what, const std::string& path) {
  return Status::io(what + " " + path + ": " + std::strerror(errno));
}

FileStamp stamp_of(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size,
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace

FileStamp stamp_of_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return stamp_of(st);
}

Result<std::string> read_private_lines(const std::string& path, bool create, size_t max_bytes, FileStamp* stamp) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | (create ? O_CREAT : 0), 0600));
  if (!fd.ok()) return io_error("cannot open", path);
  if (::flock(fd.get(), LOCK_SH) != 0) return io_error("cannot lock", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("cannot stat", path);
  MEDSEAL_RETURN_IF_ERROR(check_private_file(st, path));
  *stamp = stamp_of(st);
  return read_bounded(fd, path, max_bytes);
}

Status for_each_line(std::string_view text, const std::string& path,
                     const std::function<Status(std::string_view line)>& parse_line) {
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    ++line_number;
    const std::string where = path + " line " + std::to_string(line_number) + ": ";
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) return Status::invalid(where + "no newline at its end (a cut-short write?)");
    Status parsed = parse_line(text.substr(start, end - start));
    if (!parsed) return Status::invalid(where + parsed.message());
    start = end + 1;
  }
  return Status::ok();
}

Status append_private_line(const std::string& path, std::string_view line) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.ok()) return io_error("cannot open", path);
  if (::flock(fd.get(), LOCK_EX) != 0) return io_error("cannot lock", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("cannot stat", path);
  Status s = check_private_file(st, path);
  if (s) s = write_all(fd.get(), line, path);
  if (s && ::fsync(fd.get()) != 0) s = io_error("cannot fsync", path);
  if (!s && ::ftruncate(fd.get(), st.st_size) != 0) s = io_error("cannot cut back", path);
  ::flock(fd.get(), LOCK_UN);
  return s;
}

const std::string* json_string(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

const nlohmann::json* json_unsigned(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) return nullptr;
  return &*it;
}

Status fsync_parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return fsync_dir(dir.empty() ? "." : dir);
}

}  // namespace medseal::identity
