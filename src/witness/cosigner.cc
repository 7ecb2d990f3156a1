#include "witness/cosigner.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/base64.h"
#include "ledger/proofs.h"
#include "note/cosignature.h"
#include "util/bytes.h"
#include "util/file_io.h"
#include "witness/cosigned_checkpoint.h"

namespace medseal::witness {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Cosignatures kept per witness for checkpoints that have not reached quorum yet.
constexpr size_t kMaxPendingCosignatures = 64;
// 409s in a row answered at once; more mean the witness's state moves under us (another log
// instance with the same origin?), and the following ones wait like errors.
constexpr uint64_t kImmediateConflicts = 3;

// The checkpoint all workers are sending.
struct Target {
  uint64_t size = 0;
  std::string note;  // the log's signed note
  std::string text;  // its body, which cosignatures sign
  Steady::time_point since;
  bool reached_quorum = false;  // guarded by Impl::mu
};

struct Job {
  uint64_t old_size = 0;
  std::shared_ptr<Target> target;
};

struct Witness {
  WitnessConfig config;
  std::unique_ptr<WitnessClient> client;
  WitnessStatus status;
  std::map<uint64_t, note::NoteSignature> cosignatures;  // valid ones, by checkpoint size
  std::set<std::string> open_episodes;  // alert kinds raised since its last cosignature
  std::thread thread;
};

Status check_config(const std::vector<WitnessConfig>& witnesses, size_t quorum) {
  if (witnesses.empty()) return Status::invalid("no witnesses configured");
  if (quorum < 1 || quorum > witnesses.size()) {
    return Status::invalid("the witness quorum must be 1.." + std::to_string(witnesses.size()));
  }
  std::set<std::string> names;
  for (const WitnessConfig& w : witnesses) {
    if (w.key.type != note::KeyType::kCosignatureV1) {
      return Status::invalid("witness key " + w.key.name + " is not a cosignature (type 0x04) key");
    }
    if (!names.insert(w.key.name).second) return Status::invalid("witness " + w.key.name + " is given twice");
  }
  return Status::ok();
}

std::vector<note::VerifierKey> keys_of(const std::vector<std::unique_ptr<Witness>>& witnesses) {
  std::vector<note::VerifierKey> keys;
  for (const auto& w : witnesses) keys.push_back(w->config.key);
  return keys;
}

}  // namespace

struct Cosigner::Impl {
  Impl(ledger::Ledger& l, storage::Store& s, const note::VerifierKey& k, alerts::AlertSink& a,
       CosignerOptions o)
      : ledger(l), store(s), log_key(k), alerts(a), options(std::move(o)) {}

  ledger::Ledger& ledger;
  storage::Store& store;
  const note::VerifierKey log_key;
  alerts::AlertSink& alerts;
  const CosignerOptions options;
  std::vector<std::unique_ptr<Witness>> witnesses;
  std::vector<note::VerifierKey> witness_keys;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool want_newer_target = false;
  std::shared_ptr<Target> target;
  storage::LogHead cosigned;
  size_t cosigned_count = 0;
  std::mutex publish_mu;  // one publication (save, then serve) at a time, in order

  // ---- start ----

  Status load_saved() {
    if (options.state_file.empty()) return Status::ok();
    auto text = read_file_bounded(options.state_file, note::kMaxNoteSize);
    if (!text) return text.status().code() == Code::kNotFound ? Status::ok() : text.status();
    const std::string where = options.state_file + ": ";
    auto opened = open_cosigned(*text, log_key, witness_keys, 0);
    if (!opened) return Status::verification(where + opened.status().message());
    const uint64_t size = opened->checkpoint.size;
    const uint64_t held = ledger.head().size;
    if (size > held) {
      return Status::verification(where + "witnesses cosigned size " + std::to_string(size) +
                                  " but the store holds " + std::to_string(held) +
                                  " entries: it was rolled back or replaced");
    }
    auto root = ledger::stored_root(store, size);
    if (!root) return root.status();
    if (*root != opened->checkpoint.root) {
      return Status::verification(where + "the stored tree of size " + std::to_string(size) +
                                  " does not match the cosigned checkpoint: the store was replaced");
    }
    // Cosigned by witnesses no longer configured: valid, but not served as witnessed.
    if (opened->witnesses < options.quorum) return Status::ok();
    cosigned = {size, std::move(*text)};
    cosigned_count = opened->witnesses;
    return Status::ok();
  }

