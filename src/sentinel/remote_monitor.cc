#include "sentinel/remote_monitor.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "mirror/store.h"
#include "tlog_client/verify.h"
#include "util/bytes.h"
#include "util/file_io.h"
#include "util/http_url.h"
#include "util/strict_json.h"

namespace medseal::sentinel {
namespace {

using alerts::Alert;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kStateFile = "/monitor.json";
constexpr size_t kMaxStateBytes = 64 << 20;
constexpr size_t kMaxPending = 100;       // pages waiting for an erasure that may explain a gap
constexpr size_t kMaxListedIndexes = 1000;
// server/fhir_api.h kLedgerIndexHeader (the server sits above this module).
constexpr const char* kLedgerIndexHeader = "X-Medseal-Ledger-Index";

std::optional<uint64_t> parse_decimal(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

class HttpStatements : public StatementsSource {
 public:
  HttpStatements(HttpUrl url, std::string token)
      : url_(std::move(url)), token_(std::move(token)), client_(url_.origin) {
    client_.set_keep_alive(true);
    client_.set_connection_timeout(10);
    client_.set_read_timeout(60);
    client_.set_follow_location(false);
  }

  Result<Fetched> fetch(uint64_t from, uint64_t count) override {
    const std::string path = url_.prefix + "/ledger/statements?from=" + std::to_string(from) +
                             "&count=" + std::to_string(count);
    const std::string what = "GET " + url_.origin + path;
    Fetched out;
    bool too_big = false;
    httplib::Headers headers = {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
    auto res = client_.Get(
        path, headers, [](const httplib::Response&) { return true; },
        [&](const char* data, size_t n) {
          if (out.body.size() + n > kMaxPageBytes) return !(too_big = true);
          out.body.append(data, n);
          return true;
        });
    if (too_big) return Status::invalid(what + ": the page is too large");
    if (!res) return Status::io(what + ": " + httplib::to_string(res.error()));
    if (res->status == 401 || res->status == 403) {
      return Status::denied(what + ": HTTP " + std::to_string(res->status) + " (an auditor token?)");
    }
    if (res->status != 200) return Status::io(what + ": HTTP " + std::to_string(res->status));
    out.own_index = parse_decimal(res->get_header_value(kLedgerIndexHeader));
    return out;
  }

 private:
  HttpUrl url_;
  std::string token_;
  httplib::Client client_;
};

std::vector<uint64_t> index_span(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (uint64_t i = from; i < to && out.size() < kMaxListedIndexes; ++i) out.push_back(i);
  return out;
}

Alert finding(std::string kind, std::string summary, std::vector<uint64_t> indexes,
              nlohmann::json evidence) {
  Alert a = alerts::make_alert(alerts::Severity::kCritical, std::move(kind), std::move(summary));
  a.resources = {"log_head"};
  a.indexes = std::move(indexes);
  a.evidence = std::move(evidence);
  return a;
}

}  // namespace

Result<std::unique_ptr<StatementsSource>> open_http_statements(std::string_view base_url,
                                                               std::string token) {
  Result<HttpUrl> url = parse_http_url(base_url);
  if (!url) return url.status();
  if (token.empty()) return Status::invalid("an auditor token is needed for statements pages");
  return std::unique_ptr<StatementsSource>(new HttpStatements(std::move(*url), std::move(token)));
}

// Counts what reaches the sink, the mirror's alerts included.
class RemoteMonitor::CountingSink : public alerts::AlertSink {
 public:
  explicit CountingSink(alerts::AlertSink& next) : next_(next) {}
  void raise(const Alert& alert) override {
    ++count;
    next_.raise(alert);
  }
  size_t count = 0;

 private:
  alerts::AlertSink& next_;
};

// A checked page whose gaps may still be explained by an erasure entry the monitor has not
// checked yet: finish() once every entry below `settle` (the store's size when the page was
// read, so any erasure committed before it) is checked or is one of our own access entries.
struct RemoteMonitor::Pending {
  IntegrityPage page;
  std::unique_ptr<PageRows> rows;
  std::unique_ptr<EntryChecker> checker;
  uint64_t settle = 0;
};

RemoteMonitor::RemoteMonitor(RemoteMonitorOptions options, std::unique_ptr<CountingSink> counter)
    : options_(std::move(options)), counter_(std::move(counter)) {}

RemoteMonitor::~RemoteMonitor() = default;

Result<std::unique_ptr<RemoteMonitor>> RemoteMonitor::open(RemoteMonitorOptions options,
                                                           alerts::AlertSink& sink) {
  if (options.page_entries == 0 || options.page_entries > kMaxPageEntries) {
    return Status::invalid("page entries must be 1.." + std::to_string(kMaxPageEntries));
  }
  Result<mirror::MirrorStore> store = mirror::MirrorStore::open(options.state_dir);
  if (!store) return store.status();
  auto counter = std::make_unique<CountingSink>(sink);
  mirror::MirrorConfig config = options.log;
  Result<std::unique_ptr<mirror::Mirror>> m = mirror::Mirror::open(std::move(*store), std::move(config), *counter);
  if (!m) return m.status();
  std::unique_ptr<RemoteMonitor> monitor(new RemoteMonitor(std::move(options), std::move(counter)));
  monitor->mirror_ = std::move(*m);
  MEDSEAL_RETURN_IF_ERROR(monitor->load_state());
  return monitor;
}

Status RemoteMonitor::load_state() {
  const std::string path = options_.state_dir + std::string(kStateFile);
  Result<std::string> text = read_file_bounded(path, kMaxStateBytes);
  if (!text && text.status().code() == Code::kNotFound) return Status::ok();
  if (!text) return text.status();
  const Status bad = Status::invalid(path + ": not a remote monitor state file");
  Result<nlohmann::json> j = parse_strict_json(*text, 4);
  if (!j || !j->is_object() || j->size() != 3 || !j->contains("checked") ||
      !(*j)["checked"].is_number_unsigned() || !j->contains("recheck") ||
      !(*j)["recheck"].is_number_unsigned() || !j->contains("erased") || !(*j)["erased"].is_array()) {
    return bad;
  }
  for (const nlohmann::json& i : (*j)["erased"]) {
    if (!i.is_number_unsigned()) return bad;
    erased_.insert(i.get<uint64_t>());
  }
  // Never beyond what the mirror verified (its store may be older than this file).
  checked_ = std::min((*j)["checked"].get<uint64_t>(), mirror_->head().size);
  recheck_ = std::min((*j)["recheck"].get<uint64_t>(), checked_);
  recheck_end_ = checked_;
  saved_ = *text;
  return Status::ok();
}

Status RemoteMonitor::save_state() {
  const nlohmann::json j = {{"checked", checked_}, {"recheck", recheck_}, {"erased", erased_}};
  const std::string text = j.dump() + "\n";
  if (text == saved_) return Status::ok();
  MEDSEAL_RETURN_IF_ERROR(replace_file(options_.state_dir + std::string(kStateFile), text, true));
  saved_ = text;
  return Status::ok();
}

void RemoteMonitor::raise(Alert alert) {
  const std::string signature = alert.kind + nlohmann::json(alert.resources).dump() +
                                nlohmann::json(alert.indexes).dump() + alert.evidence.dump();
  if (!raised_.insert(signature).second) return;
  alert.evidence["verified_checkpoint"] = mirror_->head().checkpoint;
  counter_->raise(alert);
}

void RemoteMonitor::raise_all(std::vector<Alert> found) {
  for (Alert& a : coalesce(std::move(found))) raise(std::move(a));
}

bool RemoteMonitor::only_own_entries(uint64_t from, uint64_t to) const {
  for (uint64_t i = from; i < to; ++i) {
    if (own_.count(i) == 0) return false;
  }
  return true;
}

// The store's head as the page saw it, against the tree the mirror verified. Each kind is raised
// once per verified size: while the store stays behind, every page would report it again.
void RemoteMonitor::check_head(const IntegrityPage& page) {
  const storage::LogHead verified = mirror_->head();
  const storage::LogHead& found = page.head;
  const std::string once = "head:" + std::to_string(verified.size) + ":";
  nlohmann::json evidence = {{"verified_size", verified.size}, {"found_size", found.size},
                             {"found_checkpoint", found.checkpoint}};
  Result<note::Checkpoint> cp = Status::not_found("a store never written");
  if (!found.checkpoint.empty()) cp = tlog_client::open_checkpoint(found.checkpoint, options_.log.log_key);
  std::optional<Alert> alert;
  if (!found.checkpoint.empty() && !cp) {
    alert = finding("bad-signature", "the store's checkpoint does not verify under the log key", {},
                    evidence);
  } else if (cp && cp->size != found.size) {
    alert = finding("content-mismatch", "the store's head size differs from its checkpoint's", {},
                    evidence);
  } else if (found.size < verified.size) {
    alert = finding("log-rollback", "the store holds fewer entries than the log the monitor "
                    "verified: truncated or replaced by an older copy",
                    index_span(found.size, verified.size), evidence);
  } else if (cp && found.size == verified.size) {
    Result<note::Checkpoint> mine = tlog_client::open_checkpoint(verified.checkpoint, options_.log.log_key);
    if (mine && mine->root != cp->root) {
      evidence["expected"] = hex_encode(mine->root);
      evidence["found"] = hex_encode(cp->root);
      alert = finding("fork", "the store's checkpoint has the verified size and another root", {},
                      evidence);
    }
  }
  if (!alert || !raised_.insert(once + alert->kind).second) return;
  raise(std::move(*alert));
}

// Fetches and checks the page of [from, to) (at most page_entries of it) against the mirror's
// verified tree; returns where the page ended (from itself when the store has no such entries).
Result<uint64_t> RemoteMonitor::check_page(StatementsSource& statements, uint64_t from, uint64_t to) {
  Result<StatementsSource::Fetched> fetched =
      statements.fetch(from, std::min(to - from, options_.page_entries));
  if (!fetched) return fetched.status();
  if (fetched->own_index) own_.insert(*fetched->own_index);
  Result<IntegrityPage> page = parse_integrity_page(fetched->body);
  if (!page) return page.status();
  if (page->from != from || page->to > to) return Status::invalid("statements page: not the range asked for");
  auto p = std::make_unique<Pending>();
  p->page = std::move(*page);
  check_head(p->page);
  const uint64_t size = mirror_->head().size;
  const uint64_t end = std::min(p->page.to, size);
  p->rows = std::make_unique<PageRows>(p->page, size, [this](const merkle::TileId& id) {
    return mirror_->read_tile(id);
  });
  p->checker = std::make_unique<EntryChecker>(*p->rows, erased_);
  MEDSEAL_RETURN_IF_ERROR(p->checker->check(from, end, size, nullptr));
  raise_all(std::move(p->checker->alerts()));
  p->checker->alerts().clear();
  p->settle = p->page.head.size;
  pending_.push_back(std::move(p));
  return end;
}

void RemoteMonitor::settle_pending() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = **it;
    const bool settled = p.settle <= checked_ || only_own_entries(checked_, p.settle) ||
                         pending_.size() > kMaxPending;
    if (!settled) {
      ++it;
      continue;
    }
    p.checker->finish();
    raise_all(std::move(p.checker->alerts()));
    it = pending_.erase(it);
  }
}

PollReport RemoteMonitor::poll(tlog_client::TileSource& log, StatementsSource& statements) {
  PollReport report;
  const size_t alerts_before = counter_->count;
  mirror::SyncReport sync = mirror_->sync(log);
  report.errors = std::move(sync.errors);
  const uint64_t size = mirror_->head().size;
  auto page_error = [&report](const Status& s) { report.errors.push_back(s.message()); };

  // New verified entries, unless they are only our own earlier page reads (up to a page of them:
  // that bounds what own_ holds and what only_own_entries scans on a quiet server).
  const bool backlog = size - std::min(checked_, size) >= options_.page_entries;
  if (checked_ < size && (backlog || !only_own_entries(checked_, size))) {
    while (checked_ < size) {
      Result<uint64_t> next = check_page(statements, checked_, size);
      if (!next) {
        page_error(next.status());
        break;
      }
      ++report.pages;
      if (*next == checked_) break;  // the store is shorter: check_head raised it
      checked_ = *next;
    }
  }
  own_.erase(own_.begin(), own_.lower_bound(checked_));
  settle_pending();

  // One older page per interval, round and round.
  const Clock::time_point now = Clock::now();
  if (options_.recheck.count() > 0 && checked_ > 0 && now >= next_recheck_) {
    next_recheck_ = now + options_.recheck;
    // A round ends where the checked entries ended when it began, so a log that grows faster
    // than the re-check reads still has its old entries re-checked, round after round.
    if (recheck_ >= recheck_end_ || recheck_end_ > checked_) {
      recheck_ = 0;
      recheck_end_ = checked_;
    }
    Result<uint64_t> next = check_page(statements, recheck_, recheck_end_);
    if (next) {
      ++report.pages;
      recheck_ = *next == recheck_ ? recheck_end_ : *next;
    } else {
      page_error(next.status());
    }
    settle_pending();
  }
  Status saved = save_state();
  if (!saved) page_error(saved);
  report.verified_size = size;
  report.checked = checked_;
  report.alerts = counter_->count - alerts_before;
  return report;
}

}  // namespace medseal::sentinel
