#include "common/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace podium {

namespace {

struct StatusSpelling {
  v1::EventStatus status;
  absl::string_view name;
};

// In the ODF lifecycle's order; the first spelling of a status is printed.
constexpr StatusSpelling kStatuses[] = {
    {v1::START_LIST, "start_list"},     {v1::LIVE, "live"},
    {v1::INTERMEDIATE, "intermediate"}, {v1::UNCONFIRMED, "unconfirmed"},
    {v1::UNOFFICIAL, "unofficial"},     {v1::OFFICIAL, "official"},
    {v1::PROTESTED, "protested"},
    // The names before ODF statuses, still read.
    {v1::START_LIST, "scheduled"},      {v1::OFFICIAL, "final"},
};

}  // namespace

std::string StatusName(v1::EventStatus status) {
  for (const StatusSpelling& spelling : kStatuses) {
    if (spelling.status == status) return std::string(spelling.name);
  }
  return "unspecified";
}

absl::StatusOr<v1::EventStatus> ParseStatus(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  absl::StrReplaceAll({{"-", "_"}}, &lower);
  for (const StatusSpelling& spelling : kStatuses) {
    if (spelling.name == lower) return spelling.status;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown status '", name,
      "': use start_list, live, intermediate, unconfirmed, unofficial, official or "
      "protested (scheduled and final are read as start_list and official)"));
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

int MedalsAwarded(const v1::EventInfo& info, v1::Medal medal) {
  switch (medal) {
    case v1::GOLD:
      return info.golds();
    case v1::SILVER:
      return info.silvers();
    case v1::BRONZE:
      return info.bronzes();
    default:
      return 0;
  }
}

std::string MarkName(v1::MarkKind mark) {
  switch (mark) {
    case v1::MARK_TIME:
      return "time";
    case v1::MARK_DISTANCE:
      return "distance";
    case v1::MARK_RANK:
      return "rank";
    default:
      return "points";
  }
}

absl::StatusOr<v1::MarkKind> ParseMark(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "points") return v1::MARK_POINTS;
  if (lower == "time") return v1::MARK_TIME;
  if (lower == "distance") return v1::MARK_DISTANCE;
  if (lower == "rank") return v1::MARK_RANK;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown mark '", name, "': use points, time, distance or rank"));
}

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    int length;
    uint32_t code;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2, code = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3, code = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4, code = lead & 0x07;
    } else {
      return false;  // a continuation byte, or a lead of an overlong form
    }
    if (i + length > text.size()) return false;
    for (int k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) ||
        code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
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
