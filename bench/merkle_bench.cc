// merkle/ benchmarks. The target (DESIGN.md 8): Merkle hashing at least 80 % of raw OpenSSL
// SHA-256 throughput on the same message sizes, so each hash benchmark has its raw baseline:
// BM_NodeHash vs BM_RawSha256_65 (0x01 || 32 || 32) and BM_LeafHash vs BM_RawSha256_43 (0x00 ||
// a 42-byte ledger entry). main() is the lead's bench driver.
#include <benchmark/benchmark.h>
#include <openssl/sha.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "merkle/compact_range.h"
#include "merkle/hash.h"
#include "merkle/memory_tree.h"
#include "merkle/proof.h"

namespace medseal::merkle {
namespace {

constexpr uint64_t kProofTreeSize = uint64_t{1} << 20;

// OpenSSL 3's one-shot SHA256() runs through EVP_Q_digest, which fetches the algorithm on every
// call; the low-level SHA256_Init/Update/Final path (deprecated in 3.0, still supported) skips
// that. Both are measured so the ratio to the baseline can be read either way.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void raw_sha256_ctx(const unsigned char* data, size_t size, unsigned char* out) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, size);
  SHA256_Final(out, &ctx);
}

// Each digest feeds the next message so the calls cannot overlap or be hoisted.
void BM_RawSha256_65(benchmark::State& state) {
  unsigned char buf[65] = {0x01};
  for (auto _ : state) {
    SHA256(buf, sizeof buf, buf + 1);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 65);
}
BENCHMARK(BM_RawSha256_65);

void BM_RawSha256Ctx_65(benchmark::State& state) {
  unsigned char buf[65] = {0x01};
  for (auto _ : state) {
    raw_sha256_ctx(buf, sizeof buf, buf + 1);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 65);
}
BENCHMARK(BM_RawSha256Ctx_65);

void BM_NodeHash(benchmark::State& state) {
  Hash left{}, right{};
  right[0] = 1;
  for (auto _ : state) {
    left = node_hash(left, right);
    benchmark::DoNotOptimize(left);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 65);
}
BENCHMARK(BM_NodeHash);

void BM_RawSha256_43(benchmark::State& state) {
  unsigned char buf[43] = {0x00, 0x01, 0x02};
  for (auto _ : state) {
    SHA256(buf, sizeof buf, buf + 10);  // the digest lands in the entry's commitment field
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 43);
}
BENCHMARK(BM_RawSha256_43);

void BM_RawSha256Ctx_43(benchmark::State& state) {
  unsigned char buf[43] = {0x00, 0x01, 0x02};
  for (auto _ : state) {
    raw_sha256_ctx(buf, sizeof buf, buf + 10);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 43);
}
BENCHMARK(BM_RawSha256Ctx_43);

void BM_LeafHash(benchmark::State& state) {
  char entry[42] = {0x01, 0x02};
  for (auto _ : state) {
    Hash h = leaf_hash(std::string_view(entry, sizeof entry));
    std::memcpy(entry + 10, h.data(), h.size());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 43);
}
BENCHMARK(BM_LeafHash);

// Amortized cost of one append: about one node hash per leaf, plus the frontier bookkeeping.
void BM_CompactRangeAppend(benchmark::State& state) {
  CompactRange range;
  Hash leaf{};
  uint64_t completed = 0;
  for (auto _ : state) {
    leaf[0] = static_cast<uint8_t>(range.size());
    range.append(leaf, [&](NodeId, const Hash&) { ++completed; });
  }
  benchmark::DoNotOptimize(completed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CompactRangeAppend);

MemoryTree& proof_tree() {
  static MemoryTree* tree = [] {
    auto* t = new MemoryTree;
    for (uint64_t i = 0; i < kProofTreeSize; ++i) t->append(leaf_hash(std::to_string(i)));
    return t;
  }();
  return *tree;
}

void BM_InclusionProofInMemory(benchmark::State& state) {
  MemoryTree& tree = proof_tree();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    Result<std::vector<Hash>> proof = inclusion_proof(rng() % kProofTreeSize, kProofTreeSize, tree);
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProofInMemory);

void BM_VerifyInclusion(benchmark::State& state) {
  MemoryTree& tree = proof_tree();
  const Hash root = *tree_root(kProofTreeSize, tree);
  struct Case {
    uint64_t index;
    std::vector<Hash> proof;
  };
  std::vector<Case> cases;
  std::mt19937_64 rng(2);
  for (int i = 0; i < 256; ++i) {
    const uint64_t index = rng() % kProofTreeSize;
    cases.push_back({index, *inclusion_proof(index, kProofTreeSize, tree)});
  }
  size_t i = 0, failures = 0;
  for (auto _ : state) {
    const Case& c = cases[i++ % cases.size()];
    if (!verify_inclusion(tree.node({0, c.index}), c.index, kProofTreeSize, c.proof, root)) {
      ++failures;
    }
  }
  if (failures != 0) state.SkipWithError("an inclusion proof did not verify");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyInclusion);

}  // namespace
}  // namespace medseal::merkle
