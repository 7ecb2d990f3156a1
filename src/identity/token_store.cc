#include "identity/token_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "util/clock.h"
#include "util/file_io.h"
#include "util/strict_json.h"

namespace medseal::identity {
namespace {

constexpr std::string_view kTokenPrefix = "mst_";
constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretChars = 43;  // base64url of 32 bytes, unpadded
constexpr size_t kMaxFileBytes = 64 << 20;
constexpr size_t kMaxLineBytes = 1024;
constexpr size_t kMaxAdminTokenFileBytes = 256;
// An unknown token looks at the file at most this often, so a flood of bad tokens costs one map
// lookup each; a token issued elsewhere is found at most this long after it was written.
constexpr std::chrono::nanoseconds kRecheckInterval = std::chrono::milliseconds(100);

Status io_error(const std::string& what, const std::string& path) {
  return Status::io(what + " " + path + ": " + std::strerror(errno));
}

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool well_formed(std::string_view token) {
  if (token.size() != kTokenPrefix.size() + kSecretChars || !token.starts_with(kTokenPrefix)) return false;
  for (char c : token.substr(kTokenPrefix.size())) {
    if (!is_base64url_char(c)) return false;
  }
  return true;
}

// "mst_" + base64url (RFC 4648 section 5, no padding) of 32 fresh random bytes.
std::string new_token() {
  uint8_t secret[kSecretBytes];
  crypto::random_bytes(secret, sizeof secret);
  std::string text = crypto::base64_encode(std::string_view(reinterpret_cast<const char*>(secret), sizeof secret));
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return std::string(kTokenPrefix) + text;
}

// Tokens are found by their hash, so the lookup's timing says nothing about the token's bytes.
std::string token_hash(std::string_view token) { return hex_encode(crypto::sha256(token)); }

std::string format_line(const std::string& hash, const Identity& who, uint64_t created_ms) {
  nlohmann::ordered_json line;
  line["sha256"] = hash;
  line["name"] = who.name;
  line["role"] = std::string(role_name(who.role));
  line["patient"] = who.patient;
  line["created"] = created_ms;
  return line.dump() + "\n";
}

struct TokenLine {
  std::string hash;
  Identity who;
};

const std::string* string_member(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

Result<TokenLine> parse_line(std::string_view line) {
  if (line.size() > kMaxLineBytes) return Status::invalid("longer than " + std::to_string(kMaxLineBytes) + " bytes");
  Result<nlohmann::json> json = parse_strict_json(line, 1);
  if (!json) return json.status();
  const nlohmann::json& j = *json;
  const std::string* hash = j.is_object() ? string_member(j, "sha256") : nullptr;
  const std::string* name = hash ? string_member(j, "name") : nullptr;
  const std::string* role = name ? string_member(j, "role") : nullptr;
  const std::string* patient = role ? string_member(j, "patient") : nullptr;
  auto created = j.is_object() ? j.find("created") : j.end();
  if (!patient || created == j.end() || !created->is_number_unsigned() || j.size() != 5) {
    return Status::invalid("not exactly {sha256, name, role, patient, created} with their types");
  }
  if (!is_sha256_hex(*hash)) return Status::invalid("sha256 is not 64 lower-case hex digits");
  Result<Role> parsed_role = parse_role(*role);
  if (!parsed_role) return parsed_role.status();
  Identity who{*name, *parsed_role, *patient};
  MEDSEAL_RETURN_IF_ERROR(check_identity(who));
  return TokenLine{*hash, std::move(who)};
}

using TokenMap = std::unordered_map<std::string, Identity>;  // by the token's hex SHA-256

Result<TokenMap> parse_token_file(std::string_view text, const std::string& path) {
  TokenMap tokens;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    ++line_number;
    const std::string where = path + " line " + std::to_string(line_number) + ": ";
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) return Status::invalid(where + "no newline at its end (a cut-short write?)");
    Result<TokenLine> line = parse_line(text.substr(start, end - start));
    if (!line) return Status::invalid(where + line.status().message());
    if (!tokens.emplace(line->hash, std::move(line->who)).second) {
      return Status::invalid(where + "the same token hash appears twice");
    }
    start = end + 1;
  }
  return tokens;
}

// What identifies one content of the file: it is only appended to, so a new line changes the size.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size,
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// The whole of an open file that only its owner may use (others may neither add a token nor learn
// who holds one), of at most `max_bytes`; `*st` is the file's status as it was read.
Result<std::string> read_private_file(const Fd& fd, const std::string& path, size_t max_bytes,
                                      struct stat* st) {
  if (::fstat(fd.get(), st) != 0) return io_error("cannot stat", path);
  MEDSEAL_RETURN_IF_ERROR(check_private_file(*st, path));
  return read_bounded(fd, path, max_bytes);
}

struct Snapshot {
  TokenMap tokens;
  FileStamp stamp;
};

// Reads and parses the whole file under a shared lock, so a line being appended is never seen
// half-written.
Result<Snapshot> read_token_file(const std::string& path, bool create) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | (create ? O_CREAT : 0), 0600));
  if (!fd.ok()) return io_error("cannot open", path);
  if (::flock(fd.get(), LOCK_SH) != 0) return io_error("cannot lock", path);
  struct stat st {};
  Result<std::string> text = read_private_file(fd, path, kMaxFileBytes, &st);
  if (!text) return text.status();
  Result<TokenMap> tokens = parse_token_file(*text, path);
  if (!tokens) return tokens.status();
  return Snapshot{std::move(*tokens), stamp_of(st)};
}

