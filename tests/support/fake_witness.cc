#include "support/fake_witness.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <span>

#include "crypto/base64.h"
#include "merkle/proof.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "note/text.h"
#include "util/clock.h"

namespace medseal::testing {
namespace {

constexpr const char* kText = "text/plain; charset=utf-8";

struct ParsedRequest {
  uint64_t old_size = 0;
  std::vector<Hash> proof;
  std::string note;
};

// The tlog-witness request body; nullopt for anything malformed (a 400).
std::optional<ParsedRequest> parse_request(std::string_view body) {
  ParsedRequest r;
  auto first = note::text::next_line(body);
  if (!first || !first->line.starts_with("old ")) return std::nullopt;
  auto old = note::text::parse_decimal(first->line.substr(4));
  if (!old) return std::nullopt;
  r.old_size = *old;
  body = first->rest;
  for (;;) {
    auto line = note::text::next_line(body);
    if (!line) return std::nullopt;
    body = line->rest;
    if (line->line.empty()) break;
    auto bytes = crypto::base64_decode(line->line);
    if (!bytes || bytes->size() != 32 || r.proof.size() == 63) return std::nullopt;
    Hash h;
    std::copy(bytes->begin(), bytes->end(), h.begin());
    r.proof.push_back(h);
  }
  r.note = std::string(body);
  return r;
}

}  // namespace

FakeWitness::FakeWitness(std::string name, note::VerifierKey log_key)
    : log_key_(std::move(log_key)),
      key_(note::generate_signer_key(name, note::KeyType::kCosignatureV1)),
      forger_(note::generate_signer_key(name, note::KeyType::kCosignatureV1)),
      server_(std::make_unique<httplib::Server>()) {
  server_->set_tcp_nodelay(true);
  server_->Post("/add-checkpoint", [this](const httplib::Request& req, httplib::Response& res) {
    Reply r = answer(req.body);
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  EXPECT_GT(port_, 0);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeWitness::~FakeWitness() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  server_->stop();
  thread_.join();
}

std::string FakeWitness::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeWitness::set_mode(Mode mode) {
  {
    std::lock_guard lock(mu_);
    mode_ = mode;
  }
  cv_.notify_all();
}

void FakeWitness::set_state(uint64_t size, const Hash& root) {
  std::lock_guard lock(mu_);
  size_ = size;
  root_ = root;
}

uint64_t FakeWitness::size() const {
  std::lock_guard lock(mu_);
  return size_;
}

std::vector<FakeWitness::Call> FakeWitness::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

size_t FakeWitness::cosigned_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const Call& c : calls_) n += c.status == 200;
  return n;
}

FakeWitness::Reply FakeWitness::answer(const std::string& body) {
  std::unique_lock lock(mu_);
  if (mode_ == Mode::kHang) {
    cv_.wait(lock, [this] { return stopping_ || mode_ != Mode::kHang; });
    if (stopping_) return {503, kText, "stopping\n"};
  }
  Call call;
  Reply r{0, kText, ""};
  switch (mode_) {
    case Mode::kRefuse403: r = {403, kText, "refused\n"}; break;
    case Mode::kRefuse422: r = {422, kText, "bad proof\n"}; break;
    case Mode::kFail500: r = {500, kText, "down\n"}; break;
    default: r = honest(body, call); break;
  }
  call.status = r.status;
  calls_.push_back(call);
  return r;
}

// tlog-witness's checks in its order. Requires mu_.
FakeWitness::Reply FakeWitness::honest(const std::string& body, Call& call) {
  auto req = parse_request(body);
  if (!req) return {400, kText, "malformed\n"};
  call.old_size = req->old_size;
  call.proof_lines = req->proof.size();
  auto opened = note::open_note(req->note, std::span(&log_key_, 1));
  if (!opened) return {403, kText, "no trusted signature\n"};
  auto cp = note::parse_checkpoint(opened->text);
  if (!cp) return {400, kText, "not a checkpoint\n"};
  if (cp->origin != log_key_.name) return {404, kText, "unknown origin\n"};
  call.size = cp->size;
  if (req->old_size > cp->size) return {400, kText, "old size beyond the checkpoint\n"};
  const Reply conflict{409, "text/x.tlog.size", std::to_string(size_) + "\n"};
  if (req->old_size != size_) return conflict;
  if (req->old_size == cp->size) {
    if (size_ != 0 && cp->root != root_) return conflict;
    if (!req->proof.empty()) return {422, kText, "proof for equal sizes\n"};
  } else if (req->old_size == 0) {
    if (!req->proof.empty()) return {422, kText, "proof from size 0\n"};
  } else {
    if (!merkle::verify_consistency(req->old_size, cp->size, req->proof, root_, cp->root)) {
      return {422, kText, "consistency proof does not verify\n"};
    }
    call.proof_verified = true;
  }
  size_ = cp->size;
  root_ = cp->root;
  const uint64_t now = system_clock().now_ms() / 1000;
  const note::SignerKey& signer = mode_ == Mode::kForge ? forger_ : key_;
  auto sig = note::cosign(opened->text, signer, now);
  if (!sig) return {500, kText, "cannot cosign\n"};
  // The forger announces the real key's id, as an attacker would.
  sig->id = key_.id;
  return {200, kText, note::format_signature_line(*sig) + "\n"};
}

}  // namespace medseal::testing
