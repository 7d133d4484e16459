// Frontend's subscription entry points, kept apart from the read path in
// frontend.cc: they resolve a request into keys and hand it to the hub.
#include "absl/strings/str_cat.h"
#include "common/keys.h"
#include "common/names.h"
#include "frontend/frontend.h"
#include "glog/logging.h"

namespace podium {

absl::StatusOr<std::shared_ptr<Subscription>> Frontend::NewSubscription(
    const v1::SubscribeRequest& request, const std::string& client,
    Subscription::StartWrite start_write, int shard) {
  if (request.format() != v1::SUBSCRIBE_FORMAT_CURRENT &&
      request.format() != v1::SUBSCRIBE_FORMAT_BATCHES) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this frontend sends SubscribeUpdates messages (format SUBSCRIBE_FORMAT_BATCHES); the "
        "client asks for format ", request.format(),
        ", which this Podium does not know: upgrade the frontend, or leave format unset"));
  }
  // This runs on a stream thread, which must not wait on the backend: the
  // names are read in the background from the start, and a subscriber that
  // comes before them waits a moment at most (there is nothing to fan out
  // before the names are known: every subscription needs them).
  if (!names_.WaitForNames(absl::Milliseconds(200))) {
    return absl::UnavailableError(absl::StrCat(
        "cannot subscribe yet: the backend ", options_.backend,
        " has not told this frontend the games' names"));
  }
  std::vector<std::string> keys;
  auto add = [&](const std::string& key) -> absl::Status {
    // The spelling first, as every read checks it: a malformed name is the
    // caller's mistake (INVALID_ARGUMENT), not a name the games lack.
    const size_t colon = key.find(':');
    const std::string kind = key.substr(0, colon) == "team" ? "team" : "event";
    if (absl::Status s = ValidateName(kind, key.substr(colon + 1)); !s.ok()) return s;
    if (!names_.Known(key)) return UnknownName(key);
    keys.push_back(key);
    return absl::OkStatus();
  };
  for (const std::string& event :
       request.all_events() ? names_.events()
                            : std::vector<std::string>(request.events().begin(),
                                                       request.events().end())) {
    if (absl::Status s = add(EventKey(event)); !s.ok()) return s;
  }
  for (const std::string& team :
       request.all_teams() ? names_.teams()
                           : std::vector<std::string>(request.teams().begin(),
                                                      request.teams().end())) {
    if (absl::Status s = add(TeamKey(team)); !s.ok()) return s;
  }
  for (const std::string& event :
       request.all_fan_boards() ? names_.events()
                                : std::vector<std::string>(request.fan_boards().begin(),
                                                           request.fan_boards().end())) {
    if (absl::Status s = add(FansKey(event)); !s.ok()) return s;
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError(
        "subscribe to at least one event, team or fan board (or all_events / all_teams / "
        "all_fan_boards)");
  }
  if (request.after_seq() < 0) {
    return absl::InvalidArgumentError("after_seq must not be negative");
  }
  auto subscription =
      std::make_shared<Subscription>(std::move(keys), client, std::move(start_write));
  subscription->set_shard(shard);
  return subscription;
}

void Frontend::StartSubscription(std::shared_ptr<Subscription> subscription,
                                 int64_t after_seq) {
  LOG(INFO) << "Subscribe from " << subscription->client() << ": "
            << subscription->keys().size() << " keys after seq " << after_seq;
  clients_.Attach(subscription->client());
  hub_->Add(std::move(subscription), after_seq);
}

void Frontend::EndSubscription(const Subscription* subscription) {
  hub_->Remove(subscription);
  clients_.Detach(subscription->client());
  LOG(INFO) << "subscription of " << subscription->client() << " ended";
}

}  // namespace podium