// Appends one line under an exclusive lock and makes it durable. A failed write is cut back off,
// so the file never keeps half a line.
Status append_line(const std::string& path, std::string_view line) {
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

Status fsync_parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return fsync_dir(dir.empty() ? "." : dir);
}

class FileTokenStore final : public TokenStore {
 public:
  FileTokenStore(std::string path, Snapshot snapshot)
      : path_(std::move(path)), stamp_(snapshot.stamp), tokens_(std::move(snapshot.tokens)) {}

  Result<std::string> issue(const Identity& who) override {
    MEDSEAL_RETURN_IF_ERROR(check_identity(who));
    std::string token = new_token();
    std::string hash = token_hash(token);
    std::lock_guard file_lock(file_mu_);
    MEDSEAL_RETURN_IF_ERROR(append_line(path_, format_line(hash, who, system_clock().now_ms())));
    std::unique_lock lock(map_mu_);
    tokens_.emplace(std::move(hash), who);
    return token;
  }

  Result<Identity> authenticate(std::string_view token) override {
    if (!well_formed(token)) return Status::not_found("not a medseal token");
    const std::string hash = token_hash(token);
    if (std::optional<Identity> who = find(hash)) return *who;
    if (recheck_due()) {
      reloading_ = true;
      reload_if_changed();
      reloading_ = false;
    } else if (reloading_.load()) {
      std::lock_guard wait_for_reload(file_mu_);  // the re-read may hold this very token
    } else {
      return Status::not_found("unknown token");
    }
    if (std::optional<Identity> who = find(hash)) return *who;
    return Status::not_found("unknown token");
  }

 private:
  std::optional<Identity> find(const std::string& hash) const {
    std::shared_lock lock(map_mu_);
    auto it = tokens_.find(hash);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
  }

  // True for one caller per kRecheckInterval.
  bool recheck_due() {
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    int64_t next = next_recheck_.load(std::memory_order_relaxed);
    if (now < next) return false;
    return next_recheck_.compare_exchange_strong(next, now + kRecheckInterval.count());
  }

  void reload_if_changed() {
    std::lock_guard file_lock(file_mu_);
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0 || stamp_of(st) == stamp_) return;
    // A file damaged since it was opened is not guessed at: the tokens read before stay valid
    // and nothing new is accepted until it parses again.
    Result<Snapshot> snapshot = read_token_file(path_, false);
    if (!snapshot) return;
    stamp_ = snapshot->stamp;
    std::unique_lock lock(map_mu_);
    tokens_ = std::move(snapshot->tokens);
  }

  const std::string path_;
  std::mutex file_mu_;  // orders this process's appends and re-reads; guards stamp_
  FileStamp stamp_;     // of the file content tokens_ was read from
  mutable std::shared_mutex map_mu_;
  TokenMap tokens_;
  std::atomic<int64_t> next_recheck_{0};  // steady_clock ticks
  std::atomic<bool> reloading_{false};     // a miss waits for a re-read in progress
};

Result<std::string> read_admin_token(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok() && errno == ENOENT) return Status::not_found(path + " does not exist");
  if (!fd.ok()) return io_error("cannot open", path);
  struct stat st {};
  Result<std::string> text = read_private_file(fd, path, kMaxAdminTokenFileBytes, &st);
  if (!text) return text.status();
  if (!text->empty() && text->back() == '\n') text->pop_back();
  if (!well_formed(*text)) return Status::invalid(path + " does not hold a token");
  return text;
}

// Writes `content` to a new file at `path` (mode 0600) all at once: a temporary file, fsynced,
// then linked into place, which fails rather than overwrites if `path` appeared meanwhile.
Status write_new_private_file(const std::string& path, std::string_view content) {
  std::string temp = path + ".tmp-XXXXXX";
  Fd fd(::mkstemp(temp.data()));
  if (!fd.ok()) return io_error("cannot create a temporary file for", path);
  Status s = ::fchmod(fd.get(), 0600) == 0 ? Status::ok() : io_error("cannot chmod", temp);
  if (s) s = write_all(fd.get(), content, temp);
  if (s && ::fsync(fd.get()) != 0) s = io_error("cannot fsync", temp);
  if (s && ::link(temp.c_str(), path.c_str()) != 0) {
    s = errno == EEXIST ? Status::conflict(path + " appeared meanwhile") : io_error("cannot create", path);
  }
  ::unlink(temp.c_str());
  if (s) s = fsync_parent_dir(path);
  return s;
}

}  // namespace

Result<std::unique_ptr<TokenStore>> TokenStore::open(const std::string& path) {
  struct stat st {};
  const bool absent = ::stat(path.c_str(), &st) != 0 && errno == ENOENT;
  Result<Snapshot> snapshot = read_token_file(path, true);
  if (!snapshot) return snapshot.status();
  if (absent) MEDSEAL_RETURN_IF_ERROR(fsync_parent_dir(path));
  return std::unique_ptr<TokenStore>(std::make_unique<FileTokenStore>(path, std::move(*snapshot)));
}

Result<std::string> ensure_admin_token(TokenStore& tokens, const std::string& token_path) {
  Result<std::string> existing = read_admin_token(token_path);
  if (existing || existing.status().code() != Code::kNotFound) return existing;
  Result<std::string> token = tokens.issue(Identity{"admin", Role::kAdmin, ""});
  if (!token) return token.status();
  Status written = write_new_private_file(token_path, *token + "\n");
  if (written.code() == Code::kConflict) return read_admin_token(token_path);
  if (!written) return written;
  return token;
}

}  // namespace medseal::identity
