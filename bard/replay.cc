#include "bard/replay.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_split.h"
#include "bard/write_words.h"
#include "common/fnv.h"
#include "common/names.h"

namespace podium {
namespace {

// Bigger files are taken for a mistake (a binary, a log) rather than a
// games day's worth of writes.
constexpr size_t kMaxReplayBytes = 64 << 20;

constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";

absl::Status AtLine(absl::string_view source, int line,
                    const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(source, ":", line, ": ", status.message()));
}

// One non-blank line's words into a request without its key.
absl::StatusOr<ReplayWrite> ParseLine(
    const std::vector<absl::string_view>& words) {
  const absl::Span<const absl::string_view> rest =
      absl::MakeConstSpan(words).subspan(1);
  ReplayWrite write;
  if (words[0] == "score") {
    absl::StatusOr<v1::RecordScoreRequest> request = ParseScoreWords(rest);
    if (!request.ok()) return request.status();
    write.request = *std::move(request);
  } else if (words[0] == "award" || words[0] == "revoke") {
    absl::StatusOr<v1::AwardMedalRequest> request =
        words[0] == "award" ? ParseAwardWords(rest) : ParseRevokeWords(rest);
    if (!request.ok()) return request.status();
    write.request = *std::move(request);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("expected 'score ", kScoreUsage, "', 'award ", kAwardUsage,
                     "' or 'revoke ", kRevokeUsage, "', got '", words[0], "'"));
  }
  return write;
}

}  // namespace

std::string ReplayKey(absl::string_view name, absl::string_view words,
                      int occurrence) {
  return absl::StrFormat("replay-%016x-%d",
                         Fnv1a64(absl::StrCat(name, "\n", words)), occurrence);
}

absl::StatusOr<Replay> ParseReplay(absl::string_view content,
                                   absl::string_view source,
                                   absl::string_view name) {
  Replay replay;
  replay.source = std::string(source);
  replay.name = std::string(name.empty() ? source : name);
  absl::ConsumePrefix(&content, kByteOrderMark);
  absl::flat_hash_map<std::string, int> occurrences;
  // Per event, the key of its last score line: a score line's key covers
  // every score line of its event before it, so that after an edit the
  // changed line and all that follow it in that event are written again,
  // in order, and the event ends as the file says.
  absl::flat_hash_map<std::string, std::string> event_chain;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(content, '\n')) {
    ++line_number;
    // Names never contain '#', so everything from it on is a comment.
    const std::vector<absl::string_view> words =
        absl::StrSplit(raw.substr(0, raw.find('#')), absl::ByAnyChar(" \t\r"),
                       absl::SkipEmpty());
    if (words.empty()) continue;
    absl::StatusOr<ReplayWrite> write = ParseLine(words);
    if (!write.ok()) return AtLine(source, line_number, write.status());
    write->line = line_number;
    // The key leaves out the reason: rewording why a medal was revoked
    // must not revoke it again.
    auto reason = std::find_if(words.begin(), words.end(), [](absl::string_view word) {
      return absl::StartsWith(word, "reason=");
    });
    std::string keyed = absl::StrJoin(words.begin(), reason, " ");
    auto* score = std::get_if<v1::RecordScoreRequest>(&write->request);
    std::string* chain = score != nullptr ? &event_chain[score->event()] : nullptr;
    if (chain != nullptr) keyed = absl::StrCat(*chain, "\n", keyed);
    const std::string key = ReplayKey(replay.name, keyed, ++occurrences[keyed]);
    if (score != nullptr) {
      score->set_idempotency_key(key);
      *chain = key;
    } else {
      std::get<v1::AwardMedalRequest>(write->request).set_idempotency_key(key);
    }
    replay.writes.push_back(*std::move(write));
  }
  return replay;
}

