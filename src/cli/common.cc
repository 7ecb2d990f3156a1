#include "cli/common.h"

#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli/commands.h"
#include "ledger/keyfile.h"

namespace medseal::cli {

int fail(std::string_view command, const std::string& reason, int code) {
  std::fprintf(stderr, "medseal %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               reason.c_str());
  return code;
}

int fail(std::string_view command, const Status& status) {
  return fail(command, status.message(),
              status.code() == Code::kInvalidArgument ? kExitUsage : kExitFailure);
}

Result<note::VerifierKey> load_vkey(const std::string& text_or_file) {
  auto parsed = note::parse_verifier_key(text_or_file);
  if (parsed) return parsed;
  auto from_file = ledger::read_verifier_key_file(text_or_file);
  if (from_file || from_file.status().code() != Code::kNotFound) return from_file;
  return Status::invalid("--vkey is neither a verifier key nor a file: " + text_or_file);
}

Result<std::string> read_input_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid("cannot read " + path);
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) return Status::invalid(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (in.bad()) return Status::invalid("cannot read " + path);
  return text;
}

}  // namespace medseal::cli
