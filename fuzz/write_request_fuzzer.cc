// BoardState::Validate (backend/board_state.h), the backend's check of every
// write, on requests as they arrive: protobuf wire format from anyone who
// holds the token. The first byte picks the kind (even: RecordScoreRequest,
// odd: AwardMedalRequest), the rest is the message. Beyond not crashing,
// the promise that "a write that passes cannot fail to apply": its new value
// names the same key, carries the write, and installs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "backend/board_state.h"
#include "backend/games.h"
#include "common/names.h"
#include "fuzz/fuzz_check.h"
#include "podium/v1/backend.pb.h"

namespace podium {
namespace {

constexpr int64_t kSeq = 42;

const BoardState& Initial() {
  static const auto* board = new BoardState(Games::Default());
  return *board;
}

void CheckKey(const std::string& key) {
  FUZZ_CHECK(!key.empty() && key.size() <= kMaxNameBytes,
             absl::StrCat("key of ", key.size(), " bytes passed"));
}

void Score(const v1::RecordScoreRequest& request) {
  BoardState board = Initial();
  if (!board.Validate(request).ok()) return;
  CheckKey(request.idempotency_key());
  absl::StatusOr<v1::EventScore> current = board.GetEvent(request.event());
  FUZZ_CHECK_OK(current.status());
  const v1::EventScore next = BoardState::ApplyScore(*current, request, kSeq, 1);
  FUZZ_CHECK(next.event() == request.event(), next.ShortDebugString());
  FUZZ_CHECK(next.version() == kSeq, next.ShortDebugString());
  FUZZ_CHECK(next.points_size() == current->points_size(), next.ShortDebugString());
  for (const v1::TeamPoints& given : request.points()) {
    bool found = false;
    for (const v1::TeamPoints& points : next.points()) {
      if (points.team() != given.team()) continue;
      FUZZ_CHECK(!found && points.points() == given.points(), next.ShortDebugString());
      found = true;
    }
    FUZZ_CHECK(found, absl::StrCat("team ", given.team(), " lost"));
  }
  if (request.status() != v1::EVENT_STATUS_UNSPECIFIED) {
    FUZZ_CHECK(next.status() == request.status(), next.ShortDebugString());
  }
  v1::Change change;
  change.set_seq(kSeq);
  *change.mutable_event() = next;
  FUZZ_CHECK(board.Install(change), change.ShortDebugString());
  absl::StatusOr<v1::EventScore> installed = board.GetEvent(request.event());
  FUZZ_CHECK_OK(installed.status());
  FUZZ_CHECK(installed->SerializeAsString() == next.SerializeAsString(),
             installed->ShortDebugString());
}

void Award(const v1::AwardMedalRequest& request) {
  BoardState board = Initial();
  if (!board.Validate(request).ok()) return;
  CheckKey(request.idempotency_key());
  absl::StatusOr<v1::MedalTally> current = board.GetMedals(request.team());
  FUZZ_CHECK_OK(current.status());
  absl::StatusOr<v1::MedalTally> applied = BoardState::ApplyMedal(*current, request, kSeq, 1);
  // The initial tallies are all zero: the one refusal left is a revocation.
  if (request.revoke()) {
    FUZZ_CHECK(applied.status().code() == absl::StatusCode::kFailedPrecondition,
               applied.status().ToString());
    return;
  }
  FUZZ_CHECK_OK(applied.status());
  const v1::MedalTally& next = *applied;
  FUZZ_CHECK(next.team() == request.team(), next.ShortDebugString());
  FUZZ_CHECK(next.version() == kSeq, next.ShortDebugString());
  FUZZ_CHECK(next.gold() + next.silver() + next.bronze() ==
                 current->gold() + current->silver() + current->bronze() + 1,
             next.ShortDebugString());
  v1::Change change;
  change.set_seq(kSeq);
  *change.mutable_medals() = next;
  FUZZ_CHECK(board.Install(change), change.ShortDebugString());
}

}  // namespace
}  // namespace podium

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  podium::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool award = data[0] & 1;
  const void* message = data + 1;
  const int length = static_cast<int>(size - 1);
  if (award) {
    podium::v1::AwardMedalRequest request;
    if (request.ParseFromArray(message, length)) podium::Award(request);
  } else {
    podium::v1::RecordScoreRequest request;
    if (request.ParseFromArray(message, length)) podium::Score(request);
  }
  return 0;
}
