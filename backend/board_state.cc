#include "backend/board_state.h"

#include "backend/fan_board.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/names.h"

namespace podium {
namespace {

absl::Status ValidateKey(absl::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(
        "idempotency_key is empty: every write needs a unique key so that "
        "retries are applied once");
  }
  if (key.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key is ", key.size(), " bytes; at most ", kMaxNameBytes, " are allowed"));
  }
  return absl::OkStatus();
}

absl::Status UnknownName(absl::string_view what, absl::string_view name) {
  // Echo at most a prefix: the name may be a megabyte of garbage.
  constexpr size_t kEcho = 64;
  return absl::NotFoundError(absl::StrCat(
      "unknown ", what, " '", name.substr(0, kEcho), name.size() > kEcho ? "...'" : "'",
      ": it is not in the games file the backend was started with"));
}

absl::Status ValidateReason(absl::string_view reason) {
  if (reason.size() > kMaxReasonBytes || !IsValidUtf8(reason)) {
    return absl::InvalidArgumentError(absl::StrCat("reason is not UTF-8 of at most ",
                                                   kMaxReasonBytes, " bytes (it is ", reason.size(),
                                                   " bytes)"));
  }
  return absl::OkStatus();
}

absl::Status NotTakingPart(absl::string_view event, absl::string_view team) {
  return absl::FailedPreconditionError(
      absl::StrCat("team '", team, "' does not take part in event '", event,
                   "': the games file lists the event's teams (teams=)"));
}

}  // namespace

BoardState::BoardState(Games games) : games_(std::move(games)) {
  for (const std::string& event : games_.events()) {
    v1::EventScore& score = events_[event];
    score.set_event(event);
    score.set_status(v1::SCHEDULED);
    for (const std::string& team : games_.TeamsOf(event)) {
      v1::TeamPoints* points = score.add_points();
      points->set_team(team);
      points->set_points(0);
    }
    fans_[event].set_event(event);
  }
  for (const std::string& team : games_.teams()) {
    medals_[team].set_team(team);
  }
}

absl::Status BoardState::Validate(const v1::RecordScoreRequest& request) const {
  if (absl::Status s = ValidateKey(request.idempotency_key()); !s.ok()) {
    return s;
  }
  // Spelling before membership, as the frontends check it: a malformed
  // name is INVALID_ARGUMENT with the same message everywhere.
  if (absl::Status s = ValidateName("event", request.event()); !s.ok()) return s;
  if (!games_.HasEvent(request.event())) {
    return UnknownName("event", request.event());
  }
  if (request.points().empty() && request.status() == v1::EVENT_STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "nothing to record: give points for at least one team or a status");
  }
  if (!v1::EventStatus_IsValid(request.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat("status ", request.status(), " is not a known status"));
  }
  if (absl::Status s = ValidateReason(request.reason()); !s.ok()) return s;
  absl::flat_hash_set<absl::string_view> seen;
  for (const v1::TeamPoints& points : request.points()) {
    if (absl::Status s = ValidateName("team", points.team()); !s.ok()) return s;
    if (!games_.HasTeam(points.team())) return UnknownName("team", points.team());
    if (!games_.TakesPart(request.event(), points.team())) {
      return NotTakingPart(request.event(), points.team());
    }
    if (!seen.insert(points.team()).second) {
      return absl::InvalidArgumentError(absl::StrCat("team '", points.team(), "' is named twice"));
    }
    if (points.points() < 0 || points.points() > kMaxPoints) {
      return absl::InvalidArgumentError(absl::StrCat("points for '", points.team(), "' are ",
                                                     points.points(), "; they must be 0 to ",
                                                     kMaxPoints));
    }
  }
  return absl::OkStatus();
}

absl::Status BoardState::Validate(const v1::AwardMedalRequest& request) const {
  if (absl::Status s = ValidateKey(request.idempotency_key()); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateName("team", request.team()); !s.ok()) return s;
  if (!games_.HasTeam(request.team())) return UnknownName("team", request.team());
  if (request.medal() != v1::GOLD && request.medal() != v1::SILVER &&
      request.medal() != v1::BRONZE) {
    return absl::InvalidArgumentError("medal must be gold, silver or bronze");
  }
  if (absl::Status s = ValidateReason(request.reason()); !s.ok()) return s;
  if (request.revoke() && request.reason().empty()) {
    return absl::InvalidArgumentError(
        "a revocation needs a reason (e.g. 'disqualified: doping rule violation')");
  }
  if (!request.event().empty()) {
    if (absl::Status s = ValidateName("event", request.event()); !s.ok()) return s;
    if (!games_.HasEvent(request.event())) return UnknownName("event", request.event());
    if (!games_.TakesPart(request.event(), request.team())) {
      return NotTakingPart(request.event(), request.team());
    }
    if (MedalsAwarded(games_.InfoOf(request.event()), request.medal()) == 0) {
      return absl::FailedPreconditionError(absl::StrCat("event '", request.event(), "' awards no ",
                                                        MedalName(request.medal()),
                                                        " medal (the games file's medals=)"));
    }
  }
  return absl::OkStatus();
}

absl::Status BoardState::ValidateFanBoard(absl::string_view key, absl::string_view event) const {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  if (absl::Status s = ValidateName("event", event); !s.ok()) return s;
  if (!games_.HasEvent(event)) return UnknownName("event", event);
  return absl::OkStatus();
}

absl::Status BoardState::Validate(const v1::PostToFanBoardRequest& request) const {
  if (absl::Status s = ValidateFanBoard(request.idempotency_key(), request.event()); !s.ok()) {
    return s;
  }
  return ValidatePost(request.author(), request.text());
}

