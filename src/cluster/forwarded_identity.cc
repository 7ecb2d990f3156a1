#include "cluster/forwarded_identity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

#include "crypto/random.h"
#include "crypto/sha256.h"
#include "util/bytes.h"

namespace medseal::cluster {
namespace {

constexpr std::string_view kVersion = "v1";
constexpr size_t kNonceBytes = 16;
constexpr size_t kMacHexChars = 64;  // HMAC-SHA256
constexpr size_t kMaxSourceBytes = 64;   // an IPv6 address with a zone fits
constexpr size_t kMaxPersonBytes = 256;

void add_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += '\n';
}

bool all_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

struct Proof {
  std::string_view at, nonce, mac;
  uint64_t at_ms = 0;
};

// "v1 <ms> <nonce hex> <mac hex>", nothing else.
Result<Proof> parse_proof(std::string_view text) {
  Proof p;
  std::string_view parts[4];
  for (std::string_view& part : parts) {
    const size_t space = text.find(' ');
    part = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  }
  if (!text.empty() || parts[0] != kVersion) return Status::invalid("forwarded proof: not v1");
  p.at = parts[1];
  p.nonce = parts[2];
  p.mac = parts[3];
  auto [end, ec] = std::from_chars(p.at.data(), p.at.data() + p.at.size(), p.at_ms);
  if (ec != std::errc() || end != p.at.data() + p.at.size() || p.at.empty() || p.at.size() > 15) {
    return Status::invalid("forwarded proof: bad time");
  }
  if (p.nonce.size() != 2 * kNonceBytes || !all_hex(p.nonce)) return Status::invalid("forwarded proof: bad nonce");
  if (p.mac.size() != kMacHexChars || !all_hex(p.mac)) return Status::invalid("forwarded proof: bad MAC");
  return p;
}

}  // namespace

ForwardedIdentity::ForwardedIdentity(std::string secret, const Clock& clock)
    : secret_(std::move(secret)), clock_(clock) {}

std::string ForwardedIdentity::mac(const server::fhir::Request& r, std::string_view target, std::string_view at,
                                   std::string_view nonce, std::string_view source,
                                   std::string_view person) const {
  std::string text = "medseal-forwarded-";
  text += kVersion;
  text += '\n';
  // Not Host: a client may send none, and then the HTTP library writes the leader's. It only
  // shapes absolute URLs in the answer.
  for (std::string_view field : {at, nonce, std::string_view(r.method), target, std::string_view(r.authorization), std::string_view(r.accept),
                                 std::string_view(r.content_type), std::string_view(r.if_match),
                                 std::string_view(r.purpose), std::string_view(r.break_glass)}) {
    add_field(text, field);
  }
  add_field(text, as_view(crypto::sha256(r.body)));
  add_field(text, source);
  add_field(text, person);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &length) == nullptr) {
    return "";  // never equal to a parsed MAC (64 hex digits)
  }
  return hex_encode(std::string_view(reinterpret_cast<const char*>(out), length));
}

std::vector<std::pair<std::string, std::string>> ForwardedIdentity::sign(const server::fhir::Request& request,
                                                                       std::string_view target) const {
  uint8_t nonce_bytes[kNonceBytes];
  crypto::random_bytes(nonce_bytes, sizeof nonce_bytes);
  const std::string nonce = hex_encode(std::string_view(reinterpret_cast<const char*>(nonce_bytes), kNonceBytes));
  const std::string at = std::to_string(clock_.now_ms());
  const std::string proof = std::string(kVersion) + " " + at + " " + nonce + " " +
                            mac(request, target, at, nonce, request.source, request.certificate_person);
  std::vector<std::pair<std::string, std::string>> headers = {{std::string(kForwardedProofHeader), proof}};
  headers.emplace_back(kForwardedForHeader, request.source);
  if (!request.certificate_person.empty()) headers.emplace_back(kForwardedPersonHeader, request.certificate_person);
  return headers;
}

Status ForwardedIdentity::accept(server::fhir::Request& request, std::string_view target,
                                 const HeaderLookup& header) {
  const std::string proof_text = header(kForwardedProofHeader);
  const std::string source = header(kForwardedForHeader);
  const std::string person = header(kForwardedPersonHeader);
  if (proof_text.empty() && source.empty() && person.empty()) return Status::not_found("not forwarded");
  Result<Proof> proof = parse_proof(proof_text);
  if (!proof) return proof.status();
  if (source.empty() || source.size() > kMaxSourceBytes || person.size() > kMaxPersonBytes) {
    return Status::invalid("forwarded client: bad address or person");
  }
  const std::string expected = mac(request, target, proof->at, proof->nonce, source, person);
  if (expected.size() != proof->mac.size() ||
      CRYPTO_memcmp(expected.data(), proof->mac.data(), expected.size()) != 0) {
    return Status::verification("forwarded proof: the MAC does not verify");
  }
  const uint64_t now = clock_.now_ms();
  const uint64_t window = static_cast<uint64_t>(kForwardedWindow.count());
  if (proof->at_ms + window < now || proof->at_ms > now + window) {
    return Status::verification("forwarded proof: outside the time window (are the nodes' clocks set?)");
  }
  if (!first_use(std::string(proof->nonce), proof->at_ms, now)) {
    return Status::verification("forwarded proof: replayed");
  }
  request.source = source;
  request.certificate_person = person;
  return Status::ok();
}

bool ForwardedIdentity::first_use(const std::string& nonce, uint64_t at_ms, uint64_t now_ms) {
  std::lock_guard lock(mu_);
  // A proof older than the window is refused before it gets here, so its nonce can go.
  const uint64_t window = static_cast<uint64_t>(kForwardedWindow.count());
  while (!nonces_by_time_.empty() && nonces_by_time_.begin()->first + window < now_ms) {
    nonces_.erase(nonces_by_time_.begin()->second);
    nonces_by_time_.erase(nonces_by_time_.begin());
  }
  if (!nonces_.insert(nonce).second) return false;
  nonces_by_time_.emplace(at_ms, nonce);
  return true;
}

}  // namespace medseal::cluster
