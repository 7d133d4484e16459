// Process start-up shared by every Podium binary: Abseil flags, glog to
// stderr (scripts redirect it to var/log/), and a usage line for --help.
#ifndef PODIUM_COMMON_INIT_H_
#define PODIUM_COMMON_INIT_H_

#include <string>
#include <vector>

namespace podium {

// Parses flags (exits with usage on --help or a bad flag, like every
// command-line tool) and starts logging. Returns the positional arguments,
// argv[0] excluded.
std::vector<std::string> InitProcess(int argc, char** argv,
                                     const char* usage);

}  // namespace podium

#endif  // PODIUM_COMMON_INIT_H_
