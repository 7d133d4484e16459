#include "backend/store.h"

#include "absl/synchronization/notification.h"

namespace podium {
namespace {

template <typename Request, typename Async>
absl::StatusOr<WriteResult> Wait(const Request& request, Async async) {
  absl::Notification done;
  absl::StatusOr<WriteResult> result;
  async(request, [&](absl::StatusOr<WriteResult> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

}  // namespace

absl::StatusOr<WriteResult> Store::RecordScore(const v1::RecordScoreRequest& request) {
  return Wait(request, [this](const auto& r, WriteDone d) { RecordScoreAsync(r, std::move(d)); });
}

absl::StatusOr<WriteResult> Store::AwardMedal(const v1::AwardMedalRequest& request) {
  return Wait(request, [this](const auto& r, WriteDone d) { AwardMedalAsync(r, std::move(d)); });
}

absl::StatusOr<WriteResult> Store::PostToFanBoard(const v1::PostToFanBoardRequest& request) {
  return Wait(request,
              [this](const auto& r, WriteDone d) { PostToFanBoardAsync(r, std::move(d)); });
}

absl::StatusOr<WriteResult> Store::RemovePost(const v1::RemovePostRequest& request) {
  return Wait(request, [this](const auto& r, WriteDone d) { RemovePostAsync(r, std::move(d)); });
}

}  // namespace podium
