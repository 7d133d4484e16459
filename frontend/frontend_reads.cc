// Frontend's read path, kept apart from the election and push plumbing in
// frontend.cc: the cache-aside read of one key, the board assembled from
// the cache (and kept, serialized, while nothing in it changes), and the
// answers a hit gives as bytes serialized once.
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/board_changes.h"
#include "common/keys.h"
#include "common/names.h"
#include "common/standings.h"
#include "frontend/frontend.h"
#include "glog/logging.h"

namespace podium {

absl::StatusOr<CachedValue> Frontend::Read(const std::string& key, const Fetch& fetch) {
  if (options_.mode == v1::OFF) {
    absl::StatusOr<v1::Change> value = fetch();
    if (!value.ok()) return value.status();
    return std::make_shared<const CachedChange>(*std::move(value));
  }
  if (CachedValue hit = cache_.Get(key)) return hit;
  // Unknown names are refused here, so that a client's typo (or garbage)
  // never reaches the master's interest table. GameNames reads them from
  // the start; if none are in yet, this read fetches the board itself, and
  // should that fail too, the backend judges. A name not among them is
  // refused now and makes GameNames read the names again (rate-limited).
  LearnNames();
  if (!names_.Known(key)) return UnknownName(key);
  MasterView view;
  int64_t generation;
  {
    absl::MutexLock lock(&view_mu_);
    view = view_;
    generation = generation_;
  }
  bool cacheable = true;
  if (pusher_ != nullptr) {
    absl::Status registered = RegisterInterest({key}, view);
    if (!registered.ok()) {
      cacheable = false;
      VLOG(1) << "serving " << key << " uncached: " << registered;
    }
  }
  absl::StatusOr<v1::Change> value = fetch();
  if (!value.ok()) return KeptValue(key, value.status());
  // -1 matches no generation: the value is served but not marked fresh.
  return cache_.Fill(key, *value, cacheable ? generation : -1);
}

namespace {

// No backend answered at all (as opposed to answering "no such name").
bool BackendDown(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

void MarkUnverified(v1::Change* change) {
  if (change->has_event()) change->mutable_event()->set_unverified(true);
  if (change->has_medals()) change->mutable_medals()->set_unverified(true);
  if (change->has_fans()) change->mutable_fans()->set_unverified(true);
}

}  // namespace

absl::StatusOr<CachedValue> Frontend::KeptValue(const std::string& key, absl::Status read_error) {
  if (!BackendDown(read_error)) return read_error;
  CachedValue kept = cache_.GetAny(key);
  if (kept == nullptr) return read_error;
  LOG_EVERY_T(WARNING, 10) << "no backend answers (" << read_error.message()
                           << "); answering from the cache, flagged unverified";
  v1::Change change = kept->change();
  MarkUnverified(&change);
  return std::make_shared<const CachedChange>(std::move(change));
}

absl::StatusOr<v1::Change> Frontend::FetchEvent(const std::string& event) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.backend_timeout));
  v1::GetEventRequest request;
  request.set_event(event);
  v1::EventScore score;
  grpc::Status status = backend_->GetEvent(&context, request, &score);
  if (!status.ok()) return BackendError(status);
  return AsChange(score);
}

absl::StatusOr<v1::Change> Frontend::FetchMedals(const std::string& team) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.backend_timeout));
  v1::GetMedalsRequest request;
  request.set_team(team);
  v1::MedalTally tally;
  grpc::Status status = backend_->GetMedals(&context, request, &tally);
  if (!status.ok()) return BackendError(status);
  return AsChange(tally);
}

absl::StatusOr<v1::Change> Frontend::FetchFans(const std::string& event) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.backend_timeout));
  v1::GetFanBoardRequest request;
  request.set_event(event);
  v1::FanBoard board;
  grpc::Status status = backend_->GetFanBoard(&context, request, &board);
  if (!status.ok()) return BackendError(status);
  return AsChange(board);
}

absl::StatusOr<CachedValue> Frontend::ReadKey(const std::string& key) {
  const size_t colon = key.find(':');
  const std::string name = key.substr(colon + 1);
  if (key.compare(0, colon, "team") == 0) {
    return Read(key, [&] { return FetchMedals(name); });
  }
  if (key.compare(0, colon, "fans") == 0) {
    return Read(key, [&] { return FetchFans(name); });
  }
  return Read(key, [&] { return FetchEvent(name); });
}

