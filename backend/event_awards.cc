#include "backend/event_awards.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/names.h"

namespace podium {

absl::StatusOr<EventAwards> ApplyEventAward(const v1::EventInfo& info, EventAwards current,
                                            const v1::AwardMedalRequest& request) {
  int64_t* count = request.medal() == v1::GOLD     ? &current.gold
                   : request.medal() == v1::SILVER ? &current.silver
                                                   : &current.bronze;
  if (request.revoke()) {
    if (*count > 0) --*count;
    return current;
  }
  const int declared = MedalsAwarded(info, request.medal());
  if (*count >= declared) {
    return absl::FailedPreconditionError(
        absl::StrCat("event '", info.event(), "' has already awarded its ", declared, " ",
                     MedalName(request.medal()), " medal", declared == 1 ? "" : "s",
                     " (the games file's medals=); revoke one first if the result changed"));
  }
  ++*count;
  return current;
}

std::string EncodeEventAwards(const EventAwards& awards) {
  return absl::StrCat(awards.gold, ",", awards.silver, ",", awards.bronze);
}

absl::StatusOr<EventAwards> DecodeEventAwards(absl::string_view text, absl::string_view where) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  EventAwards awards;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &awards.gold) ||
      !absl::SimpleAtoi(parts[1], &awards.silver) || !absl::SimpleAtoi(parts[2], &awards.bronze) ||
      awards.gold < 0 || awards.silver < 0 || awards.bronze < 0) {
    return absl::DataLossError(absl::StrCat("the medal counts of ", where, " ('", text,
                                            "') are not three counts G,S,B: the store is "
                                            "damaged; restore it from a backup"));
  }
  return awards;
}

}  // namespace podium
