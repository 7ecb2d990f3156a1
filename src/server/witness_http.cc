#include "server/witness_http.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "server/json_log.h"

namespace medseal::server {
namespace {

constexpr const char* kAddCheckpoint = "/add-checkpoint";
// Logs SHOULD keep connections alive (tlog-witness); cpp-httplib's default closes every 5th.
constexpr size_t kKeepAliveMaxRequests = 1'000'000;

void send(httplib::Response& res, const witness::Reply& reply) {
  res.status = reply.status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(reply.body, reply.content_type.c_str());
}

witness::Reply plain(int status, const std::string& message) {
  return witness::Reply{status, std::string(witness::kTextContentType), message + "\n"};
}

}  // namespace

struct WitnessHttpServer::Impl {
  Impl(const witness::Witness& w, WitnessHttpOptions o) : witness(w), options(std::move(o)) {}

  const witness::Witness& witness;
  WitnessHttpOptions options;
  httplib::Server http;
  int listen_fd = -1;
  std::mutex mu;
  bool stop_requested = false;  // guarded by mu
  bool running = false;         // guarded by mu: run() has been entered and not yet left

  void configure() {
    size_t threads = options.threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_tcp_nodelay(true);
    http.set_keep_alive_max_count(kKeepAliveMaxRequests);
    http.set_payload_max_length(witness::kMaxRequestBytes);
    http.set_socket_options([this](int fd) {
      int yes = 1;  // not SO_REUSEPORT: a second witness must not share the port silently
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listen_fd = fd;
    });
    http.Post(kAddCheckpoint, [this](const httplib::Request& req, httplib::Response& res) {
      witness::Reply reply = witness.add_checkpoint(req.body);
      if (reply.status == 422 || reply.status >= 500) {
        log_json(reply.status >= 500 ? "error" : "warn", "add-checkpoint refused",
                 {{"status", reply.status}, {"reason", reply.body.substr(0, reply.body.size() - 1)},
                  {"remote", req.remote_addr}});
      }
      send(res, reply);
    });
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.path == kAddCheckpoint && req.method == "POST") return httplib::Server::HandlerResponse::Unhandled;
      if (req.path == kAddCheckpoint) {
        res.set_header("Allow", "POST");
        send(res, plain(405, "add-checkpoint takes POST only"));
      } else {
        send(res, plain(404, "no such resource"));
      }
      return httplib::Server::HandlerResponse::Handled;
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
  }
};

WitnessHttpServer::WitnessHttpServer(const witness::Witness& witness, WitnessHttpOptions options)
    : impl_(std::make_unique<Impl>(witness, std::move(options))) {
  impl_->configure();
}

WitnessHttpServer::~WitnessHttpServer() = default;

Result<int> WitnessHttpServer::bind() {
  const std::string& host = impl_->options.host;
  int port = impl_->options.port;
  bool bound = port == 0 ? (port = impl_->http.bind_to_any_port(host)) >= 0
                         : impl_->http.bind_to_port(host, port);
  if (!bound) {
    return Status::io("cannot listen on " + host + ":" + std::to_string(impl_->options.port) + ": " +
                      std::strerror(errno));
  }
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);  // httplib's backlog is 5
  return port;
}

Status WitnessHttpServer::run() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stop_requested) return Status::ok();
    impl_->running = true;
  }
  bool ok = impl_->http.listen_after_bind();
  {
    std::lock_guard lock(impl_->mu);
    impl_->running = false;
  }
  return ok ? Status::ok() : Status::io("the witness HTTP server stopped with an error");
}

void WitnessHttpServer::stop() {
  // httplib ignores stop() until its accept loop runs, so wait for the loop if run() has begun.
  for (;;) {
    {
      std::lock_guard lock(impl_->mu);
      impl_->stop_requested = true;
      if (!impl_->running || impl_->http.is_running()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->http.stop();
}

}  // namespace medseal::server
