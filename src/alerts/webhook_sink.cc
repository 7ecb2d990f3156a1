#include "alerts/webhook_sink.h"

#include <httplib.h>

namespace medseal::alerts {
namespace {

constexpr int kTimeoutSeconds = 5;

class WebhookDestination : public Destination {
 public:
  WebhookDestination(std::string url, std::string origin, std::string path)
      : url_(std::move(url)), origin_(std::move(origin)), path_(std::move(path)), client_(origin_) {
    client_.set_connection_timeout(kTimeoutSeconds, 0);
    client_.set_read_timeout(kTimeoutSeconds, 0);
    client_.set_write_timeout(kTimeoutSeconds, 0);
  }

  std::string name() const override { return "webhook " + url_; }
  // Webhook paths are often secrets (a token in the URL): logs and metrics show the origin only.
  std::string label() const override { return "webhook " + origin_; }

  Status deliver(const Alert& alert) override {
    std::string body = to_json(alert).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    httplib::Headers headers = {{kAlertIdHeader, alert.id}};
    auto res = client_.Post(path_, headers, body, "application/json");
    if (!res) return Status::io(label() + ": " + httplib::to_string(res.error()));
    if (res->status < 200 || res->status > 299) {
      return Status::io(label() + ": HTTP " + std::to_string(res->status));
    }
    return Status::ok();
  }

 private:
  std::string url_, origin_, path_;
  httplib::Client client_;
};

}  // namespace

Result<std::unique_ptr<Destination>> make_webhook_destination(const std::string& url) {
  size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return Status::invalid("webhook must be an http(s) URL: " + url);
  size_t path_start = url.find('/', scheme_end + 3);
  std::string origin = url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (origin.size() == scheme_end + 3) return Status::invalid("webhook URL has no host: " + url);
  // Credentials belong in the path (or a header a proxy adds), not in userinfo that logs would show.
  if (origin.find('@') != std::string::npos) return Status::invalid("webhook URL must not hold user:password@");
  auto destination = std::make_unique<WebhookDestination>(url, origin, path);
  return std::unique_ptr<Destination>(std::move(destination));
}

}  // namespace medseal::alerts