absl::Status BoardState::Validate(const v1::RemovePostRequest& request) const {
  if (absl::Status s = ValidateFanBoard(request.idempotency_key(), request.event()); !s.ok()) {
    return s;
  }
  if (request.post_id() <= 0) {
    return absl::InvalidArgumentError("post_id must be a post's id (the seq it was posted at)");
  }
  return ValidateReason(request.reason());
}

v1::EventScore BoardState::ApplyScore(const v1::EventScore& current,
                                      const v1::RecordScoreRequest& request, int64_t seq,
                                      int64_t now_unix_micros) {
  v1::EventScore next = current;
  for (const v1::TeamPoints& update : request.points()) {
    for (v1::TeamPoints& points : *next.mutable_points()) {
      if (points.team() == update.team()) points.set_points(update.points());
    }
  }
  if (request.status() != v1::EVENT_STATUS_UNSPECIFIED) {
    next.set_status(request.status());
  }
  next.set_version(seq);
  next.set_updated_unix_micros(now_unix_micros);
  return next;
}

absl::StatusOr<v1::MedalTally> BoardState::ApplyMedal(const v1::MedalTally& current,
                                                      const v1::AwardMedalRequest& request,
                                                      int64_t seq, int64_t now_unix_micros) {
  v1::MedalTally next = current;
  int64_t count;
  switch (request.medal()) {
    case v1::GOLD:
      count = next.gold();
      break;
    case v1::SILVER:
      count = next.silver();
      break;
    case v1::BRONZE:
      count = next.bronze();
      break;
    default:
      return absl::InvalidArgumentError("medal must be gold, silver or bronze");
  }
  if (request.revoke() && count == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("team '", current.team(), "' has no ", MedalName(request.medal()),
                     " medal to revoke: a tally never goes below zero"));
  }
  count += request.revoke() ? -1 : 1;
  if (request.medal() == v1::GOLD) next.set_gold(count);
  if (request.medal() == v1::SILVER) next.set_silver(count);
  if (request.medal() == v1::BRONZE) next.set_bronze(count);
  next.set_version(seq);
  next.set_updated_unix_micros(now_unix_micros);
  return next;
}

absl::StatusOr<v1::EventScore> BoardState::GetEvent(absl::string_view event) const {
  if (absl::Status s = ValidateName("event", event); !s.ok()) return s;
  auto it = events_.find(event);
  if (it == events_.end()) return UnknownName("event", event);
  return it->second;
}

absl::StatusOr<v1::MedalTally> BoardState::GetMedals(absl::string_view team) const {
  if (absl::Status s = ValidateName("team", team); !s.ok()) return s;
  auto it = medals_.find(team);
  if (it == medals_.end()) return UnknownName("team", team);
  return it->second;
}

absl::StatusOr<v1::FanBoard> BoardState::GetFanBoard(absl::string_view event) const {
  if (absl::Status s = ValidateName("event", event); !s.ok()) return s;
  auto it = fans_.find(event);
  if (it == fans_.end()) return UnknownName("event", event);
  return it->second;
}

absl::StatusOr<v1::Change> BoardState::ValueOf(absl::string_view key) const {
  v1::Change change;
  absl::string_view name = key;
  if (absl::ConsumePrefix(&name, "event:")) {
    auto it = events_.find(name);
    if (it != events_.end()) {
      *change.mutable_event() = it->second;
      change.set_seq(it->second.version());
      return change;
    }
  } else if (absl::ConsumePrefix(&name, "team:")) {
    auto it = medals_.find(name);
    if (it != medals_.end()) {
      *change.mutable_medals() = it->second;
      change.set_seq(it->second.version());
      return change;
    }
  } else if (absl::ConsumePrefix(&name, "fans:")) {
    auto it = fans_.find(name);
    if (it != fans_.end()) {
      *change.mutable_fans() = it->second;
      change.set_seq(it->second.version());
      return change;
    }
  }
  return absl::NotFoundError(absl::StrCat("no value is kept under key '", key, "'"));
}

bool BoardState::Install(const v1::Change& change) {
  if (change.has_event()) {
    auto it = events_.find(change.event().event());
    if (it == events_.end()) return false;
    v1::EventScore installed = change.event();
    // A games file may have gained teams since the value was stored: keep
    // one entry per team now taking part, in the games' order.
    installed.clear_points();
    for (const std::string& team : games_.TeamsOf(change.event().event())) {
      v1::TeamPoints* points = installed.add_points();
      points->set_team(team);
      for (const v1::TeamPoints& stored : change.event().points()) {
        if (stored.team() == team) points->set_points(stored.points());
      }
    }
    it->second = std::move(installed);
    return true;
  }
  if (change.has_medals()) {
    auto it = medals_.find(change.medals().team());
    if (it == medals_.end()) return false;
    it->second = change.medals();
    return true;
  }
  if (change.has_fans()) {
    auto it = fans_.find(change.fans().event());
    if (it == fans_.end()) return false;
    it->second = change.fans();
    return true;
  }
  return false;
}

v1::Board BoardState::ToBoard(int64_t seq) const {
  v1::Board board;
  board.set_seq(seq);
  *board.mutable_games() = games_.spec();
  for (const std::string& event : games_.events()) {
    *board.add_events() = events_.at(event);
  }
  for (const std::string& team : games_.teams()) {
    *board.add_medals() = medals_.at(team);
  }
  return board;
}

}  // namespace podium
