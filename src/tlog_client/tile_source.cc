#include "tlog_client/tile_source.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/http_url.h"

namespace medseal::tlog_client {
namespace {

size_t max_bytes(const merkle::TileId& id) {
  return id.entries ? kMaxBundleBytes : kMaxHashTileBytes;
}

// ---- directory ----

Result<std::string> read_capped_file(const std::string& path, size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::not_found(path + " does not exist");
    return Status::io("cannot open " + path + ": " + std::strerror(errno));
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || data.size() + static_cast<size_t>(n) > limit) {
      int saved = errno;
      ::close(fd);
      if (n == 0) return data;
      if (n < 0) return Status::io("cannot read " + path + ": " + std::strerror(saved));
      return Status::invalid(path + " is larger than any valid resource");
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

class DirSource : public TileSource {
 public:
  DirSource(std::string dir, std::string checkpoint_path)
      : dir_(std::move(dir)), checkpoint_path_(std::move(checkpoint_path)) {
    if (checkpoint_path_.empty()) checkpoint_path_ = (std::filesystem::path(dir_) / "checkpoint").string();
  }

  Result<std::string> read_checkpoint() override {
    return read_capped_file(checkpoint_path_, kMaxCheckpointBytes);
  }

  // tile_path() is canonical and has no "..", so the file stays inside dir_.
  Result<std::string> read_tile(const merkle::TileId& id) override {
    return read_capped_file((std::filesystem::path(dir_) / merkle::tile_path(id)).string(),
                            max_bytes(id));
  }

  std::string describe() const override { return dir_; }

 private:
  std::string dir_;
  std::string checkpoint_path_;
};

// ---- HTTP ----

std::string http_error_text(httplib::Error error) { return httplib::to_string(error); }

class HttpSource : public TileSource {
 public:
  explicit HttpSource(HttpUrl url) : url_(std::move(url)), client_(url_.origin) {
    client_.set_keep_alive(true);
    client_.set_connection_timeout(10);
    client_.set_read_timeout(60);
    client_.set_follow_location(false);  // a log's resources live at fixed paths
    client_.set_decompress(true);        // bundles SHOULD be compressed at the HTTP layer
  }

  Result<std::string> read_checkpoint() override { return get("/checkpoint", kMaxCheckpointBytes); }

  Result<std::string> read_tile(const merkle::TileId& id) override {
    return get("/" + merkle::tile_path(id), max_bytes(id));
  }

  std::string describe() const override { return url_.origin + url_.prefix; }

 private:
  // GETs prefix + path; only 200 is data, 404 is kNotFound, anything else an I/O error.
  Result<std::string> get(const std::string& path, size_t limit) {
    std::string url = describe() + path;
    std::string body;
    bool too_big = false;
    httplib::Headers headers = {{"Accept-Encoding", "gzip, identity"}};
    auto res = client_.Get(
        url_.prefix + path, headers, [](const httplib::Response&) { return true; },
        [&](const char* data, size_t n) {
          if (body.size() + n > limit) return !(too_big = true);
          body.append(data, n);
          return true;
        });
    if (too_big) return Status::invalid(url + " is larger than any valid resource");
    if (!res) return Status::io("GET " + url + ": " + http_error_text(res.error()));
    if (res->status == 404) return Status::not_found("GET " + url + ": 404 Not Found");
    if (res->status != 200) {
      return Status::io("GET " + url + ": HTTP " + std::to_string(res->status));
    }
    return body;
  }

  HttpUrl url_;
  httplib::Client client_;
};

}  // namespace

Result<std::unique_ptr<TileSource>> open_http_source(std::string_view url) {
  auto parsed = parse_http_url(url);
  if (!parsed) return parsed.status();
  std::unique_ptr<TileSource> source = std::make_unique<HttpSource>(std::move(*parsed));
  return source;
}

std::unique_ptr<TileSource> open_dir_source(std::string dir, std::string checkpoint_path) {
  return std::make_unique<DirSource>(std::move(dir), std::move(checkpoint_path));
}

Result<std::string> cut_tile(const merkle::TileId& id, std::string bytes) {
  auto too_narrow = [&](const std::string& what) {
    return Status::verification(merkle::tile_path(id) + ": " + what);
  };
  if (!id.entries) {
    if (bytes.size() < size_t{id.width} * 32) return too_narrow("full tile is too short");
    bytes.resize(size_t{id.width} * 32);
    return bytes;
  }
  auto entries = merkle::parse_entry_bundle(bytes);
  if (!entries) return too_narrow("full bundle: " + entries.status().message());
  if (entries->size() < id.width) return too_narrow("full bundle has too few entries");
  return merkle::encode_entry_bundle(std::span(entries->data(), id.width));
}

Result<std::string> fetch_tile(TileSource& source, const merkle::TileId& id) {
  auto bytes = source.read_tile(id);
  if (bytes || id.full() || bytes.status().code() != Code::kNotFound) return bytes;
  merkle::TileId full = id;
  full.width = merkle::kTileWidth;
  auto wider = source.read_tile(full);
  if (!wider) return bytes.status();  // report the partial tile, which is what the tree needs
  return cut_tile(id, std::move(*wider));
}

}  // namespace medseal::tlog_client
