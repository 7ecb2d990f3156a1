// People who log in with a client certificate (an ID card): DATA/users maps the person named by a
// certificate's subject (certificate.h; e.g. "PNOEE-38001085718") to an identity (name, role and
// for patients their compartment). Same file discipline as DATA/tokens (private_lines.h): mode
// 0600, append-only, changed by `medseal user add|revoke` while a server runs and picked up by it
// within 100 ms.
//
// Lines: {"person":"...","name":"...","role":"...","patient":"...","created":<ms>} adds a person
// (who must not be active already); {"revoked":"<person>","at":<ms>} ends them. A person revoked
// may be added again. Anything else makes the file unreadable: it is not guessed at.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "identity/identity.h"
#include "util/clock.h"
#include "util/status.h"

namespace medseal::identity {

struct User {
  std::string person;  // 1..64 of [A-Za-z0-9._@:+-]
  Identity who;
  uint64_t created_ms = 0;
  bool revoked = false;
};

// Checks a person id (what a certificate field maps to) before it is stored or looked up.
Status check_person(std::string_view person);

class UserRegistry {
 public:
  // Opens (creating, mode 0600) the file at `path`; a damaged file fails naming the line.
  static Result<std::unique_ptr<UserRegistry>> open(const std::string& path, const Clock& clock = system_clock());
  virtual ~UserRegistry() = default;

  // kConflict if `person` is active already.
  virtual Status add(const std::string& person, const Identity& who) = 0;
  // kNotFound unless `person` is active.
  virtual Status revoke(const std::string& person) = 0;
  // The active identity of `person`; kNotFound ("unknown certificate holder") otherwise.
  // Thread-safe; sees changes by other processes within 100 ms.
  virtual Result<Identity> find(std::string_view person) = 0;
  // Every person ever added, in order, the revoked ones marked (re-read first).
  virtual Result<std::vector<User>> list() = 0;
};

}  // namespace medseal::identity
