#include "frontend/game_names.h"

#include "common/backoff.h"
#include "common/keys.h"
#include "glog/logging.h"

namespace podium {

GameNames::GameNames(FetchBoard fetch, GameNamesOptions options, OnChange on_change)
    : fetch_(std::move(fetch)), options_(options), on_change_(std::move(on_change)) {
  reader_ = std::thread([this] { Loop(); });
}

GameNames::~GameNames() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  reader_.join();
}

bool GameNames::empty() const {
  absl::MutexLock lock(&mu_);
  return keys_.empty();
}

bool GameNames::WaitForNames(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto known = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !keys_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&known), timeout);
  return !keys_.empty();
}

bool GameNames::Known(const std::string& key) {
  absl::MutexLock lock(&mu_);
  if (keys_.empty() || keys_.contains(key)) return true;
  RequestLocked(options_.recheck);
  return false;
}

std::vector<std::string> GameNames::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

std::vector<std::string> GameNames::teams() const {
  absl::MutexLock lock(&mu_);
  return teams_;
}

v1::Games GameNames::games() const {
  absl::MutexLock lock(&mu_);
  return games_;
}

uint64_t GameNames::version() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

void GameNames::RefreshIfOld() {
  absl::MutexLock lock(&mu_);
  if (!keys_.empty()) RequestLocked(options_.max_age);
}

void GameNames::RequestLocked(absl::Duration age) {
  const absl::Time now = absl::Now();
  if (now - requested_ < age) return;
  requested_ = now;
  wanted_ = true;
}

uint64_t GameNames::Ticket() {
  absl::MutexLock lock(&mu_);
  return ++next_ticket_;
}

void GameNames::Remember(const v1::Board& board, uint64_t ticket) {
  std::vector<std::string> events, teams;
  absl::flat_hash_set<std::string> keys;
  // What else shapes cached values: each event's teams, names and medals.
  std::string shape = board.games().SerializeAsString();
  for (const v1::EventScore& event : board.events()) {
    events.push_back(event.event());
    keys.insert(EventKey(event.event()));
    keys.insert(FansKey(event.event()));
    absl::StrAppend(&shape, "\n", event.event());
    for (const v1::TeamPoints& points : event.points()) absl::StrAppend(&shape, " ", points.team());
  }
  for (const v1::MedalTally& tally : board.medals()) {
    teams.push_back(tally.team());
    keys.insert(TeamKey(tally.team()));
  }
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    if (ticket <= applied_ticket_) return;
    applied_ticket_ = ticket;
    const bool differs = keys != keys_ || shape != shape_;
    version_ += differs;
    changed = !keys_.empty() && differs;
    if (changed) {
      LOG(INFO) << "the games changed: now " << events.size() << " events and "
                << teams.size() << " teams (were " << events_.size() << " and "
                << teams_.size() << "); cached values are read again";
    }
    events_ = std::move(events);
    teams_ = std::move(teams);
    keys_ = std::move(keys);
    shape_ = std::move(shape);
    games_ = board.games();
    requested_ = std::max(requested_, absl::Now());
  }
  if (changed && on_change_) on_change_(board);
}

void GameNames::Loop() {
  Backoff backoff(absl::Milliseconds(20), options_.max_retry);
  int failures = 0;
  while (true) {
    uint64_t ticket;
    {
      absl::MutexLock lock(&mu_);
      // Also unasked once the names are max_age old: a backend restarted
      // with a grown games file says so to no one.
      mu_.AwaitWithDeadline(absl::Condition(
                                +[](GameNames* n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(n->mu_) {
                                  return n->wanted_ || n->stopping_;
                                },
                                this),
                            requested_ + options_.max_age);
      if (stopping_) return;
      requested_ = std::max(requested_, absl::Now());
      wanted_ = false;
      ticket = ++next_ticket_;
    }
    absl::StatusOr<v1::Board> board = fetch_();
    if (board.ok()) {
      Remember(*board, ticket);
      backoff.Reset();
      failures = 0;
      continue;
    }
    if (failures++ % 20 == 0) {
      LOG(WARNING) << "cannot read the games' names: " << board.status();
    }
    absl::MutexLock lock(&mu_);
    if (keys_.empty()) {
      // Until the first names arrive, subscriptions wait for them: retry.
      mu_.AwaitWithDeadline(absl::Condition(&stopping_), absl::Now() + backoff.Next());
      wanted_ = true;
    }
  }
}

}  // namespace podium
