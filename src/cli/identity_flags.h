// What `medseal token` and `medseal user` share: an identity from --role, --name and --patient,
// and the path of a file in a data directory that a running server may hold (no store lock taken:
// the token and user files have their own).
#pragma once

#include <string>
#include <string_view>

#include "identity/identity.h"
#include "util/status.h"

namespace medseal::cli {

Result<identity::Identity> identity_from_flags(const std::string& role, const std::string& name,
                                               const std::string& patient);

// DATA/<file>; kInvalidArgument if `data_dir` is not a directory.
Result<std::string> data_file(const std::string& data_dir, std::string_view file);

}  // namespace medseal::cli
