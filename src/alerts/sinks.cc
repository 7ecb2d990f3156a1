#include "alerts/sinks.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/json_log.h"
#include "util/file_io.h"

namespace medseal::alerts {

void JsonLinesFileSink::raise(const Alert& alert) {
  nlohmann::json line = {{"alert", alerts::to_json(alert)}};
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mu_);
  Fd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  Status written = fd.ok() ? write_all(fd.get(), text, path_)
                           : Status::io("cannot open " + path_ + ": " + std::strerror(errno));
  if (written && ::fsync(fd.get()) != 0) written = Status::io("cannot fsync " + path_);
  if (!written) server::log_json("error", "alert not written", {{"error", written.message()}, {"id", alert.id}});
}

}  // namespace medseal::alerts
