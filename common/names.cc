#include "common/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace podium {

std::string StatusName(v1::EventStatus status) {
  switch (status) {
    case v1::SCHEDULED:
      return "scheduled";
    case v1::LIVE:
      return "live";
    case v1::FINAL:
      return "final";
    default:
      return "unspecified";
  }
}

absl::StatusOr<v1::EventStatus> ParseStatus(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "scheduled") return v1::SCHEDULED;
  if (lower == "live") return v1::LIVE;
  if (lower == "final") return v1::FINAL;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown status '", name, "': use scheduled, live or final"));
}

std::string MedalName(v1::Medal medal) {
  switch (medal) {
    case v1::GOLD:
      return "gold";
    case v1::SILVER:
      return "silver";
    case v1::BRONZE:
      return "bronze";
    default:
      return "unspecified";
  }
}

absl::StatusOr<v1::Medal> ParseMedal(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "gold") return v1::GOLD;
  if (lower == "silver") return v1::SILVER;
  if (lower == "bronze") return v1::BRONZE;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown medal '", name, "': use gold, silver or bronze"));
}

absl::Status ValidateName(absl::string_view what, absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " name is empty"));
  }
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " name is ", name.size(), " bytes long; at most ",
                     kMaxNameBytes, " are allowed"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.' &&
        c != '\'') {
      // Escaped: the name may hold control bytes or broken UTF-8.
      return absl::InvalidArgumentError(absl::StrCat(
          what, " name '", absl::CHexEscape(name), "' has character '",
          absl::CHexEscape(std::string(1, c)),
          "'; use letters, digits, '_', '-', '.' or '''"));
    }
  }
  return absl::OkStatus();
}

}  // namespace podium
