#include "witness/witness_client.h"

#include <httplib.h>

#include "crypto/base64.h"
#include "note/text.h"  // the C2SP decimal and line rules, which tlog-witness shares
#include "util/http_url.h"

namespace medseal::witness {
namespace {

constexpr const char* kRequestType = "text/plain; charset=utf-8";
constexpr std::string_view kSizeType = "text/x.tlog.size";

WitnessReply failed(int http_status, std::string error) {
  WitnessReply r;
  r.kind = WitnessReply::Kind::kFailed;
  r.http_status = http_status;
  r.error = std::move(error);
  return r;
}

// The media type without parameters, lowercased.
std::string media_type(std::string value) {
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.back() == ' ') value.pop_back();
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value;
}

WitnessReply classify(int status, const std::string& content_type, const std::string& body) {
  const std::string where = "HTTP " + std::to_string(status);
  if (status == 200) {
    auto lines = parse_cosignature_lines(body);
    if (!lines) return failed(status, where + ": " + lines.status().message());
    WitnessReply r;
    r.kind = WitnessReply::Kind::kCosigned;
    r.http_status = status;
    r.cosignatures = std::move(*lines);
    return r;
  }
  if (status == 409) {
    if (media_type(content_type) != kSizeType) {
      return failed(status, where + " without Content-Type " + std::string(kSizeType));
    }
    auto size = parse_tlog_size(body);
    if (!size) return failed(status, where + ": " + size.status().message());
    WitnessReply r;
    r.kind = WitnessReply::Kind::kConflict;
    r.http_status = status;
    r.witness_size = *size;
    return r;
  }
  WitnessReply r = failed(status, where);
  if (status == 403) {
    r.kind = WitnessReply::Kind::kRefused;
    r.error += ": the witness trusts no signature on the checkpoint";
  } else if (status == 422) {
    r.kind = WitnessReply::Kind::kRefused;
    r.error += ": the witness rejected the consistency proof";
  }
  return r;
}

}  // namespace

Result<std::string> format_add_checkpoint(uint64_t old_size, std::span<const Hash> proof,
                                          std::string_view checkpoint_note) {
  if (proof.size() > kMaxProofLines) {
    return Status::invalid("a consistency proof of " + std::to_string(proof.size()) +
                           " hashes is longer than tlog-witness allows");
  }
  std::string body = "old " + std::to_string(old_size) + "\n";
  for (const Hash& h : proof) body += crypto::base64_encode(as_view(h)) + "\n";
  body += "\n";
  body += checkpoint_note;
  return body;
}

Result<uint64_t> parse_tlog_size(std::string_view body) {
  auto split = note::text::next_line(body);
  if (!split || !split->rest.empty()) {
    return Status::invalid("a tlog size is one line ending in a newline");
  }
  auto size = note::text::parse_decimal(split->line);
  if (!size) return Status::invalid("a tlog size is a decimal without sign or leading zeros");
  return *size;
}

Result<std::vector<note::NoteSignature>> parse_cosignature_lines(std::string_view body) {
  std::vector<note::NoteSignature> out;
  while (!body.empty()) {
    auto split = note::text::next_line(body);
    if (!split) return Status::invalid("a cosignature line does not end in a newline");
    auto sig = note::parse_signature_line(split->line);
    if (!sig) return Status::invalid("not a cosignature line: " + sig.status().message());
    if (out.size() == note::kMaxSignatures) return Status::invalid("too many cosignature lines");
    out.push_back(std::move(*sig));
    body = split->rest;
  }
  if (out.empty()) return Status::invalid("no cosignature lines");
  return out;
}

struct WitnessClient::Impl {
  Impl(const HttpUrl& u, const WitnessClientOptions& o) : path(u.prefix + "/add-checkpoint"), client(u.origin) {
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // small requests must not wait for delayed ACKs
    client.set_connection_timeout(o.connect_timeout);
    client.set_read_timeout(o.read_timeout);
    client.set_write_timeout(o.read_timeout);
    client.set_follow_location(false);  // a witness answers at its own address
  }
  std::string path;
  httplib::Client client;
};

WitnessClient::WitnessClient(std::string url, std::unique_ptr<Impl> impl)
    : url_(std::move(url)), impl_(std::move(impl)) {}

WitnessClient::~WitnessClient() = default;

Result<std::unique_ptr<WitnessClient>> WitnessClient::open(std::string_view url,
                                                           WitnessClientOptions options) {
  auto parsed = parse_http_url(url);
  if (!parsed) return parsed.status();
  auto impl = std::make_unique<Impl>(*parsed, options);
  return std::unique_ptr<WitnessClient>(new WitnessClient(std::string(url), std::move(impl)));
}

void WitnessClient::cancel() { impl_->client.stop(); }

WitnessReply WitnessClient::add_checkpoint(uint64_t old_size, std::span<const Hash> proof,
                                           std::string_view checkpoint_note) {
  auto body = format_add_checkpoint(old_size, proof, checkpoint_note);
  if (!body) return failed(0, body.status().message());
  std::string response;
  bool too_big = false;
  httplib::Request req;
  req.method = "POST";
  req.path = impl_->path;
  req.body = std::move(*body);
  req.set_header("Content-Type", kRequestType);
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (response.size() + n > kMaxWitnessResponseBytes) return !(too_big = true);
    response.append(data, n);
    return true;
  };
  httplib::Result res = impl_->client.send(req);
  if (too_big) return failed(0, "the response is larger than a witness sends");
  if (!res) return failed(0, "POST add-checkpoint: " + httplib::to_string(res.error()));
  return classify(res->status, res->get_header_value("Content-Type"), response);
}

}  // namespace medseal::witness
