#include "crypto/random.h"

#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace medseal::crypto {

void random_bytes(uint8_t* out, size_t n) {
  while (n > 0) {
    int chunk = n > INT_MAX ? INT_MAX : static_cast<int>(n);
    if (RAND_bytes(out, chunk) != 1) {
      std::fputs("medseal: the OS random number generator failed\n", stderr);
      std::abort();
    }
    out += chunk;
    n -= static_cast<size_t>(chunk);
  }
}

}  // namespace medseal::crypto
