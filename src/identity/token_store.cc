#include "identity/token_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "identity/private_lines.h"
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

std::string format_token_line(const std::string& hash, const Identity& who, uint64_t created_ms,
                              uint64_t expires_ms) {
  nlohmann::ordered_json line;
  line["sha256"] = hash;
  line["name"] = who.name;
  line["role"] = std::string(role_name(who.role));
  line["patient"] = who.patient;
  line["created"] = created_ms;
  line["expires"] = expires_ms;
  return line.dump() + "\n";
}

std::string format_revocation_line(const std::string& hash, uint64_t at_ms) {
  nlohmann::ordered_json line;
  line["revoked"] = hash;
  line["at"] = at_ms;
  return line.dump() + "\n";
}

struct TokenRecord {
  Identity who;
  uint64_t created_ms = 0;
  uint64_t expires_ms = kNeverExpires;
  bool revoked = false;
  size_t order = 0;  // position in the file
};

using TokenMap = std::unordered_map<std::string, TokenRecord>;  // by the token's hex SHA-256

Status parse_revocation(const nlohmann::json& j, TokenMap& tokens) {
  const std::string* hash = json_string(j, "revoked");
  if (!hash || !json_unsigned(j, "at") || j.size() != 2) {
    return Status::invalid("not exactly {revoked, at} with their types");
  }
  auto it = tokens.find(*hash);
  if (it == tokens.end()) return Status::invalid("revokes a token not issued before it");
  it->second.revoked = true;
  return Status::ok();
}

Status parse_token(const nlohmann::json& j, TokenMap& tokens) {
  const std::string* hash = json_string(j, "sha256");
  const std::string* name = hash ? json_string(j, "name") : nullptr;
  const std::string* role = name ? json_string(j, "role") : nullptr;
  const std::string* patient = role ? json_string(j, "patient") : nullptr;
  const nlohmann::json* created = json_unsigned(j, "created");
  const nlohmann::json* expires = json_unsigned(j, "expires");
  // "expires" is absent from lines written before tokens expired: those never do.
  const size_t members = expires ? 6 : 5;
  if (!patient || !created || j.size() != members) {
    return Status::invalid("not exactly {sha256, name, role, patient, created[, expires]} with their types");
  }
  if (!is_sha256_hex(*hash)) return Status::invalid("sha256 is not 64 lower-case hex digits");
  Result<Role> parsed_role = parse_role(*role);
  if (!parsed_role) return parsed_role.status();
  Identity who{*name, *parsed_role, *patient};
  MEDSEAL_RETURN_IF_ERROR(check_identity(who));
  TokenRecord record{std::move(who), created->get<uint64_t>(), expires ? expires->get<uint64_t>() : kNeverExpires,
                     false, tokens.size()};
  if (!tokens.emplace(*hash, std::move(record)).second) return Status::invalid("the same token hash appears twice");
  return Status::ok();
}

Status parse_line(std::string_view line, TokenMap& tokens) {
  if (line.size() > kMaxLineBytes) return Status::invalid("longer than " + std::to_string(kMaxLineBytes) + " bytes");
  Result<nlohmann::json> json = parse_strict_json(line, 1);
  if (!json) return json.status();
  if (!json->is_object()) return Status::invalid("not a JSON object");
  if (json->contains("revoked")) return parse_revocation(*json, tokens);
  return parse_token(*json, tokens);
}

