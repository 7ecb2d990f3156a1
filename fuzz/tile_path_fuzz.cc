// What a tlog-tiles client or the public log's server reads: tile and entry-bundle paths
// (merkle/tile.h), entry bundles fetched from a log and the 42-byte entries in them
// (ledger/entry.h). Paths and bundles that parse format back to the same bytes.
#include <vector>

#include "fuzz_input.h"
#include "ledger/entry.h"
#include "merkle/tile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  const std::string_view input = fuzz::as_text(data, size);
  if (auto id = merkle::parse_tile_path(input)) {
    FUZZ_CHECK(merkle::tile_path(*id) == input);
    (void)merkle::tile_width(id->level, id->index, UINT64_MAX >> 1);
  }
  if (auto bundle = merkle::parse_entry_bundle(input)) {
    FUZZ_CHECK(merkle::encode_entry_bundle(*bundle) == input);
    for (std::string_view entry : *bundle) {
      if (auto parsed = ledger::parse_entry(entry)) FUZZ_CHECK(ledger::encode_entry(*parsed) == entry);
    }
  }
  if (size % 32 == 0 && size > 0 && size <= 256 * 32) (void)merkle::tile_root(input);
  return 0;
}
