// How many of each medal an event has awarded, held against what the games
// declare for it (`medals=G,S,B`, 1,1,1 by default): a second gold in a
// one-gold event is refused, judo's two bronzes are not. Both stores keep
// these counts beside the tallies and change them in the same transaction
// as the tally an award or revocation naming the event changes. They are
// not part of the board: readers see tallies, and a refusal when an event
// has no medal of that kind left.
#ifndef PODIUM_BACKEND_EVENT_AWARDS_H_
#define PODIUM_BACKEND_EVENT_AWARDS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podium/v1/backend.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

struct EventAwards {
  int64_t gold = 0;
  int64_t silver = 0;
  int64_t bronze = 0;

  bool operator==(const EventAwards& other) const {
    return gold == other.gold && silver == other.silver && bronze == other.bronze;
  }
};

// The event's counts after `request`, an award or revocation naming the
// event `info` declares. FAILED_PRECONDITION, naming the event, the medal
// and the games file's count, when every medal of that kind is already
// awarded. A revocation gives one back; counts never go below zero (a medal
// awarded before a store counted them is revoked without one to give back).
absl::StatusOr<EventAwards> ApplyEventAward(const v1::EventInfo& info, EventAwards current,
                                            const v1::AwardMedalRequest& request);

// "G,S,B", as the etcd store keeps the counts (readable with etcdctl).
std::string EncodeEventAwards(const EventAwards& awards);
// DATA_LOSS, naming `where`, when `text` is not three counts.
absl::StatusOr<EventAwards> DecodeEventAwards(absl::string_view text, absl::string_view where);

}  // namespace podium

#endif  // PODIUM_BACKEND_EVENT_AWARDS_H_
