#include "common/flag_parser.h"

#include <fstream>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/program_name.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace podium {
namespace {

// Nested --flagfile deeper than this is taken for a loop.
constexpr int kMaxFlagfileDepth = 8;

bool IsUsageFlag(absl::string_view name) {
  return name == "help" || name == "helpfull" || name == "helpshort" ||
         name == "helppackage" || name == "helpon" || name == "helpmatch" ||
         name == "version" || name == "only_check_args";
}

// "--name=value" / "-name" into its name and value.
void SplitFlag(absl::string_view arg, absl::string_view* name, absl::string_view* value,
               bool* has_value) {
  arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
  *name = arg;
  *value = "";
  *has_value = false;
  if (const size_t eq = arg.find('='); eq != absl::string_view::npos) {
    *name = arg.substr(0, eq);
    *value = arg.substr(eq + 1);
    *has_value = true;
  }
}

bool IsFlag(absl::string_view arg) { return arg.size() >= 2 && arg[0] == '-' && arg != "--"; }

// Appends `args` to `out`, with each --flagfile=F[,G] replaced by the
// arguments F holds (one a line; blank lines and '#' comments skipped), as
// Abseil's parser does.
absl::Status ExpandFlagfiles(const std::vector<std::string>& args, int depth,
                             std::vector<std::string>* out) {
  bool flags_ended = false;
  for (const std::string& arg : args) {
    absl::string_view name, value;
    bool has_value = false;
    if (!flags_ended && IsFlag(arg)) SplitFlag(arg, &name, &value, &has_value);
    if (arg == "--") flags_ended = true;
    if (flags_ended || name != "flagfile") {
      out->push_back(arg);
      continue;
    }
    if (depth >= kMaxFlagfileDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat("--flagfile nested ", kMaxFlagfileDepth, " deep: a loop?"));
    }
    for (absl::string_view path : absl::StrSplit(value, ',', absl::SkipEmpty())) {
      std::ifstream in{std::string(path)};
      if (!in) {
        return absl::InvalidArgumentError(absl::StrCat("cannot read --flagfile '", path, "'"));
      }
      std::vector<std::string> lines;
      for (std::string line; std::getline(in, line);) {
        absl::string_view text = absl::StripAsciiWhitespace(line);
        if (!text.empty() && text[0] != '#') lines.emplace_back(text);
      }
      if (absl::Status s = ExpandFlagfiles(lines, depth + 1, out); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedFlags> ParseFlags(int argc, const char* const* argv) {
  absl::flags_internal::SetProgramInvocationName(argc > 0 ? argv[0] : "podium");
  std::vector<std::string> args;
  if (absl::Status s = ExpandFlagfiles(std::vector<std::string>(argv + 1, argv + argc), 0, &args);
      !s.ok()) {
    return s;
  }
  // --undefok=a,b: unknown flags of those names are ignored, wherever
  // they come on the line.
  absl::flat_hash_set<std::string> undefok;
  for (const std::string& arg : args) {
    if (arg == "--") break;
    absl::string_view name, value;
    bool has_value = false;
    if (!IsFlag(arg)) continue;
    SplitFlag(arg, &name, &value, &has_value);
    if (name == "undefok") {
      for (absl::string_view ok : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        undefok.insert(std::string(ok));
      }
    }
  }

  ParsedFlags parsed;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_ended || !IsFlag(arg)) {
      if (arg == "--" && !flags_ended) {
        flags_ended = true;
        continue;
      }
      parsed.positional.push_back(arg);
      continue;
    }
    absl::string_view name, value;
    bool has_value = false;
    SplitFlag(arg, &name, &value, &has_value);
    if (name == "undefok") continue;
    if (name == "fromenv" || name == "tryfromenv") {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " is not supported: give the flags on the command line "
                                   "or in a --flagfile"));
    }
    if (IsUsageFlag(name)) {
      absl::flags_internal::DeduceUsageFlags(name, value);
      parsed.usage_requested = true;
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      negated = flag != nullptr && flag->IsOfType<bool>();
      if (!negated) flag = nullptr;
    }
    if (flag == nullptr) {
      const absl::string_view bare = absl::StartsWith(name, "no") ? name.substr(2) : name;
      if (undefok.contains(name) || undefok.contains(bare)) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", arg, "'; --help lists them"));
    }
    if (flag->IsOfType<bool>()) {
      if (!has_value) value = negated ? "false" : "true";
    } else if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag '--", name, "' needs a value: --", name, "=VALUE"));
      }
      value = args[++i];
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value '", value, "' for --", name, ": ", error));
    }
  }
  return parsed;
}

}  // namespace podium
