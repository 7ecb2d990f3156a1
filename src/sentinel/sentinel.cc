#include "sentinel/sentinel.h"

#include <time.h>

#include <algorithm>
#include <map>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "merkle/compact_range.h"
#include "note/checkpoint.h"
#include "sentinel/checks.h"
#include "sentinel/store_view.h"
#include "tlog_client/verify.h"
#include "util/bytes.h"
#include "util/file_io.h"

namespace medseal::sentinel {
namespace {

using alerts::Alert;
using Clock = std::chrono::steady_clock;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

constexpr size_t kMaxStateBytes = 1 << 20;
constexpr size_t kMaxListedIndexes = 1000;  // an alert lists at most this many indexes

struct SavedState {
  uint64_t size = 0;
  std::string checkpoint;
};

// The state file, or nothing when it does not exist. A file that is not ours is an error.
Result<std::optional<SavedState>> load_state(const std::string& path) {
  Result<std::string> text = read_file_bounded(path, kMaxStateBytes);
  if (!text && text.status().code() == Code::kNotFound) return std::optional<SavedState>();
  if (!text) return text.status();
  try {
    const nlohmann::json j = nlohmann::json::parse(*text);
    if (!j.is_object() || j.size() != 2 || !j.at("size").is_number_unsigned() ||
        !j.at("checkpoint").is_string()) {
      return Status::invalid(path + ": not a sentinel state file");
    }
    return std::optional<SavedState>(
        SavedState{j.at("size").get<uint64_t>(), j.at("checkpoint").get<std::string>()});
  } catch (const nlohmann::json::exception&) {
    return Status::invalid(path + ": not a sentinel state file");
  }
}

std::vector<uint64_t> index_span(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (uint64_t i = from; i < to && out.size() < kMaxListedIndexes; ++i) out.push_back(i);
  return out;
}

Alert finding(std::string kind, std::string summary, std::vector<std::string> resources,
              std::vector<uint64_t> indexes, nlohmann::json evidence) {
  Alert a = alerts::make_alert(alerts::Severity::kCritical, std::move(kind), std::move(summary));
  a.resources = std::move(resources);
  a.indexes = std::move(indexes);
  a.evidence = std::move(evidence);
  return a;
}

}  // namespace

// One pass over entries [0, target) against the checkpoint of `target`, step by step.
struct Pass {
  note::Checkpoint checkpoint;
  uint64_t cursor = 0;
  merkle::CompactRange range;
  std::unique_ptr<EntryChecker> checker;
  std::optional<SavedState> pin;  // a verified older checkpoint the tree must extend
  std::optional<note::Checkpoint> pin_checkpoint;
  bool signed_head = false;  // false for a store never written (no checkpoint to compare)
  bool done() const { return cursor >= checkpoint.size; }
};

class Sentinel::Impl {
 public:
  Impl(SentinelOptions options, alerts::AlertSink& sink, std::unique_ptr<SentinelView> view)
      : options_(std::move(options)), sink_(sink), view_(std::move(view)) {
    if (options_.access_rules) access_ = std::make_unique<AccessRules>(*options_.access_rules, sink_);
  }

  Result<FullPassReport> initial_pass(const std::function<void(uint64_t, uint64_t)>& progress);
  void run();
  void stop() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  Status save_state();

  std::atomic<uint64_t> alerts_raised{0};
  std::atomic<uint64_t> full_passes{0};

 private:
  void raise(Alert alert);
  size_t raise_all(std::vector<Alert>& found);
  // Feeds the access rules the access entries at or beyond `from` that `checker` verifies.
  void feed_accesses(EntryChecker& checker, uint64_t from);
  Result<Pass> begin_pass(std::optional<SavedState> pin);
  // With `guard`, does nothing (returns false) when the snapshot holds a commit the live checks
  // have not seen yet, so an erasure is known before the gaps it explains are judged.
  Result<bool> step_pass(Pass& pass, uint64_t max_entries, bool guard = false);
  std::vector<Alert> finish_pass(Pass& pass);
  void adopt(const storage::LogHead& head, const note::Checkpoint& checkpoint,
             merkle::CompactRange range, bool good);
  Status tick();
  Status on_change();
  // Inside a snapshot: data_version_ becomes the snapshot's, so only a change after it counts.
  Status adopt_data_version();
  // on_change() if data_version moved since the last look.
  Status catch_up();
  Status check_head(const storage::LogHead& head, bool* foreign);
  Status check_growth(const storage::LogHead& head, const note::Checkpoint& checkpoint);
  Status check_beyond(uint64_t size);
  Status sweep_foreign_write(int64_t version);
  Result<bool> foreign_commit_landed();
  Status rolling_step();

