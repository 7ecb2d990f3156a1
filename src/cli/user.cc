// medseal user add|list|revoke.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/data_dir.h"
#include "cli/identity_flags.h"
#include "identity/user_registry.h"

namespace medseal::cli {
namespace {

// Not DataDir::open: a running server holds that lock, and the users file has its own.
Result<std::unique_ptr<identity::UserRegistry>> open_users(const std::string& data_dir) {
  auto path = data_file(data_dir, kUsersFile);
  if (!path) return path.status();
  return identity::UserRegistry::open(*path);
}

}  // namespace

int run_user_add(const UserArgs& args) {
  constexpr std::string_view kCommand = "user add";
  auto who = identity_from_flags(args.role, args.name, args.patient);
  if (!who) return fail(kCommand, who.status());
  auto users = open_users(args.data_dir);
  if (!users) return fail(kCommand, users.status());
  Status added = (*users)->add(args.person, *who);
  if (!added) return fail(kCommand, added);
  std::printf("added %s as %s (%s)\n", args.person.c_str(), who->name.c_str(),
              std::string(identity::role_name(who->role)).c_str());
  return kExitOk;
}

// One line per person: PERSON NAME ROLE [Patient/<id>] active|revoked.
int run_user_list(const UserArgs& args) {
  auto users = open_users(args.data_dir);
  if (!users) return fail("user list", users.status());
  auto all = (*users)->list();
  if (!all) return fail("user list", all.status());
  for (const identity::User& u : *all) {
    std::printf("%s %s %s%s%s %s\n", u.person.c_str(), u.who.name.c_str(),
                std::string(identity::role_name(u.who.role)).c_str(), u.who.patient.empty() ? "" : " ",
                u.who.patient.c_str(), u.revoked ? "revoked" : "active");
  }
  return kExitOk;
}

int run_user_revoke(const UserArgs& args) {
  auto users = open_users(args.data_dir);
  if (!users) return fail("user revoke", users.status());
  Status revoked = (*users)->revoke(args.person);
  if (!revoked) return fail("user revoke", revoked);
  std::printf("revoked %s\n", args.person.c_str());
  return kExitOk;
}

}  // namespace medseal::cli
