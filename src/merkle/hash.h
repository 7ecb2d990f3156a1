// RFC 6962 / RFC 9162 section 2.1 hashing with SHA-256. Pure functions, no I/O.
#pragma once

#include <string_view>

#include "util/bytes.h"

namespace medseal::merkle {

Hash leaf_hash(std::string_view leaf);                 // SHA-256(0x00 || leaf)
Hash node_hash(const Hash& left, const Hash& right);   // SHA-256(0x01 || left || right)
Hash empty_root();                                     // SHA-256(""), the root of the empty tree

}  // namespace medseal::merkle
