#include "bard/write_words.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/names.h"

namespace podium {
namespace {

// Strict: digits only (no sign, no spaces), so "-3", "+3" and "3.5" are all
// refused with the same clear message rather than half-accepted.
absl::StatusOr<int64_t> ParsePoints(absl::string_view team,
                                    absl::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("points for '", team, "' are '", text,
                     "'; expected a non-negative integer"));
  };
  if (text.empty()) return bad();
  int64_t value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return bad();
    value = value * 10 + (c - '0');
    if (value > kMaxPoints) {
      return absl::InvalidArgumentError(
          absl::StrCat("points for '", team, "' are ", text,
                       "; they must be 0 to ", kMaxPoints));
    }
  }
  return value;
}

// Splits "KEY=VALUE"; false when there is no '='.
bool SplitAssignment(absl::string_view word, absl::string_view* key,
                     absl::string_view* value) {
  const size_t eq = word.find('=');
  if (eq == absl::string_view::npos) return false;
  *key = word.substr(0, eq);
  *value = word.substr(eq + 1);
  return true;
}

// Splits off `reason=TEXT...`: the reason is the rest of the words, so it
// must come last; *reason gets them joined by single spaces.
absl::StatusOr<absl::Span<const absl::string_view>> TakeReason(
    absl::Span<const absl::string_view> words, std::string* reason) {
  for (size_t i = 0; i < words.size(); ++i) {
    if (!absl::StartsWith(words[i], "reason=")) continue;
    std::vector<absl::string_view> text(words.begin() + i, words.end());
    text[0].remove_prefix(std::strlen("reason="));
    *reason = absl::StrJoin(text, " ");
    absl::StripAsciiWhitespace(reason);
    if (reason->empty()) return absl::InvalidArgumentError("reason= is empty");
    if (reason->size() > kMaxReasonBytes || !IsValidUtf8(*reason)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the reason is not UTF-8 of at most ", kMaxReasonBytes, " bytes"));
    }
    return words.subspan(0, i);
  }
  return words;
}

}  // namespace

absl::StatusOr<v1::RecordScoreRequest> ParseScoreWords(
    absl::Span<const absl::string_view> all_words) {
  std::string reason;
  absl::StatusOr<absl::Span<const absl::string_view>> taken = TakeReason(all_words, &reason);
  if (!taken.ok()) return taken.status();
  const absl::Span<const absl::string_view> words = *taken;
  if (words.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("nothing to record: expected ", kScoreUsage));
  }
  v1::RecordScoreRequest request;
  if (absl::Status s = ValidateName("event", words[0]); !s.ok()) return s;
  request.set_event(std::string(words[0]));
  request.set_reason(reason);
  absl::flat_hash_set<absl::string_view> teams;
  for (absl::string_view word : words.subspan(1)) {
    absl::string_view key;
    absl::string_view value;
    if (!SplitAssignment(word, &key, &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected TEAM=POINTS, status=STATUS or reason=TEXT, got '", word, "'"));
    }
    if (key == "status") {
      if (request.status() != v1::EVENT_STATUS_UNSPECIFIED) {
        return absl::InvalidArgumentError("the status is given twice");
      }
      absl::StatusOr<v1::EventStatus> status = ParseStatus(value);
      if (!status.ok()) return status.status();
      request.set_status(*status);
      continue;
    }
    if (absl::Status s = ValidateName("team", key); !s.ok()) return s;
    if (!teams.insert(key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("team '", key, "' is given twice"));
    }
    absl::StatusOr<int64_t> points = ParsePoints(key, value);
    if (!points.ok()) return points.status();
    v1::TeamPoints* entry = request.add_points();
    entry->set_team(std::string(key));
    entry->set_points(*points);
  }
  if (request.points().empty() &&
      request.status() == v1::EVENT_STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nothing to record for '", request.event(),
        "': give TEAM=POINTS or status=STATUS (", kScoreUsage, ")"));
  }
  return request;
}

absl::StatusOr<v1::AwardMedalRequest> ParseAwardWords(
    absl::Span<const absl::string_view> all_words) {
  std::string reason;
  absl::StatusOr<absl::Span<const absl::string_view>> taken = TakeReason(all_words, &reason);
  if (!taken.ok()) return taken.status();
  const absl::Span<const absl::string_view> words = *taken;
  if (words.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", kAwardUsage));
  }
  if (words.size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unexpected '", words[3], "' after the medal: expected ", kAwardUsage));
  }
  v1::AwardMedalRequest request;
  if (absl::Status s = ValidateName("team", words[0]); !s.ok()) return s;
  request.set_team(std::string(words[0]));
  request.set_reason(reason);
  absl::StatusOr<v1::Medal> medal = ParseMedal(words[1]);
  if (!medal.ok()) return medal.status();
  request.set_medal(*medal);
  if (words.size() == 3) {
    absl::string_view key;
    absl::string_view value;
    if (!SplitAssignment(words[2], &key, &value) || key != "event") {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected event=EVENT after the medal, got '", words[2], "'"));
    }
    if (absl::Status s = ValidateName("event", value); !s.ok()) return s;
    request.set_event(std::string(value));
  }
  return request;
}

absl::StatusOr<v1::AwardMedalRequest> ParseRevokeWords(
    absl::Span<const absl::string_view> words) {
  absl::StatusOr<v1::AwardMedalRequest> request = ParseAwardWords(words);
  if (!request.ok()) {
    return absl::Status(request.status().code(),
                        absl::StrReplaceAll(request.status().message(),
                                            {{kAwardUsage, kRevokeUsage}}));
  }
  if (request->reason().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a revocation needs a reason: expected ", kRevokeUsage));
  }
  request->set_revoke(true);
  return request;
}

}  // namespace podium
