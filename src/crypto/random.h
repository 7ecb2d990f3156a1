// Randomness from the OS CSPRNG (OpenSSL RAND_bytes). Used for salts and keys.
#pragma once

#include <cstddef>
#include <cstdint>

namespace medseal::crypto {

// Fills out[0..n) with cryptographically secure random bytes; aborts the process if the CSPRNG
// fails, because a predictable salt or key would silently break the ledger's privacy.
void random_bytes(uint8_t* out, size_t n);

}  // namespace medseal::crypto