bool is_hex_prefix(std::string_view text) {
  if (text.size() < 8 || text.size() > 64) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

using TokenFile = WatchedLines<TokenMap>;

class FileTokenStore final : public TokenStore {
 public:
  FileTokenStore(std::unique_ptr<TokenFile> file, const Clock& clock) : file_(std::move(file)), clock_(clock) {}

  Result<std::string> issue(const Identity& who, uint64_t expires_ms) override {
    MEDSEAL_RETURN_IF_ERROR(check_identity(who));
    std::string token = new_token();
    std::string hash = token_hash(token);
    const uint64_t now = clock_.now_ms();
    std::lock_guard file_lock(file_->file_mutex());
    MEDSEAL_RETURN_IF_ERROR(append_private_line(file_->path(), format_token_line(hash, who, now, expires_ms)));
    file_->update([&](TokenMap& tokens) {
      const size_t order = tokens.size();
      tokens.emplace(std::move(hash), TokenRecord{who, now, expires_ms, false, order});
    });
    return token;
  }

  Result<Identity> authenticate(std::string_view token) override {
    if (!well_formed(token)) return Status::not_found("unknown token");
    const std::string hash = token_hash(token);
    // Looked at on hits too, so a revocation written by `medseal token revoke` takes effect.
    if (recheck_.due()) {
      reloading_ = true;
      {
        std::lock_guard file_lock(file_->file_mutex());
        (void)file_->refresh(false);  // a damaged file leaves what was read before in force
      }
      reloading_ = false;
    } else if (reloading_.load()) {
      std::lock_guard wait_for_reload(file_->file_mutex());  // the re-read may hold this very token
    }
    std::optional<TokenRecord> record = file_->read([&](const TokenMap& tokens) -> std::optional<TokenRecord> {
      auto it = tokens.find(hash);
      if (it == tokens.end()) return std::nullopt;
      return it->second;
    });
    if (!record) return Status::not_found("unknown token");
    if (record->revoked) return Status::not_found("token revoked");
    if (record->expires_ms != kNeverExpires && clock_.now_ms() >= record->expires_ms) {
      return Status::not_found("token expired");
    }
    return record->who;
  }

  Result<std::vector<std::string>> revoke(std::string_view id_or_name) override {
    std::lock_guard file_lock(file_->file_mutex());
    MEDSEAL_RETURN_IF_ERROR(file_->refresh(true));
    std::vector<std::string> hashes = file_->read([&](const TokenMap& tokens) { return matching(tokens, id_or_name); });
    if (hashes.empty()) return Status::not_found("no unrevoked token has that id or name");
    if (is_hex_prefix(id_or_name) && hashes.size() > 1) {
      return Status::invalid("the id prefix matches more than one token; give more digits");
    }
    std::string lines;
    for (const std::string& hash : hashes) lines += format_revocation_line(hash, clock_.now_ms());
    MEDSEAL_RETURN_IF_ERROR(append_private_line(file_->path(), lines));
    std::vector<std::string> ids;
    file_->update([&](TokenMap& tokens) {
      for (const std::string& hash : hashes) {
        tokens[hash].revoked = true;
        ids.push_back(hash.substr(0, kTokenIdChars));
      }
    });
    return ids;
  }

  Result<std::vector<TokenInfo>> list() override {
    std::lock_guard file_lock(file_->file_mutex());
    MEDSEAL_RETURN_IF_ERROR(file_->refresh(true));
    return file_->read([](const TokenMap& tokens) {
      std::vector<TokenInfo> out(tokens.size());
      for (const auto& [hash, r] : tokens) {
        out[r.order] = TokenInfo{hash.substr(0, kTokenIdChars), r.who, r.created_ms, r.expires_ms, r.revoked};
      }
      return out;
    });
  }

 private:
  // The hashes of the unrevoked tokens `id_or_name` names.
  static std::vector<std::string> matching(const TokenMap& tokens, std::string_view id_or_name) {
    std::vector<std::string> by_id, by_name;
    for (const auto& [hash, r] : tokens) {
      if (r.revoked) continue;
      if (hash.starts_with(id_or_name)) by_id.push_back(hash);
      if (r.who.name == id_or_name) by_name.push_back(hash);
    }
    return is_hex_prefix(id_or_name) && !by_id.empty() ? by_id : by_name;
  }

  std::unique_ptr<TokenFile> file_;
  const Clock& clock_;
  RecheckGate recheck_{kRecheckInterval};
  std::atomic<bool> reloading_{false};  // a lookup waits for a re-read in progress
};

Result<std::string> read_admin_token(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok() && errno == ENOENT) return Status::not_found(path + " does not exist");
  if (!fd.ok()) return io_error("cannot open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("cannot stat", path);
  MEDSEAL_RETURN_IF_ERROR(check_private_file(st, path));
  Result<std::string> text = read_bounded(fd, path, kMaxAdminTokenFileBytes);
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

std::string token_id(std::string_view token) { return token_hash(token).substr(0, kTokenIdChars); }

Result<std::unique_ptr<TokenStore>> TokenStore::open(const std::string& path, const Clock& clock) {
  auto file = TokenFile::open(path, kMaxFileBytes, parse_line);
  if (!file) return file.status();
  return std::unique_ptr<TokenStore>(std::make_unique<FileTokenStore>(std::move(*file), clock));
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