  void start_workers() {
    for (auto& w : witnesses) {
      Witness* raw = w.get();
      w->thread = std::thread([this, raw] { run(*raw); });
    }
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    for (auto& w : witnesses) w->client->cancel();
    for (auto& w : witnesses) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

  // ---- the worker ----

  void run(Witness& w) {
    std::unique_lock lock(mu);
    while (!stopping) {
      std::optional<Job> job = next_job(w);
      if (!job) {
        cv.wait_for(lock, options.poll_interval);
        continue;
      }
      lock.unlock();
      milliseconds delay = submit(w, *job);
      lock.lock();
      if (delay.count() > 0) cv.wait_for(lock, delay, [this] { return stopping; });
    }
  }

  // What `w` should be sent next, if anything. Requires mu.
  std::optional<Job> next_job(Witness& w) {
    refresh_target();
    if (!target) return std::nullopt;
    const std::optional<uint64_t> known = w.status.witness_size;
    if (known && *known > target->size) {
      want_newer_target = true;  // it cannot cosign a smaller tree than it has seen
      return std::nullopt;
    }
    if (w.cosignatures.contains(target->size)) return std::nullopt;
    return Job{known.value_or(0), target};
  }

  // Moves the target to the ledger's newest checkpoint once the current one is done with.
  // Requires mu.
  void refresh_target() {
    storage::LogHead head = ledger.head();
    if (head.size == 0 || (target && head.size <= target->size)) return;
    const auto now = Steady::now();
    bool done_with = !target || target->reached_quorum || want_newer_target ||
                     now - target->since >= options.target_max_age;
    if (!done_with) return;
    auto parsed = note::parse_note(head.checkpoint);
    if (!parsed) return;  // the ledger signs what it parses; nothing better to send meanwhile
    target = std::make_shared<Target>(Target{head.size, std::move(head.checkpoint),
                                             std::move(parsed->text), now, false});
    want_newer_target = false;
  }

  // One add-checkpoint call and what follows from its answer; returns how long to wait before
  // the next call.
  milliseconds submit(Witness& w, const Job& job) {
    auto proof = ledger::consistency_proof_between(store, job.old_size, job.target->size);
    WitnessReply reply;
    if (!proof) {
      reply.error = "cannot build the consistency proof from size " + std::to_string(job.old_size) +
                    ": " + proof.status().message();
    } else {
      reply = w.client->add_checkpoint(job.old_size, *proof, job.target->note);
    }
    bool cosigned_now = false;
    milliseconds delay;
    {
      std::lock_guard lock(mu);
      ++w.status.requests;
      delay = handle(w, job, reply, &cosigned_now);
    }
    if (cosigned_now) publish_if_quorum(job.target);
    return delay;
  }

  // Requires mu.
  milliseconds handle(Witness& w, const Job& job, const WitnessReply& reply, bool* cosigned_now) {
    using Kind = WitnessReply::Kind;
    switch (reply.kind) {
      case Kind::kCosigned: {
        auto valid = valid_cosignature(w, job.target->text, reply.cosignatures);
        if (!valid) {
          w.status.witness_size.reset();  // whatever it did, let its next 409 say
          raise_once(w, "bad-signature", "witness " + w.config.key.name +
                     " answered without a valid cosignature by its key", *job.target, reply);
          return failure(w, "no valid cosignature by the witness's key in its answer");
        }
        w.status.witness_size = job.target->size;
        w.status.cosigned_size = std::max(w.status.cosigned_size, job.target->size);
        w.cosignatures[job.target->size] = std::move(*valid);
        if (w.cosignatures.size() > kMaxPendingCosignatures) w.cosignatures.erase(w.cosignatures.begin());
        w.status.consecutive_failures = 0;
        w.status.last_error.clear();
        w.open_episodes.clear();
        *cosigned_now = true;
        return milliseconds(0);
      }
      case Kind::kConflict: {
        if (reply.witness_size == job.old_size) {
          // Only a checkpoint of the size the witness holds, with another root, gets this answer
          // (tlog-witness: 409 for equal sizes with different roots): a split view.
          const std::string why = "witness " + w.config.key.name + " holds another tree of size " +
                                  std::to_string(job.old_size) + " than this log";
          raise_once(w, "witness-refusal", why, *job.target, reply);
          return failure(w, why);
        }
        w.status.witness_size = reply.witness_size;
        const uint64_t held = ledger.head().size;
        if (reply.witness_size > held) {
          raise_once(w, "log-rollback", "witness " + w.config.key.name + " has cosigned size " +
                     std::to_string(reply.witness_size) + " of this log, which holds " +
                     std::to_string(held), *job.target, reply);
        }
        if (++w.status.consecutive_failures <= kImmediateConflicts) return milliseconds(0);
        return backoff(w);
      }
      case Kind::kRefused:
        raise_once(w, "witness-refusal", "witness " + w.config.key.name + " refused checkpoint " +
                   std::to_string(job.target->size) + " (HTTP " + std::to_string(reply.http_status) + ")",
                   *job.target, reply);
        return failure(w, reply.error);
      case Kind::kFailed:
        return failure(w, reply.error);
    }
    return failure(w, reply.error);
  }

  std::optional<note::NoteSignature> valid_cosignature(const Witness& w, const std::string& text,
                                                       const std::vector<note::NoteSignature>& sigs) {
    for (const note::NoteSignature& sig : sigs) {
      if (sig.name != w.config.key.name || sig.id != w.config.key.id) continue;  // not its key
      if (note::verify_cosignature(text, w.config.key, sig)) return sig;
    }
    return std::nullopt;
  }

  milliseconds failure(Witness& w, const std::string& error) {
    w.status.last_error = error;
    ++w.status.consecutive_failures;
    return backoff(w);
  }

  milliseconds backoff(const Witness& w) const {
    const uint64_t doublings = std::min<uint64_t>(w.status.consecutive_failures - 1, 30);
    const auto max = options.backoff_max.count();
    const auto delay = options.backoff_initial.count() << doublings;
    return milliseconds(delay <= 0 || delay > max ? max : delay);
  }

  // One critical alert per kind and episode; the episode ends with the witness's next
  // cosignature. Requires mu.
  void raise_once(Witness& w, const std::string& kind, const std::string& summary, const Target& t,
                  const WitnessReply& reply) {
    if (!w.open_episodes.insert(kind).second) return;
    alerts::Alert a = alerts::make_alert(alerts::Severity::kCritical, kind, summary);
    a.resources = {w.config.key.name, w.config.url};
    a.evidence = {{"witness", w.config.key.name},
                  {"url", w.config.url},
                  {"checkpoint_size", t.size},
                  {"checkpoint", t.note},
                  {"http_status", reply.http_status}};
    if (reply.kind == WitnessReply::Kind::kConflict) a.evidence["witness_size"] = reply.witness_size;
    alerts.raise(a);
  }

  // ---- quorum ----

  // Publishes `t` with every valid cosignature collected for it if they reach the quorum and it is
  // newer (or better cosigned) than what is served: saved first, then served.
  void publish_if_quorum(const std::shared_ptr<Target>& t) {
    std::lock_guard publishing(publish_mu);
    std::vector<note::NoteSignature> sigs;
    {
      std::lock_guard lock(mu);
      for (const auto& w : witnesses) {
        auto it = w->cosignatures.find(t->size);
        if (it != w->cosignatures.end()) sigs.push_back(it->second);
      }
      if (sigs.size() < options.quorum) return;
      if (t->size < cosigned.size || (t->size == cosigned.size && sigs.size() <= cosigned_count)) return;
    }
    auto note = add_cosignatures(t->note, sigs);
    if (!note) return;
    if (!options.state_file.empty()) {
      Status saved = replace_file(options.state_file, *note, true);
      if (!saved) {
        std::lock_guard lock(mu);
        for (auto& w : witnesses) w->status.last_error = "cannot save the cosigned checkpoint: " + saved.message();
        return;
      }
    }
    {
      std::lock_guard lock(mu);
      cosigned = {t->size, std::move(*note)};
      cosigned_count = sigs.size();
      t->reached_quorum = true;
      for (auto& w : witnesses) std::erase_if(w->cosignatures, [&](const auto& kv) { return kv.first < t->size; });
    }
    cv.notify_all();  // workers waiting for a newer target
  }
};

Cosigner::Cosigner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Cosigner::~Cosigner() { impl_->stop(); }

Result<std::unique_ptr<Cosigner>> Cosigner::start(ledger::Ledger& ledger, storage::Store& store,
                                                  const note::VerifierKey& log_key,
                                                  std::vector<WitnessConfig> witnesses,
                                                  alerts::AlertSink& alerts, CosignerOptions options) {
  if (options.quorum == 0) options.quorum = witnesses.size();
  MEDSEAL_RETURN_IF_ERROR(check_config(witnesses, options.quorum));
  auto impl = std::make_unique<Impl>(ledger, store, log_key, alerts, options);
  for (WitnessConfig& config : witnesses) {
    auto client = WitnessClient::open(config.url, options.client);
    if (!client) return Status::invalid("witness " + config.key.name + ": " + client.status().message());
    auto w = std::make_unique<Witness>();
    w->status.name = config.key.name;
    w->status.url = config.url;
    w->config = std::move(config);
    w->client = std::move(*client);
    impl->witnesses.push_back(std::move(w));
  }
  impl->witness_keys = keys_of(impl->witnesses);
  MEDSEAL_RETURN_IF_ERROR(impl->load_saved());
  impl->start_workers();
  return std::unique_ptr<Cosigner>(new Cosigner(std::move(impl)));
}

storage::LogHead Cosigner::cosigned() const {
  std::lock_guard lock(impl_->mu);
  return impl_->cosigned;
}

size_t Cosigner::quorum() const { return impl_->options.quorum; }

std::vector<WitnessStatus> Cosigner::status() const {
  std::lock_guard lock(impl_->mu);
  std::vector<WitnessStatus> out;
  for (const auto& w : impl_->witnesses) out.push_back(w->status);
  return out;
}

bool Cosigner::is_witnessed(std::string_view checkpoint_note) const {
  return open_cosigned(checkpoint_note, impl_->log_key, impl_->witness_keys, impl_->options.quorum)
      .is_ok();
}

}  // namespace medseal::witness
