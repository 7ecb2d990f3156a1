#include "support/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "support/paths.h"

extern char** environ;

namespace medseal::testing {
namespace {

TempDir& go_scratch() {
  static TempDir dir;
  return dir;
}

std::string build_go_tool(const std::string& name, std::string* why) {
  if (run_command("command -v go").status != 0) {
    *why = "`go` is not on PATH: install golang-go and golang-golang-x-mod-dev "
           "(scripts/install-deps.sh) to run the Go interoperability tests";
    return "";
  }
  const std::string dir = go_scratch().path();
  const std::string out = dir + "/" + name;
  const std::string source = source_dir() + "/tests/interop/" + name + ".go";
  CommandOutcome build = run_command("cd " + shell_quote(dir) +
                                     " && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off "
                                     "GOCACHE=" + shell_quote(dir + "/gocache") + " go build -o " +
                                     shell_quote(out) + " " + shell_quote(source));
  if (build.status != 0) {
    *why = "building tests/interop/" + name + ".go failed (is golang-golang-x-mod-dev installed?): " +
           build.output;
    return "";
  }
  return out;
}

}  // namespace

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandOutcome run_command(const std::string& command) {
  CommandOutcome r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string go_interop_tool(const std::string& name, std::string* why) {
  struct Built {
    std::string tool, why;
  };
  static std::map<std::string, Built> built;  // tests of one program run on one thread
  auto it = built.find(name);
  if (it == built.end()) {
    Built b;
    b.tool = build_go_tool(name, &b.why);
    it = built.emplace(name, std::move(b)).first;
  }
  *why = it->second.why;
  return it->second.tool;
}

pid_t spawn_program(std::vector<std::string> argv, const std::string& stdin_path, int out_fd,
                    int err_fd) {
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_exit_status(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ProgramOutcome run_program(const std::vector<std::string>& argv, const std::string& stdin_path) {
  TempDir tmp;
  std::string out_path = tmp.path() + "/out", err_path = tmp.path() + "/err";
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ProgramOutcome r;
  pid_t pid = spawn_program(argv, stdin_path, out, err);
  ::close(out);
  ::close(err);
  if (pid < 0) return r;
  r.status = wait_exit_status(pid);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

ProgramOutcome run_medseal(std::vector<std::string> args, const std::string& stdin_path) {
  args.insert(args.begin(), medseal_binary());
  return run_program(args, stdin_path);
}

}  // namespace medseal::testing