absl::StatusOr<Replay> LoadReplayFile(const std::string& path,
                                      absl::string_view name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read replay file '", path,
                                            "': ", std::strerror(errno)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(
        absl::StrCat("error reading replay file '", path, "'"));
  }
  const std::string text = content.str();
  // By default a replay is its file: the same path is the same replay; a
  // file of the same name in another folder is another (a moved file too,
  // unless --replay_name says otherwise).
  std::string default_name;
  if (name.empty()) {
    std::error_code error;
    default_name = std::filesystem::weakly_canonical(std::filesystem::absolute(path), error);
    if (error) default_name = path;
    name = default_name;
  }
  if (text.size() > kMaxReplayBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("replay file '", path, "' is ", text.size(),
                     " bytes; at most ", kMaxReplayBytes, " are allowed"));
  }
  return ParseReplay(text, path, name);
}

absl::Status CheckReplayNames(const Replay& replay, const v1::Board& board) {
  // Each event with the codes of the teams taking part in it.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> events;
  absl::flat_hash_set<std::string> teams;
  for (const v1::EventScore& event : board.events()) {
    absl::flat_hash_set<std::string>& taking_part = events[event.event()];
    for (const v1::TeamPoints& points : event.points()) taking_part.insert(points.team());
  }
  for (const v1::MedalTally& tally : board.medals()) teams.insert(tally.team());
  absl::flat_hash_map<std::string, const v1::EventInfo*> infos;
  for (const v1::EventInfo& info : board.games().events()) infos[info.event()] = &info;
  auto unknown = [&](int line, absl::string_view what, absl::string_view name) {
    return absl::NotFoundError(
        absl::StrCat(replay.source, ":", line, ": unknown ", what, " '", name,
                     "': it is not in the backend's games"));
  };
  // The backend's FAILED_PRECONDITION, made before the first write.
  auto takes_part = [&](int line, const std::string& event,
                        const std::string& team) -> absl::Status {
    if (events.at(event).contains(team)) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(replay.source, ":", line, ": team '", team,
                     "' does not take part in event '", event, "' in the backend's games"));
  };
  for (const ReplayWrite& write : replay.writes) {
    if (auto* score = std::get_if<v1::RecordScoreRequest>(&write.request)) {
      if (!events.contains(score->event())) {
        return unknown(write.line, "event", score->event());
      }
      for (const v1::TeamPoints& points : score->points()) {
        if (!teams.contains(points.team())) {
          return unknown(write.line, "team", points.team());
        }
        if (absl::Status s = takes_part(write.line, score->event(), points.team()); !s.ok()) {
          return s;
        }
      }
    } else {
      const auto& award = std::get<v1::AwardMedalRequest>(write.request);
      if (!teams.contains(award.team())) {
        return unknown(write.line, "team", award.team());
      }
      if (award.event().empty()) continue;
      if (!events.contains(award.event())) {
        return unknown(write.line, "event", award.event());
      }
      if (absl::Status s = takes_part(write.line, award.event(), award.team()); !s.ok()) {
        return s;
      }
      auto info = infos.find(award.event());
      if (info == infos.end()) continue;  // a backend that does not say
      if (MedalsAwarded(*info->second, award.medal()) == 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(replay.source, ":", write.line, ": event '", award.event(),
                         "' awards no ", MedalName(award.medal()), " medal in the backend's games"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status RunReplay(const Replay& replay, ScoreWriter* writer,
                       const absl::Notification* stop,
                       ReplayProgress* progress) {
  ReplayProgress ignored;
  if (progress == nullptr) progress = &ignored;
  for (const ReplayWrite& write : replay.writes) {
    if (stop != nullptr && stop->HasBeenNotified()) {
      return absl::CancelledError(absl::StrCat(
          replay.source, ":", write.line,
          ": stopped before this line; replay the same file to go on"));
    }
    absl::StatusOr<v1::WriteReply> reply =
        std::holds_alternative<v1::RecordScoreRequest>(write.request)
            ? writer->RecordScore(
                  std::get<v1::RecordScoreRequest>(write.request))
            : writer->AwardMedal(
                  std::get<v1::AwardMedalRequest>(write.request));
    if (!reply.ok()) return AtLine(replay.source, write.line, reply.status());
    ++(reply->duplicate() ? progress->duplicates : progress->applied);
  }
  return absl::OkStatus();
}

}  // namespace podium
