// Running other programs from tests: shell commands (Go interop tools, curl), and the built
// medseal program with its stdout and stderr kept apart.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace medseal::testing {

// A shell command's result: stdout and stderr together, as a person would see them.
struct CommandOutcome {
  int status = -1;     // exit status, or -1 if the command could not be run or was killed
  std::string output;  // stdout and stderr
};

// `s` as one single-quoted shell word.
std::string shell_quote(std::string_view s);
// Runs `command` with /bin/sh and waits for it.
CommandOutcome run_command(const std::string& command);

// Builds tests/interop/NAME.go once per test program (GOPATH mode against Debian's
// golang-golang-x-mod-dev: no module download, no network) and returns the binary's path; on
// failure returns "" and sets `*why` to a one-line reason a test can fail with.
std::string go_interop_tool(const std::string& name, std::string* why);

// A program's result with its output streams apart.
struct ProgramOutcome {
  int status = -1;  // exit status, 128 + signal if killed, -1 if it could not be started
  std::string out, err;
};

// Starts `argv` (argv[0] is the program's path) with stdin from `stdin_path` (or /dev/null) and
// stdout and stderr on the given descriptors. Returns the pid, or -1.
pid_t spawn_program(std::vector<std::string> argv, const std::string& stdin_path, int out_fd,
                    int err_fd);
// Waits for `pid`: its exit status, 128 + signal if killed, -1 on error.
int wait_exit_status(pid_t pid);
// Runs `argv` to completion.
ProgramOutcome run_program(const std::vector<std::string>& argv, const std::string& stdin_path = "");
// Runs the built medseal program with `args` to completion.
ProgramOutcome run_medseal(std::vector<std::string> args, const std::string& stdin_path = "");

}  // namespace medseal::testing
