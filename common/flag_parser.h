// Command-line flags for every Podium binary, parsed through Abseil's flag
// registry but with the exit statuses a command-line tool owes its caller:
// Abseil's own ParseCommandLine exits 1 both for --help and for a bad flag
// value, where a caller expects 0 for help and 2 for a usage error.
//
// Accepted forms, as Abseil's: --name=value, --name value (not for bool
// flags), --name and --noname for bool flags, one or two dashes, flags
// before or after positional arguments, "--" ending the flags,
// --flagfile=FILE[,FILE] (one argument a line, '#' comments) and
// --undefok=NAME[,NAME] (unknown flags of those names ignored). Not
// --fromenv or --tryfromenv: refused, saying so.
#ifndef PODIUM_COMMON_FLAG_PARSER_H_
#define PODIUM_COMMON_FLAG_PARSER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace podium {

struct ParsedFlags {
  std::vector<std::string> positional;  // argv[0] excluded
  // A usage flag (--help, --helpfull, --helpshort, --helppackage,
  // --helpmatch=S, --version, --only_check_args) was given: it has been
  // recorded with Abseil's usage machinery, which prints the answer.
  bool usage_requested = false;
};

// Sets every flag named in argv[1..argc). INVALID_ARGUMENT naming the flag
// for an unknown flag, a missing value or a value that does not parse; flags
// before the bad one keep their new values.
absl::StatusOr<ParsedFlags> ParseFlags(int argc, const char* const* argv);

}  // namespace podium

#endif  // PODIUM_COMMON_FLAG_PARSER_H_
