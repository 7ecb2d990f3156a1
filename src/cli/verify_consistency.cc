// medseal verify --old: an older checkpoint against a newer one of the same log, by an RFC 9162
// consistency proof computed from the log's tiles (which need not be trusted: the proof must lead
// from one signed root to the other).
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "crypto/base64.h"
#include "tlog_client/tile_nodes.h"

namespace medseal::cli {
namespace {

constexpr std::string_view kCommand = "verify";

std::string b64(const Hash& h) { return crypto::base64_encode(as_view(h)); }

}  // namespace

int run_verify_consistency(const VerifyArgs& args) {
  if (args.vkey.empty()) return fail(kCommand, "--old needs --vkey", kExitUsage);
  if (args.quorum > args.witnesses.size()) return fail(kCommand, "--quorum exceeds the witness keys given", kExitUsage);
  auto vkey = load_vkey(args.vkey);
  if (!vkey) return fail(kCommand, vkey.status());
  auto witnesses = load_vkeys(args.witnesses);
  if (!witnesses) return fail(kCommand, witnesses.status());
  auto source = open_tile_source(args.url, args.dir);
  if (!source) return fail(kCommand, source.status().message() + " (the tiles the proof is computed from)", kExitUsage);
  auto old_note = read_input_file(args.old_checkpoint, tlog_client::kMaxCheckpointBytes);
  if (!old_note) return fail(kCommand, old_note.status());
  Result<std::string> new_note = args.new_checkpoint.empty()
                                     ? (*source)->read_checkpoint()
                                     : read_input_file(args.new_checkpoint, tlog_client::kMaxCheckpointBytes);
  if (!new_note) return fail(kCommand, new_note.status().message(), args.new_checkpoint.empty() ? kExitFailure : kExitUsage);

  auto old_cp = open_checkpoint_with_quorum(*old_note, *vkey, *witnesses, args.quorum);
  if (!old_cp) return fail(kCommand, "old " + old_cp.status().message(), old_cp.status().code() == Code::kInvalidArgument ? kExitUsage : kExitFailure);
  auto new_cp = open_checkpoint_with_quorum(*new_note, *vkey, *witnesses, args.quorum);
  if (!new_cp) return fail(kCommand, "new " + new_cp.status().message(), new_cp.status().code() == Code::kInvalidArgument ? kExitUsage : kExitFailure);
  Status ok = tlog_client::check_extends(**source, *old_cp, *new_cp);
  if (!ok) return fail(kCommand, ok.message(), kExitFailure);
  std::printf("consistent: %s size %llu (root %s) is a prefix of size %llu (root %s)%s\n", new_cp->origin.c_str(),
              static_cast<unsigned long long>(old_cp->size), b64(old_cp->root).c_str(),
              static_cast<unsigned long long>(new_cp->size), b64(new_cp->root).c_str(),
              witnesses->empty() ? "" : "; both meet the witness quorum");
  return kExitOk;
}

}  // namespace medseal::cli