  SentinelOptions options_;
  alerts::AlertSink& sink_;
  std::unique_ptr<SentinelView> view_;
  std::unique_ptr<AccessRules> access_;
  ErasedSet erased_;
  std::set<std::string> raised_;

  uint64_t verified_size_ = 0;
  std::string verified_note_;  // the head the sentinel has checked up to
  std::string good_note_;      // the newest checkpoint that verified with no finding
  Hash verified_root_{};
  merkle::CompactRange live_;
  bool live_ok_ = true;
  int64_t data_version_ = 0;

  std::optional<Pass> rolling_;
  Clock::time_point next_chunk_{};
  Clock::time_point next_pass_{};
  Clock::time_point last_save_{};
  bool state_dirty_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

void Sentinel::Impl::raise(Alert alert) {
  nlohmann::json evidence = alert.evidence;
  const std::string signature = alert.kind + nlohmann::json(alert.resources).dump() +
                                nlohmann::json(alert.indexes).dump() + evidence.dump();
  if (!raised_.insert(signature).second) return;
  alert.evidence["verified_checkpoint"] = good_note_;
  sink_.raise(alert);
  ++alerts_raised;
}

size_t Sentinel::Impl::raise_all(std::vector<Alert>& found) {
  const uint64_t before = alerts_raised;
  if (!options_.coalesce) {
    for (Alert& a : found) raise(std::move(a));
  } else {
    for (Alert& a : coalesce(std::move(found))) raise(std::move(a));
  }
  found.clear();
  return alerts_raised - before;
}

void Sentinel::Impl::feed_accesses(EntryChecker& checker, uint64_t from) {
  if (!access_) return;
  checker.observe_accesses([this, from](uint64_t index, uint64_t time_ms,
                                        const records::Statement& statement) {
    if (index >= from) access_->observe(index, time_ms, statement);
  });
}


Result<Pass> Sentinel::Impl::begin_pass(std::optional<SavedState> pin) {
  MEDSEAL_RETURN_IF_ERROR(view_->begin_snapshot());
  Result<storage::LogHead> head = view_->head();
  view_->end_snapshot();
  if (!head) return head.status();
  Pass pass;
  if (head->size > 0 || !head->checkpoint.empty()) {
    Result<note::Checkpoint> cp = tlog_client::open_checkpoint(head->checkpoint, options_.vkey);
    if (!cp) {
      raise(finding("bad-signature", "the stored checkpoint does not verify under the log key",
                    {"log_head"}, {}, {{"found", head->checkpoint}}));
      return Status::verification("the stored checkpoint does not verify");
    }
    pass.checkpoint = std::move(*cp);
    pass.signed_head = true;
  }
  pass.checker = std::make_unique<EntryChecker>(*view_, erased_);
  if (pin) {
    Result<note::Checkpoint> old = tlog_client::open_checkpoint(pin->checkpoint, options_.vkey);
    if (old && old->size == pin->size) {
      pass.pin = std::move(pin);
      pass.pin_checkpoint = std::move(*old);
    }
  }
  return pass;
}

Result<bool> Sentinel::Impl::step_pass(Pass& pass, uint64_t max_entries, bool guard) {
  uint64_t to = std::min(pass.checkpoint.size, pass.cursor + max_entries);
  if (pass.pin && pass.pin->size > pass.cursor && pass.pin->size < to) to = pass.pin->size;
  MEDSEAL_RETURN_IF_ERROR(view_->begin_snapshot());
  if (guard) {
    Result<storage::LogHead> head = view_->head();  // starts the read transaction
    Result<int64_t> version = head ? view_->data_version() : head.status();
    if (!version || *version != data_version_) {
      view_->end_snapshot();
      if (!version) return version.status();
      return false;
    }
  }
  Status s = pass.checker->check(pass.cursor, to, pass.checkpoint.size, &pass.range);
  view_->end_snapshot();
  MEDSEAL_RETURN_IF_ERROR(s);
  pass.cursor = to;
  if (pass.pin && pass.cursor == pass.pin->size && !pass.checker->broken() &&
      pass.range.root() != pass.pin_checkpoint->root) {
    raise(finding("fork", "the store's tree does not extend the checkpoint verified before",
                  {"log_head"}, {},
                  {{"expected", hex_encode(pass.pin_checkpoint->root)},
                   {"found", hex_encode(pass.range.root())},
                   {"verified_size", pass.pin->size},
                   {"saved_checkpoint", pass.pin->checkpoint}}));
  }
  return true;
}

std::vector<Alert> Sentinel::Impl::finish_pass(Pass& pass) {
  pass.checker->finish();
  std::vector<Alert> found = std::move(pass.checker->alerts());
  if (pass.signed_head && !pass.checker->broken() &&
      pass.range.root() != pass.checkpoint.root) {
    found.push_back(finding("content-mismatch",
                            "the tree's root differs from the signed checkpoint", {"log_head"}, {},
                            {{"expected", hex_encode(pass.checkpoint.root)},
                             {"found", hex_encode(pass.range.root())},
                             {"size", pass.checkpoint.size}}));
  }
  ++full_passes;
  return found;
}

void Sentinel::Impl::adopt(const storage::LogHead& head, const note::Checkpoint& checkpoint,
                           merkle::CompactRange range, bool good) {
  verified_size_ = head.size;
  verified_note_ = head.checkpoint;
  verified_root_ = checkpoint.root;
  live_ = std::move(range);
  if (good) {
    good_note_ = head.checkpoint;
    state_dirty_ = true;
  }
}

Result<FullPassReport> Sentinel::Impl::initial_pass(
    const std::function<void(uint64_t, uint64_t)>& progress) {
  Result<std::optional<SavedState>> saved = load_state(options_.state_path);
  if (!saved) return saved.status();
  Result<int64_t> version = view_->data_version();
  if (!version) return version.status();
  data_version_ = *version;
  if (options_.foreign_commits) {
    Result<bool> primed = options_.foreign_commits();  // the first call starts the count
    if (!primed) return primed.status();
  }
  if (*saved) good_note_ = (*saved)->checkpoint;

  const Clock::time_point start = Clock::now();
  const double cpu_start = thread_cpu_seconds();
  const uint64_t bytes_before = view_->bytes_read();
  FullPassReport report;
  Result<Pass> pass = begin_pass(*saved);
  if (!pass) {
    report.findings = alerts_raised;
    return report;  // bad-signature was raised
  }
  feed_accesses(*pass->checker, *saved ? (*saved)->size : 0);
  if (*saved && (*saved)->size > pass->checkpoint.size) {
    raise(finding("log-rollback", "the store holds fewer entries than the sentinel verified before",
                  {"log_head"}, index_span(pass->checkpoint.size, (*saved)->size),
                  {{"verified_size", (*saved)->size}, {"found_size", pass->checkpoint.size}}));
  }
  while (!pass->done()) {
    Result<bool> stepped = step_pass(*pass, 65536);
    if (!stepped) return stepped.status();
    if (progress) progress(pass->cursor, pass->checkpoint.size);
  }
  std::vector<Alert> found = finish_pass(*pass);
  const bool good = found.empty();
  raise_all(found);
  report.findings = alerts_raised;
  storage::LogHead head{pass->checkpoint.size, ""};
  MEDSEAL_RETURN_IF_ERROR(view_->begin_snapshot());
  Result<storage::LogHead> stored = view_->head();
  // The head is adopted as this snapshot shows it, so polls compare with its data_version; a head
  // that moved on keeps the one read before the pass, so the first poll reads it again.
  Status adopted = stored && stored->size == head.size ? adopt_data_version() : stored.status();
  view_->end_snapshot();
  MEDSEAL_RETURN_IF_ERROR(adopted);
  head.checkpoint = stored->size == head.size ? stored->checkpoint : "";
  live_ok_ = !pass->checker->broken();
  adopt(head, pass->checkpoint, std::move(pass->range), good && !head.checkpoint.empty());
  if (head.checkpoint.empty()) verified_note_.clear();  // the head moved on: re-read next poll
  report.entries = pass->checkpoint.size;
  report.bytes = view_->bytes_read() - bytes_before;
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.cpu_seconds = thread_cpu_seconds() - cpu_start;
  return report;
}

Status Sentinel::Impl::save_state() {
  if (!state_dirty_ || good_note_.empty()) return Status::ok();
  Result<note::Checkpoint> cp = tlog_client::open_checkpoint(good_note_, options_.vkey);
  if (!cp) return cp.status();
  const nlohmann::json j = {{"size", cp->size}, {"checkpoint", good_note_}};
  MEDSEAL_RETURN_IF_ERROR(replace_file(options_.state_path, j.dump() + "\n", true));
  state_dirty_ = false;
  last_save_ = Clock::now();
  return Status::ok();
}

Status Sentinel::Impl::check_beyond(uint64_t size) {
  std::vector<Alert> found;
  Result<std::vector<RecordRow>> records = view_->records(size, UINT64_MAX);
  if (!records) return records.status();
  for (const RecordRow& r : *records) {
    found.push_back(finding("unexpected-row", "a record version lies beyond the signed log",
                            {versioned_name(r)}, {r.ledger_index}, {{"table", "record_versions"}}));
  }
  Result<std::vector<KeyRow>> keys = view_->keys(size, UINT64_MAX);
  if (!keys) return keys.status();
  for (const KeyRow& k : *keys) {
    found.push_back(finding("unexpected-row", "an access-trail key row lies beyond the signed log",
                            {k.key}, {k.index}, {{"table", "entry_keys"}}));
  }
  raise_all(found);
  return Status::ok();
}

Status Sentinel::Impl::check_growth(const storage::LogHead& head,
                                    const note::Checkpoint& checkpoint) {
  EntryChecker checker(*view_, erased_);
  feed_accesses(checker, verified_size_);
  merkle::CompactRange range = live_;
  MEDSEAL_RETURN_IF_ERROR(checker.check(verified_size_, head.size, head.size, &range));
  checker.finish();
  std::vector<Alert> found = std::move(checker.alerts());
  live_ok_ = live_ok_ && !checker.broken();
  if (live_ok_ && range.root() != checkpoint.root) {
    found.push_back(finding("content-mismatch",
                            "the new entries do not produce the signed checkpoint's root",
                            {"log_head"}, index_span(verified_size_, head.size),
                            {{"expected", hex_encode(checkpoint.root)},
                             {"found", hex_encode(range.root())}}));
  }
  const bool good = found.empty();
  raise_all(found);
  adopt(head, checkpoint, std::move(range), good);
  return Status::ok();
}

Status Sentinel::Impl::adopt_data_version() {
  Result<int64_t> version = view_->data_version();
  if (!version) return version.status();
  data_version_ = *version;
  return Status::ok();
}

Status Sentinel::Impl::check_head(const storage::LogHead& head, bool* foreign) {
  *foreign = head.size == verified_size_ && head.checkpoint == verified_note_;
  if (*foreign) return Status::ok();
  Result<note::Checkpoint> cp = tlog_client::open_checkpoint(head.checkpoint, options_.vkey);
  const nlohmann::json seen = {{"verified_size", verified_size_}, {"found_size", head.size}};
  if (!cp) {
    raise(finding("bad-signature", "the stored checkpoint does not verify under the log key",
                  {"log_head"}, {}, {{"found", head.checkpoint}, {"found_size", head.size}}));
    return Status::ok();
  }
  if (cp->size != head.size) {
    raise(finding("content-mismatch", "the head's size differs from its checkpoint's",
                  {"log_head"}, {}, {{"expected", cp->size}, {"found", head.size}}));
    return Status::ok();
  }
  if (head.size < verified_size_) {
    nlohmann::json evidence = seen;
    evidence["found_checkpoint"] = head.checkpoint;
    raise(finding("log-rollback", "the log is shorter than the sentinel verified: truncated or "
                  "replaced by an older copy", {"log_head"}, index_span(head.size, verified_size_),
                  evidence));
    return Status::ok();
  }
  if (head.size == verified_size_) {
    if (cp->root == verified_root_) return Status::ok();  // the same tree, re-signed
    nlohmann::json evidence = seen;
    evidence["expected"] = hex_encode(verified_root_);
    evidence["found"] = hex_encode(cp->root);
    raise(finding("fork", "a checkpoint of the same size with another root", {"log_head"}, {},
                  evidence));
    return Status::ok();
  }
  return check_growth(head, *cp);
}

Status Sentinel::Impl::on_change() {
  MEDSEAL_RETURN_IF_ERROR(view_->begin_snapshot());
  bool foreign = false;
  Result<storage::LogHead> head = view_->head();
  Status s = head.status();
  // The snapshot may hold commits made after tick() read data_version, and opening it moved the
  // connection's data_version past them: keep the snapshot's own, or the next poll would see
  // those commits as a change, find the head it already verified, and call them foreign.
  if (s) s = adopt_data_version();
  if (s) s = check_head(*head, &foreign);
  if (s) s = check_beyond(std::max(head->size, verified_size_));
  view_->end_snapshot();
  MEDSEAL_RETURN_IF_ERROR(s);
  if (options_.foreign_commits) {
    Result<bool> told = options_.foreign_commits();
    if (!told) return told.status();
    if (*told) return sweep_foreign_write(data_version_);
  }
  Result<std::optional<bool>> attributed = view_->foreign_commits();
  if (!attributed) return attributed.status();
  if (attributed->has_value()) {
    // Exact: the head rule would call the server's commit that landed between our poll and our
    // read of the head foreign.
    return **attributed ? sweep_foreign_write(data_version_) : Status::ok();
  }
  if (!foreign) return Status::ok();
  Result<bool> committed = foreign_commit_landed();
  if (!committed) return committed.status();
  return *committed ? sweep_foreign_write(data_version_) : Status::ok();
}

// Called when data_version changed but the head did not. Not foreign: a WAL restart at the start
// of a write transaction (nothing committed yet), or the server's commit landing just after the
// head was read. The WAL index is read before the head is read again, so a commit the index
// shows is visible to that read.
Result<bool> Sentinel::Impl::foreign_commit_landed() {
  Result<bool> may = view_->may_have_committed();
  if (!may) return may.status();
  if (!*may) return false;
  MEDSEAL_RETURN_IF_ERROR(view_->begin_snapshot());
  Result<storage::LogHead> head = view_->head();
  view_->end_snapshot();
  if (!head) return head.status();
  return head->size == verified_size_ && head->checkpoint == verified_note_;
}

Status Sentinel::Impl::sweep_foreign_write(int64_t version) {
  Result<Pass> pass = begin_pass(std::nullopt);
  if (!pass) return Status::ok();  // bad-signature raised
  while (!pass->done()) {
    Result<bool> stepped = step_pass(*pass, 65536);
    if (!stepped) return stepped.status();
  }
  std::vector<Alert> found = finish_pass(*pass);
  std::vector<std::string> resources;
  std::vector<uint64_t> indexes;
  std::vector<std::string> kinds;
  for (const Alert& a : found) {
    resources.insert(resources.end(), a.resources.begin(), a.resources.end());
    indexes.insert(indexes.end(), a.indexes.begin(), a.indexes.end());
    kinds.push_back(a.kind);
  }
  raise_all(found);
  std::sort(resources.begin(), resources.end());
  resources.erase(std::unique(resources.begin(), resources.end()), resources.end());
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  if (indexes.size() > kMaxListedIndexes) indexes.resize(kMaxListedIndexes);
  if (resources.size() > kMaxListedIndexes) resources.resize(kMaxListedIndexes);
  // Raised every time: each foreign commit is an event of its own, even one that verifies.
  Alert a = finding("foreign-write",
                    "a connection other than the server's writer committed to the store", resources,
                    indexes, {{"data_version", version}, {"findings", kinds}});
  const nlohmann::json attributed = view_->foreign_evidence();  // which transactions, roles
  for (auto it = attributed.begin(); it != attributed.end(); ++it) a.evidence[it.key()] = *it;
  a.evidence["verified_checkpoint"] = good_note_;
  sink_.raise(a);
  ++alerts_raised;
  // And a fresh rolling pass at once: a second look at whatever the foreign connection does next.
  rolling_.reset();
  next_pass_ = Clock::now();
  return Status::ok();
}

Status Sentinel::Impl::rolling_step() {
  const Clock::time_point now = Clock::now();
  if (!rolling_) {
    if (now < next_pass_) return Status::ok();
    Result<Pass> pass = begin_pass(std::nullopt);
    if (!pass) return pass.status().code() == Code::kVerificationFailed ? Status::ok() : pass.status();
    rolling_ = std::move(*pass);
  }
  if (now < next_chunk_) return Status::ok();
  // Only the last chunk needs the guard: an erasure seen by an earlier chunk's snapshot is in the
  // last one's too, and finish() judges the gaps after it. Guarding every chunk would starve the
  // pass under steady load (a commit lands between nearly any two polls).
  const bool last = rolling_->cursor + options_.full_chunk_entries >= rolling_->checkpoint.size;
  Result<bool> stepped = step_pass(*rolling_, options_.full_chunk_entries, last);
  if (stepped && !*stepped) {
    // A commit the live checks have not seen: take it in, then try once more.
    MEDSEAL_RETURN_IF_ERROR(catch_up());
    if (!rolling_) return Status::ok();  // a sweep restarted the pass
    stepped = step_pass(*rolling_, options_.full_chunk_entries, true);
  }
  if (!stepped) return stepped.status();
  if (*stepped && rolling_->done()) {
    std::vector<Alert> found = finish_pass(*rolling_);
    raise_all(found);
    rolling_.reset();
    next_pass_ = now + std::chrono::seconds(1);
  }
  const auto spent = Clock::now() - now;
  next_chunk_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                   spent * (1.0 / options_.full_duty - 1.0));
  return Status::ok();
}

Status Sentinel::Impl::catch_up() {
  Result<int64_t> version = view_->data_version();
  if (!version) return version.status();
  if (*version == data_version_) return Status::ok();
  data_version_ = *version;
  return on_change();
}

Status Sentinel::Impl::tick() {
  Result<bool> replaced = view_->replaced();
  if (!replaced) return replaced.status();
  if (*replaced) {
    Result<int64_t> version = view_->data_version();
    if (!version) return version.status();
    data_version_ = *version;
    rolling_.reset();
    return on_change();
  }
  MEDSEAL_RETURN_IF_ERROR(catch_up());
  if (state_dirty_ && Clock::now() - last_save_ >= std::chrono::seconds(1)) {
    MEDSEAL_RETURN_IF_ERROR(save_state());
  }
  return rolling_step();
}

void Sentinel::Impl::run() {
  std::string last_error;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, options_.poll, [this] { return stopping_; })) break;
    }
    Status s = tick();
    view_->end_snapshot();
    if (!s && s.message() != last_error) {
      // One line per distinct error: a busy or replaced file is retried at the next poll.
      std::fprintf(stderr, "medseal sentinel: %s\n", s.message().c_str());
      last_error = s.message();
    }
  }
  (void)save_state();
}

