#include "identity/user_registry.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>

#include "identity/private_lines.h"
#include "util/strict_json.h"

namespace medseal::identity {
namespace {

constexpr size_t kMaxFileBytes = 16 << 20;
constexpr size_t kMaxLineBytes = 1024;
constexpr size_t kMaxPersonLength = 64;
constexpr std::chrono::nanoseconds kRecheckInterval = std::chrono::milliseconds(100);

struct Users {
  std::vector<User> all;                           // in file order
  std::unordered_map<std::string, size_t> active;  // person -> index in `all`
};

Status apply_revocation(const nlohmann::json& j, Users& users) {
  const std::string* person = json_string(j, "revoked");
  if (!person || !json_unsigned(j, "at") || j.size() != 2) return Status::invalid("not exactly {revoked, at} with their types");
  auto it = users.active.find(*person);
  if (it == users.active.end()) return Status::invalid("revokes a person who is not active");
  users.all[it->second].revoked = true;
  users.active.erase(it);
  return Status::ok();
}

Status apply_addition(const nlohmann::json& j, Users& users) {
  const std::string* person = json_string(j, "person");
  const std::string* name = json_string(j, "name");
  const std::string* role = json_string(j, "role");
  const std::string* patient = json_string(j, "patient");
  if (!person || !name || !role || !patient || !json_unsigned(j, "created") || j.size() != 5) {
    return Status::invalid("not exactly {person, name, role, patient, created} with their types");
  }
  MEDSEAL_RETURN_IF_ERROR(check_person(*person));
  Result<Role> parsed_role = parse_role(*role);
  if (!parsed_role) return parsed_role.status();
  Identity who{*name, *parsed_role, *patient};
  MEDSEAL_RETURN_IF_ERROR(check_identity(who));
  if (!users.active.emplace(*person, users.all.size()).second) return Status::invalid("adds a person who is active");
  users.all.push_back(User{*person, std::move(who), j["created"].get<uint64_t>(), false});
  return Status::ok();
}

Status apply_line(std::string_view line, Users& users) {
  if (line.size() > kMaxLineBytes) return Status::invalid("longer than " + std::to_string(kMaxLineBytes) + " bytes");
  Result<nlohmann::json> json = parse_strict_json(line, 1);
  if (!json) return json.status();
  if (!json->is_object()) return Status::invalid("not a JSON object");
  return json->contains("revoked") ? apply_revocation(*json, users) : apply_addition(*json, users);
}

using UsersFile = WatchedLines<Users>;

class FileUserRegistry final : public UserRegistry {
 public:
  FileUserRegistry(std::unique_ptr<UsersFile> file, const Clock& clock) : file_(std::move(file)), clock_(clock) {}

  Status add(const std::string& person, const Identity& who) override {
    MEDSEAL_RETURN_IF_ERROR(check_person(person));
    MEDSEAL_RETURN_IF_ERROR(check_identity(who));
    std::lock_guard file_lock(file_->file_mutex());
    MEDSEAL_RETURN_IF_ERROR(file_->refresh(true));
    if (is_active(person)) return Status::conflict("person " + person + " is active already");
    nlohmann::ordered_json line;
    line["person"] = person;
    line["name"] = who.name;
    line["role"] = std::string(role_name(who.role));
    line["patient"] = who.patient;
    line["created"] = clock_.now_ms();
    return append_and_reread(line.dump() + "\n");
  }

  Status revoke(const std::string& person) override {
    std::lock_guard file_lock(file_->file_mutex());
    MEDSEAL_RETURN_IF_ERROR(file_->refresh(true));
    if (!is_active(person)) return Status::not_found("no active person " + person);
    nlohmann::ordered_json line;
    line["revoked"] = person;
    line["at"] = clock_.now_ms();
    return append_and_reread(line.dump() + "\n");
  }

  Result<Identity> find(std::string_view person) override {
    if (recheck_.due()) {
      std::lock_guard file_lock(file_->file_mutex());
      (void)file_->refresh(false);  // a damaged file leaves what was read before in force
    }
    std::optional<Identity> who = file_->read([&](const Users& users) -> std::optional<Identity> {
      auto it = users.active.find(std::string(person));
      if (it == users.active.end()) return std::nullopt;
      return users.all[it->second].who;
    });
    if (!who) return Status::not_found("unknown certificate holder");
    return *who;
  }

  Result<std::vector<User>> list() override {
    std::lock_guard file_lock(file_->file_mutex());
    MEDSEAL_RETURN_IF_ERROR(file_->refresh(true));
    return file_->read([](const Users& users) { return users.all; });
  }

 private:
  bool is_active(const std::string& person) const {
    return file_->read([&](const Users& users) { return users.active.contains(person); });
  }

  // With the file mutex held.
  Status append_and_reread(const std::string& line) {
    MEDSEAL_RETURN_IF_ERROR(append_private_line(file_->path(), line));
    return file_->refresh(true);
  }

  std::unique_ptr<UsersFile> file_;
  const Clock& clock_;
  RecheckGate recheck_{kRecheckInterval};
};

bool is_person_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '@' || c == ':' || c == '+' || c == '-';
}

}  // namespace

Status check_person(std::string_view person) {
  if (person.empty() || person.size() > kMaxPersonLength || !std::all_of(person.begin(), person.end(), is_person_char)) {
    return Status::invalid("a person id is 1 to 64 of A-Z a-z 0-9 . _ @ : + -");
  }
  return Status::ok();
}

Result<std::unique_ptr<UserRegistry>> UserRegistry::open(const std::string& path, const Clock& clock) {
  auto file = UsersFile::open(path, kMaxFileBytes, apply_line);
  if (!file) return file.status();
  return std::unique_ptr<UserRegistry>(std::make_unique<FileUserRegistry>(std::move(*file), clock));
}

}  // namespace medseal::identity
