// Where tests find the shared known answers, the built program and scratch space.
#pragma once

#include <string>

namespace medseal::testing {

std::string shared_dir();      // ../shared beside the checkout
std::string medseal_binary();  // the built `medseal` program
std::string source_dir();      // the checkout
std::string read_file(const std::string& path);  // whole file; fails the test if unreadable
unsigned file_mode(const std::string& path);      // permission bits; fails the test if missing
// A fresh empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace medseal::testing