Sentinel::Sentinel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  thread_ = std::thread([this] { impl_->run(); });
}

Sentinel::~Sentinel() {
  impl_->stop();
  if (thread_.joinable()) thread_.join();
}

uint64_t Sentinel::alerts_raised() const { return impl_->alerts_raised; }
uint64_t Sentinel::full_passes() const { return impl_->full_passes; }

namespace {

Result<std::unique_ptr<Sentinel::Impl>> open_impl(const SentinelOptions& options,
                                                  alerts::AlertSink& sink) {
  if (options.full_duty <= 0 || options.full_duty > 1) {
    return Status::invalid("the full pass duty must be in (0, 1]");
  }
  Result<std::unique_ptr<SentinelView>> view = open_sentinel_view(options.db_path);
  if (!view) return view.status();
  return std::make_unique<Sentinel::Impl>(options, sink, std::move(*view));
}

}  // namespace

Result<std::unique_ptr<Sentinel>> Sentinel::start(SentinelOptions options,
                                                  alerts::AlertSink& sink) {
  Result<std::unique_ptr<Impl>> impl = open_impl(options, sink);
  if (!impl) return impl.status();
  Result<FullPassReport> first = (*impl)->initial_pass(nullptr);
  if (!first) return first.status();
  MEDSEAL_RETURN_IF_ERROR((*impl)->save_state());
  return std::unique_ptr<Sentinel>(new Sentinel(std::move(*impl)));
}

Result<FullPassReport> verify_store(const SentinelOptions& options, alerts::AlertSink& sink,
                                    const std::function<void(uint64_t, uint64_t)>& progress) {
  SentinelOptions once = options;
  once.access_rules.reset();
  Result<std::unique_ptr<Sentinel::Impl>> impl = open_impl(once, sink);
  if (!impl) return impl.status();
  Result<FullPassReport> report = (*impl)->initial_pass(progress);
  if (!report) return report.status();
  if (options.save_state) MEDSEAL_RETURN_IF_ERROR((*impl)->save_state());
  return report;
}

}  // namespace medseal::sentinel
