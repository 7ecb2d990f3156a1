// Test-only access to a store's SQLite file behind its back (schema surgery, tampering).
#pragma once

#include <string>

namespace medseal::testing {

// Runs `sql` on the database file at `path`; fails the test if it does not succeed.
void raw_exec(const std::string& path, const std::string& sql);

}  // namespace medseal::testing
