#include "server/witness_http.h"

#include <httplib.h>

#include <string>

#include "server/json_log.h"

namespace medseal::server {
namespace {

constexpr const char* kAddCheckpoint = "/add-checkpoint";

void send(httplib::Response& res, const witness::Reply& reply) {
  res.status = reply.status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(reply.body, reply.content_type.c_str());
}

witness::Reply plain(int status, const std::string& message) {
  return witness::Reply{status, std::string(witness::kTextContentType), message + "\n"};
}

// The body is read raw, whatever its Content-Type: cpp-httplib would parse one labelled as a
// form (curl's default) and refuse it beyond 8 KiB.
void add_checkpoint(const witness::Witness& witness, const httplib::Request& req,
                    httplib::Response& res, const httplib::ContentReader& read) {
  if (req.is_multipart_form_data()) {
    send(res, plain(400, "the body must be the add-checkpoint text, not a form"));
    return;
  }
  std::string body;
  bool complete = read([&body](const char* data, size_t size) {
    body.append(data, size);
    return body.size() <= witness::kMaxRequestBytes;
  });
  if (!complete) {
    bool too_large = res.status == 413 || body.size() > witness::kMaxRequestBytes;
    send(res, too_large ? plain(413, "the body is larger than 1 MiB") : plain(400, "the body could not be read"));
    return;
  }
  witness::Reply reply = witness.add_checkpoint(body);
  if (reply.status == 422 || reply.status >= 500) {
    std::string reason = reply.body.substr(0, reply.body.find('\n'));
    log_json(reply.status >= 500 ? "error" : "warn", "add-checkpoint refused",
             {{"status", reply.status}, {"reason", reason}, {"remote", req.remote_addr}});
  }
  send(res, reply);
}

// Everything but POST /add-checkpoint is answered here, before any body is read.
httplib::Server::HandlerResponse refuse_others(const httplib::Request& req, httplib::Response& res) {
  if (req.path == kAddCheckpoint && req.method == "POST") return httplib::Server::HandlerResponse::Unhandled;
  if (req.path == kAddCheckpoint) {
    res.set_header("Allow", "POST");
    send(res, plain(405, "add-checkpoint takes POST only"));
  } else {
    send(res, plain(404, "no such resource"));
  }
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

std::unique_ptr<HttpListener> make_witness_server(const witness::Witness& witness, size_t threads) {
  auto listener = std::make_unique<HttpListener>(threads);
  httplib::Server& http = listener->http();
  http.set_payload_max_length(witness::kMaxRequestBytes);
  http.set_pre_routing_handler(refuse_others);
  http.Post(kAddCheckpoint, [&witness](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& read) {
    add_checkpoint(witness, req, res, read);
  });
  // Refusals by the library itself (413 for a large body, a malformed request) get a text body.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        send(res, plain(res.status, res.status == 413 ? "the body is larger than 1 MiB" : "request not accepted"));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    log_json("error", "exception in witness request handler");
    send(res, plain(500, "internal error"));
  });
  return listener;
}

}  // namespace medseal::server
