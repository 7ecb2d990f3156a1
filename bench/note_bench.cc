// note/: signing and opening a checkpoint, the per-batch cost the sequencer pays (sign) and every
// verifier, witness and monitor pays (open). main() lives elsewhere in bench/.
#include <benchmark/benchmark.h>

#include "crypto/sha256.h"
#include "note/checkpoint.h"
#include "note/keys.h"
#include "note/note.h"

namespace medseal::note {
namespace {

SignerKey bench_key() {
  crypto::Ed25519Seed seed{};
  seed[0] = 42;
  return signer_key_from_seed("localhost/medseal", seed);
}

std::string bench_checkpoint() {
  return format_checkpoint({"localhost/medseal", 123456789, crypto::sha256("root"), {}});
}

void BM_SignCheckpoint(benchmark::State& state) {
  const SignerKey key = bench_key();
  const std::string text = bench_checkpoint();
  for (auto _ : state) {
    auto note = sign_note(text, std::span(&key, 1));
    if (!note) state.SkipWithError(note.status().message().c_str());
    benchmark::DoNotOptimize(note);
  }
}
BENCHMARK(BM_SignCheckpoint);

void BM_OpenCheckpoint(benchmark::State& state) {
  const SignerKey key = bench_key();
  const VerifierKey verifier = verifier_of(key);
  const std::string note = *sign_note(bench_checkpoint(), std::span(&key, 1));
  for (auto _ : state) {
    auto opened = open_note(note, std::span(&verifier, 1));
    if (!opened) state.SkipWithError(opened.status().message().c_str());
    auto cp = parse_checkpoint(opened->text);
    benchmark::DoNotOptimize(cp);
  }
}
BENCHMARK(BM_OpenCheckpoint);

}  // namespace
}  // namespace medseal::note
