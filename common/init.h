// Process start-up shared by every Podium binary: Abseil flags, glog to
// stderr (scripts redirect it to var/log/), and a usage line for --help.
#ifndef PODIUM_COMMON_INIT_H_
#define PODIUM_COMMON_INIT_H_

#include <optional>
#include <string>
#include <vector>

namespace podium {

struct CommandLine {
  std::vector<std::string> args;  // positional, argv[0] excluded
  // Set when main() should return at once with this status: 0 once --help
  // (or another usage flag) has been answered on stdout, 2 after a bad flag
  // has been reported on stderr.
  std::optional<int> exit_code;
};

// Parses flags and starts logging. Never exits: main() returns
// `exit_code` when it is set.
CommandLine InitProcess(int argc, char** argv, const char* usage);

}  // namespace podium

#endif  // PODIUM_COMMON_INIT_H_