void Frontend::LearnNames() {
  if (names_.empty()) GetBoard("").IgnoreError();
}

absl::Status Frontend::UnknownName(const std::string& key) {
  const size_t colon = key.find(':');
  return absl::NotFoundError(
      absl::StrCat("unknown ", key.substr(0, colon) == "team" ? "team" : "event", " '",
                   key.substr(colon + 1, 64),
                   "': it is not in the games file the backend was started with (names are read "
                   "again from the backend, in case its games file just grew)"));
}

namespace {

// A hit's bytes, sharing ownership of the entry that holds them.
Frontend::Reply ReplyOf(CachedValue value) {
  if (value == nullptr) return nullptr;
  const std::string* bytes = &value->reply();
  return Frontend::Reply(std::move(value), bytes);
}

}  // namespace

Frontend::Reply Frontend::ScoreHit(const std::string& event, const std::string& client) {
  if (options_.mode == v1::OFF) return nullptr;
  clients_.Seen(client);
  return ReplyOf(cache_.Get(EventKey(event), /*count_miss=*/false));
}

Frontend::Reply Frontend::MedalsHit(const std::string& team, const std::string& client) {
  if (options_.mode == v1::OFF) return nullptr;
  clients_.Seen(client);
  return ReplyOf(cache_.Get(TeamKey(team), /*count_miss=*/false));
}

Frontend::Reply Frontend::FansHit(const std::string& event, const std::string& client) {
  if (options_.mode == v1::OFF) return nullptr;
  clients_.Seen(client);
  return ReplyOf(cache_.Get(FansKey(event), /*count_miss=*/false));
}

Frontend::Reply Frontend::BoardHit(const std::string& client) {
  if (options_.mode == v1::OFF) return nullptr;
  if (!client.empty()) clients_.Seen(client);
  names_.RefreshIfOld();
  // Read before the entries: a change made while the board is assembled
  // moves a version past what the board is kept under.
  const uint64_t cache_version = cache_.version();
  const uint64_t names_version = names_.version();
  {
    absl::MutexLock lock(&board_mu_);
    if (board_.bytes != nullptr && board_.cache_version == cache_version &&
        board_.names_version == names_version) {
      return board_.bytes;
    }
  }
  std::optional<v1::Board> board = AssembleBoard();
  if (!board.has_value()) return nullptr;
  auto bytes = std::make_shared<const std::string>(board->SerializeAsString());
  absl::MutexLock lock(&board_mu_);
  if (cache_version >= board_.cache_version && names_version >= board_.names_version) {
    board_ = AssembledBoard{cache_version, names_version, bytes};
  }
  return bytes;
}

std::optional<v1::Board> Frontend::AssembleBoard(bool unverified) {
  const std::vector<std::string> events = names_.events();
  const std::vector<std::string> teams = names_.teams();
  if (events.empty()) return std::nullopt;
  v1::Board board;
  // A fresh entry is current; a stale one, served only when `unverified`,
  // is flagged, and so is the board.
  auto entry = [&](const std::string& key) -> std::optional<v1::Change> {
    if (CachedValue hit = cache_.Get(key)) return hit->change();
    if (!unverified) return std::nullopt;
    CachedValue kept = cache_.GetAny(key);
    if (kept == nullptr) return std::nullopt;
    v1::Change change = kept->change();
    MarkUnverified(&change);
    board.set_unverified(true);
    return change;
  };
  for (const std::string& event : events) {
    std::optional<v1::Change> value = entry(EventKey(event));
    if (!value.has_value()) return std::nullopt;
    board.set_seq(std::max(board.seq(), value->seq()));
    *board.add_events() = value->event();
  }
  for (const std::string& team : teams) {
    std::optional<v1::Change> value = entry(TeamKey(team));
    if (!value.has_value()) return std::nullopt;
    board.set_seq(std::max(board.seq(), value->seq()));
    *board.add_medals() = value->medals();
  }
  *board.mutable_games() = names_.games();
  return board;
}

absl::StatusOr<v1::EventScore> Frontend::GetScore(const std::string& event,
                                                  const std::string& client) {
  clients_.Seen(client);
  if (absl::Status s = ValidateName("event", event); !s.ok()) return s;
  absl::StatusOr<CachedValue> change = ReadKey(EventKey(event));
  if (!change.ok()) return change.status();
  return (*change)->change().event();
}

