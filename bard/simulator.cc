#include "bard/simulator.h"

#include <algorithm>
#include <deque>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "glog/logging.h"

namespace podium {
namespace {

const std::vector<v1::Medal> kOneOfEach = {v1::GOLD, v1::SILVER, v1::BRONZE};

}  // namespace

struct Simulator::Match {
  enum Phase { kReset, kLive, kScoring, kFinal, kMedals };

  std::string event;
  Phase phase = kReset;
  const std::vector<std::string>* teams = nullptr;  // taking part
  std::vector<int64_t> points;  // by team, in *teams order
  int updates_left = 0;
  const std::vector<v1::Medal>* medals = nullptr;  // by place, best first
  std::vector<size_t> ranking;  // team indices, best first; set at final
  size_t next_place = 0;        // the place the next medal goes to
  int64_t round = 1;
};

Simulator::Simulator(SimulatorOptions options, ScoreWriter* writer,
                     const absl::Notification* stop)
    : options_(std::move(options)), writer_(writer), stop_(stop) {}

SimulationReport Simulator::report() const {
  absl::MutexLock lock(&mu_);
  return report_;
}

absl::Status Simulator::CheckOptions(const SimulatorOptions& options) {
  if (!(options.rate >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate is ", options.rate, "; it must be 0 or more"));
  }
  if (options.duration < absl::ZeroDuration() || options.max_rounds < 0) {
    return absl::InvalidArgumentError(
        "duration and max_rounds must not be negative");
  }
  if (options.max_live < 1 || options.min_updates < 0 ||
      options.min_updates > options.max_updates) {
    return absl::InvalidArgumentError(
        "max_live must be at least 1 and 0 <= min_updates <= max_updates");
  }
  return absl::OkStatus();
}

absl::Status Simulator::Run() {
  if (options_.events.empty() || options_.teams.empty()) {
    return absl::InvalidArgumentError(
        "the simulator needs at least one event and one team");
  }
  if (absl::Status s = CheckOptions(options_); !s.ok()) return s;
  std::mt19937_64 rng(options_.seed);
  const absl::Time start = absl::Now();
  const absl::Time end = options_.duration == absl::ZeroDuration()
                             ? absl::InfiniteFuture()
                             : start + options_.duration;
  absl::Time next_slot = start;
  for (int64_t round = 1;; ++round) {
    std::deque<const std::string*> pending;
    for (const std::string& event : options_.events) pending.push_back(&event);
    std::vector<Match> live;
    while (!pending.empty() || !live.empty()) {
      while (live.size() < static_cast<size_t>(options_.max_live) &&
             !pending.empty()) {
        live.emplace_back();
        Match& match = live.back();
        match.event = *pending.front();
        match.round = round;
        auto own = options_.event_teams.find(match.event);
        match.teams = own != options_.event_teams.end() ? &own->second : &options_.teams;
        match.points.assign(match.teams->size(), 0);
        auto medals = options_.event_medals.find(match.event);
        match.medals = medals != options_.event_medals.end() ? &medals->second : &kOneOfEach;
        pending.pop_front();
      }
      std::uniform_int_distribution<size_t> pick_match(0, live.size() - 1);
      const size_t pick = pick_match(rng);
      if (!Pace(end, &next_slot)) return absl::OkStatus();
      bool done = false;
      if (absl::Status s = Step(&live[pick], &rng, &done); !s.ok()) return s;
      if (done) {
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
        absl::MutexLock lock(&mu_);
        ++report_.matches;
      }
    }
    {
      absl::MutexLock lock(&mu_);
      report_.rounds = round;
    }
    LOG(INFO) << "simulation round " << round << " complete: every event final";
    if (options_.max_rounds > 0 && round >= options_.max_rounds) {
      return absl::OkStatus();
    }
  }
}

bool Simulator::Pace(absl::Time end, absl::Time* next_slot) {
  if (Stopped()) return false;
  const absl::Time now = absl::Now();
  if (now >= end) return false;
  if (options_.rate == 0) return true;
  if (*next_slot > now) {
    if (*next_slot >= end) return false;
    const absl::Duration pause = *next_slot - now;
    if (stop_ == nullptr) {
      absl::SleepFor(pause);
    } else if (stop_->WaitForNotificationWithTimeout(pause)) {
      return false;
    }
  }
  // A slow write (the backend was down) leaves the schedule behind; carry
  // on at the rate from now rather than bursting to catch up.
  *next_slot =
      std::max(*next_slot, absl::Now()) + absl::Seconds(1) / options_.rate;
  return true;
}

absl::Status Simulator::Step(Match* match, std::mt19937_64* rng, bool* done) {
  v1::RecordScoreRequest request;
  request.set_event(match->event);
  switch (match->phase) {
    case Match::kReset:
      for (const std::string& team : *match->teams) {
        v1::TeamPoints* points = request.add_points();
        points->set_team(team);
        points->set_points(0);
      }
      request.set_status(v1::SCHEDULED);
      match->phase = Match::kLive;
      return Write(request);
    case Match::kLive: {
      request.set_status(v1::LIVE);
      std::uniform_int_distribution<int> updates(options_.min_updates,
                                                 options_.max_updates);
      match->updates_left = updates(*rng);
      match->phase = match->updates_left > 0 ? Match::kScoring : Match::kFinal;
      return Write(request);
    }
    case Match::kScoring: {
      std::uniform_int_distribution<size_t> pick_team(
          0, match->teams->size() - 1);
      std::uniform_int_distribution<int64_t> gain(1, 3);
      const size_t team = pick_team(*rng);
      match->points[team] += gain(*rng);
      v1::TeamPoints* points = request.add_points();
      points->set_team((*match->teams)[team]);
      points->set_points(match->points[team]);
      if (--match->updates_left == 0) match->phase = Match::kFinal;
      return Write(request);
    }
    case Match::kFinal: {
      request.set_status(v1::FINAL);
      match->ranking.resize(match->teams->size());
      std::iota(match->ranking.begin(), match->ranking.end(), 0);
      std::stable_sort(match->ranking.begin(), match->ranking.end(),
                       [&](size_t a, size_t b) {
                         return match->points[a] > match->points[b];
                       });
      match->phase = Match::kMedals;
      *done = Awards(*match) == 0;
      return Write(request);
    }
    case Match::kMedals: {
      const size_t place = match->next_place++;
      *done = match->next_place == Awards(*match);
      return Award((*match->teams)[match->ranking[place]], (*match->medals)[place], *match);
    }
  }
  return absl::InternalError("simulated match in an unknown phase");
}

size_t Simulator::Awards(const Match& match) {
  return std::min(match.medals->size(), match.ranking.size());
}

absl::Status Simulator::Write(const v1::RecordScoreRequest& request) {
  absl::StatusOr<v1::WriteReply> reply = writer_->RecordScore(request);
  if (!reply.ok()) return reply.status();
  absl::MutexLock lock(&mu_);
  ++report_.writes;
  if (reply->duplicate()) ++report_.duplicates;
  return absl::OkStatus();
}

std::string RematchReason(absl::string_view event, int64_t round) {
  return absl::StrCat(event, " rematch, round ", round);
}

absl::Status Simulator::Award(const std::string& team, v1::Medal medal, const Match& match) {
  v1::AwardMedalRequest request;
  request.set_team(team);
  request.set_medal(medal);
  if (match.round == 1) {
    request.set_event(match.event);
  } else {
    request.set_reason(RematchReason(match.event, match.round));
  }
  absl::StatusOr<v1::WriteReply> reply = writer_->AwardMedal(request);
  if (match.round == 1 && reply.status().code() == absl::StatusCode::kFailedPrecondition) {
    // The store already holds this event's medals: a day played before on
    // it. The tallies stay as they are; the rematches go on.
    LOG(WARNING) << "award of " << MedalName(medal) << " to " << team << " left out: "
                 << reply.status().message();
    absl::MutexLock lock(&mu_);
    ++report_.refused_awards;
    return absl::OkStatus();
  }
  if (!reply.ok()) return reply.status();
  absl::MutexLock lock(&mu_);
  ++report_.writes;
  if (reply->duplicate()) ++report_.duplicates;
  MedalCount& count = report_.medals[team];
  ++(medal == v1::GOLD     ? count.gold
     : medal == v1::SILVER ? count.silver
                           : count.bronze);
  return absl::OkStatus();
}

}  // namespace podium
