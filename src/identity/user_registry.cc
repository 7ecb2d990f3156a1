#include "identity/user_registry.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <shared_mutex>
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

const std::string* string_member(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

bool has_unsigned(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_unsigned();
}

Status apply_revocation(const nlohmann::json& j, Users& users) {
  const std::string* person = string_member(j, "revoked");
  if (!person || !has_unsigned(j, "at") || j.size() != 2) return Status::invalid("not exactly {revoked, at} with their types");
  auto it = users.active.find(*person);
  if (it == users.active.end()) return Status::invalid("revokes a person who is not active");
  users.all[it->second].revoked = true;
  users.active.erase(it);
  return Status::ok();
}

Status apply_addition(const nlohmann::json& j, Users& users) {
  const std::string* person = string_member(j, "person");
  const std::string* name = string_member(j, "name");
  const std::string* role = string_member(j, "role");
  const std::string* patient = string_member(j, "patient");
  if (!person || !name || !role || !patient || !has_unsigned(j, "created") || j.size() != 5) {
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

struct Snapshot {
  Users users;
  FileStamp stamp;
};

Result<Snapshot> read_users(const std::string& path, bool create) {
  Snapshot s;
  Result<std::string> text = read_private_lines(path, create, kMaxFileBytes, &s.stamp);
  if (!text) return text.status();
  MEDSEAL_RETURN_IF_ERROR(for_each_line(*text, path, [&](std::string_view line) { return apply_line(line, s.users); }));
  return s;
}

class FileUserRegistry final : public UserRegistry {
 public:
  FileUserRegistry(std::string path, Snapshot s, const Clock& clock)
      : path_(std::move(path)), clock_(clock), stamp_(s.stamp), users_(std::move(s.users)) {}

  Status add(const std::string& person, const Identity& who) override {
    MEDSEAL_RETURN_IF_ERROR(check_person(person));
    MEDSEAL_RETURN_IF_ERROR(check_identity(who));
    std::lock_guard file_lock(file_mu_);
    MEDSEAL_RETURN_IF_ERROR(reload_locked(true));
    if (users_.active.contains(person)) return Status::conflict("person " + person + " is active already");
    nlohmann::ordered_json line;
    line["person"] = person;
    line["name"] = who.name;
    line["role"] = std::string(role_name(who.role));
    line["patient"] = who.patient;
    line["created"] = clock_.now_ms();
    return append_and_reload(line.dump() + "\n");
  }

  Status revoke(const std::string& person) override {
    std::lock_guard file_lock(file_mu_);
    MEDSEAL_RETURN_IF_ERROR(reload_locked(true));
    if (!users_.active.contains(person)) return Status::not_found("no active person " + person);
    nlohmann::ordered_json line;
    line["revoked"] = person;
    line["at"] = clock_.now_ms();
    return append_and_reload(line.dump() + "\n");
  }

  Result<Identity> find(std::string_view person) override {
    if (recheck_.due()) {
      std::lock_guard file_lock(file_mu_);
      (void)reload_locked(false);  // a damaged file leaves what was read before in force
    }
    std::shared_lock lock(map_mu_);
    auto it = users_.active.find(std::string(person));
    if (it == users_.active.end()) return Status::not_found("unknown certificate holder");
    return users_.all[it->second].who;
  }

  Result<std::vector<User>> list() override {
    std::lock_guard file_lock(file_mu_);
    MEDSEAL_RETURN_IF_ERROR(reload_locked(true));
    std::shared_lock lock(map_mu_);
    return users_.all;
  }

 private:
  Status append_and_reload(const std::string& line) {
    MEDSEAL_RETURN_IF_ERROR(append_private_line(path_, line));
    return reload_locked(true);
  }

  // Call with file_mu_ held. `strict`: a damaged file is an error.
  Status reload_locked(bool strict) {
    if (stamp_of_path(path_) == stamp_) return Status::ok();
    Result<Snapshot> s = read_users(path_, false);
    if (!s) return strict ? s.status() : Status::ok();
    stamp_ = s->stamp;
    std::unique_lock lock(map_mu_);
    users_ = std::move(s->users);
    return Status::ok();
  }

  const std::string path_;
  const Clock& clock_;
  std::mutex file_mu_;  // orders appends and re-reads; guards stamp_
  FileStamp stamp_;
  mutable std::shared_mutex map_mu_;
  Users users_;
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
  const bool absent = stamp_of_path(path).size < 0;
  Result<Snapshot> s = read_users(path, true);
  if (!s) return s.status();
  if (absent) MEDSEAL_RETURN_IF_ERROR(fsync_parent_dir(path));
  return std::unique_ptr<UserRegistry>(std::make_unique<FileUserRegistry>(path, std::move(*s), clock));
}

}  // namespace medseal::identity