absl::StatusOr<v1::MedalTally> Frontend::GetMedals(const std::string& team,
                                                   const std::string& client) {
  clients_.Seen(client);
  if (absl::Status s = ValidateName("team", team); !s.ok()) return s;
  absl::StatusOr<CachedValue> change = ReadKey(TeamKey(team));
  if (!change.ok()) return change.status();
  return (*change)->change().medals();
}

absl::StatusOr<v1::FanBoard> Frontend::GetFanBoard(const std::string& event,
                                                   const std::string& client) {
  clients_.Seen(client);
  if (absl::Status s = ValidateName("event", event); !s.ok()) return s;
  absl::StatusOr<CachedValue> change = ReadKey(FansKey(event));
  if (!change.ok()) return change.status();
  return (*change)->change().fans();
}

absl::StatusOr<v1::Board> Frontend::GetBoard(const std::string& client) {
  if (!client.empty()) clients_.Seen(client);
  names_.RefreshIfOld();
  if (options_.mode != v1::OFF) {
    if (std::optional<v1::Board> board = AssembleBoard()) return *std::move(board);
  }
  const std::vector<std::string> events = names_.events();
  const std::vector<std::string> teams = names_.teams();

  // A miss: read the whole board from the backend and fill every key.
  MasterView view;
  int64_t generation;
  {
    absl::MutexLock lock(&view_mu_);
    view = view_;
    generation = generation_;
  }
  // In push mode only keys registered with the master before the read may
  // be cached fresh: names the backend added meanwhile are served but not
  // marked fresh, since no change of them would be pushed to us.
  absl::flat_hash_set<std::string> registered;
  if (pusher_ != nullptr && !events.empty()) {
    for (const std::string& event : events) registered.insert(EventKey(event));
    for (const std::string& team : teams) registered.insert(TeamKey(team));
    if (!RegisterInterest({registered.begin(), registered.end()}, view).ok()) {
      registered.clear();
    }
  }
  const uint64_t names_ticket = names_.Ticket();
  absl::StatusOr<v1::Board> fetched = FetchBoard();
  if (!fetched.ok()) {
    if (options_.mode != v1::OFF && BackendDown(fetched.status())) {
      if (std::optional<v1::Board> kept = AssembleBoard(/*unverified=*/true)) {
        LOG_EVERY_T(WARNING, 10) << "no backend answers (" << fetched.status().message()
                                 << "); answering the board from the cache, flagged "
                                    "unverified";
        return *std::move(kept);
      }
    }
    return fetched.status();
  }
  v1::Board board;
  board.set_seq(fetched->seq());
  *board.mutable_games() = fetched->games();
  // -1 matches no generation: served, not marked fresh.
  auto fill = [&](const std::string& key, const v1::Change& value) {
    const bool fresh = pusher_ == nullptr || registered.contains(key);
    return cache_.Fill(key, value, fresh ? generation : -1);
  };
  for (const v1::EventScore& event : fetched->events()) {
    *board.add_events() = fill(EventKey(event.event()), AsChange(event))->change().event();
  }
  for (const v1::MedalTally& tally : fetched->medals()) {
    *board.add_medals() = fill(TeamKey(tally.team()), AsChange(tally))->change().medals();
  }
  names_.Remember(*fetched, names_ticket);
  return board;
}

absl::StatusOr<v1::Board> Frontend::FetchBoard() {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.backend_timeout));
  v1::Board board;
  grpc::Status status = backend_->GetBoard(&context, v1::GetBoardRequest(), &board);
  if (!status.ok()) return BackendError(status);
  return board;
}

absl::StatusOr<v1::Standings> Frontend::GetStandings(const std::string& client) {
  absl::StatusOr<v1::Board> board = GetBoard(client);
  if (!board.ok()) return board.status();
  v1::Standings standings = RankStandings(board->medals());
  standings.set_seq(board->seq());
  return standings;
}

absl::StatusOr<v1::History> Frontend::GetHistory(const v1::HistoryRequest& request,
                                                 const std::string& client) {
  clients_.Seen(client);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.backend_timeout));
  v1::History history;
  grpc::Status status = backend_->GetHistory(&context, request, &history);
  if (!status.ok()) return BackendError(status, "a history is read from the backend ");
  return history;
}

}  // namespace podium
