#include "crypto/random.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace medseal::crypto {

void random_bytes(uint8_t* out, size_t n) {
  // The calling thread's public DRBG, as RAND_bytes uses it, but asked directly: RAND_bytes in
  // OpenSSL 3.0 first takes a process-wide write lock (RAND_get_rand_method, for engines, which
  // medseal never installs) on every call, and with a server's handler threads each drawing an id
  // and a salt per request that lock was 4% of a create's CPU, mostly contention.
  // EVP_RAND_generate splits large requests into the DRBG's maximum request size itself.
  EVP_RAND_CTX* drbg = RAND_get0_public(nullptr);
  if (n > 0 && (drbg == nullptr || EVP_RAND_generate(drbg, out, n, 0, 0, nullptr, 0) != 1)) {
    std::fputs("medseal: the OS random number generator failed\n", stderr);
    std::abort();
  }
}

}  // namespace medseal::crypto
