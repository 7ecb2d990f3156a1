#include "cli/identity_flags.h"

#include <filesystem>

namespace medseal::cli {

Result<identity::Identity> identity_from_flags(const std::string& role, const std::string& name,
                                               const std::string& patient) {
  auto parsed = identity::parse_role(role);
  if (!parsed) return Status::invalid("--role must be admin, clinician, auditor or patient");
  if (*parsed == identity::Role::kPatient && patient.empty()) {
    return Status::invalid("--role patient needs --patient Patient/<id>");
  }
  identity::Identity who{name, *parsed, patient};
  MEDSEAL_RETURN_IF_ERROR(identity::check_identity(who));
  return who;
}

Result<std::string> data_file(const std::string& data_dir, std::string_view file) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) return Status::invalid(data_dir + " is not a data directory");
  return (std::filesystem::path(data_dir) / file).string();
}

}  // namespace medseal::cli
