// The data directory of one log: the signing key (log.key, log.vkey), the embedded store and a
// lock file that makes one process at a time the owner of the store (medseal serve, or a
// maintenance command such as medseal log append).
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace medseal::cli {

inline constexpr std::string_view kStoreFile = "medseal.db";
inline constexpr std::string_view kLockFile = "medseal.lock";
inline constexpr std::string_view kTokensFile = "tokens";            // identity/token_store.h
inline constexpr std::string_view kAdminTokenFile = "admin.token";   // written on first start
inline constexpr std::string_view kUsersFile = "users";              // identity/user_registry.h
inline constexpr std::string_view kSentinelStateFile = "sentinel.state";  // serve's sentinel

class DataDir {
 public:
  // Creates `path` (mode 0700: the store holds salts and statements) if absent, then takes an
  // exclusive lock on it. kFailedPrecondition if another process holds the lock.
  static Result<DataDir> open(const std::string& path);
  ~DataDir();
  DataDir(DataDir&& other) noexcept;
  DataDir& operator=(DataDir&&) = delete;
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const;  // path/name

 private:
  DataDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_ = -1;  // held open (and locked) for the object's life
};

// Creates directory `path` with mode 0700 if it does not exist; OK if it is already a directory.
Status make_private_dir(const std::string& path);

}  // namespace medseal::cli
