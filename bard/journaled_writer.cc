#include "bard/journaled_writer.h"

#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace podium {

JournaledWriter::JournaledWriter(Journal* journal, ScoreWriter* writer,
                                 std::function<std::string()> next_key)
    : journal_(journal), writer_(writer), next_key_(std::move(next_key)) {}

absl::StatusOr<v1::WriteReply> JournaledWriter::RecordScore(
    v1::RecordScoreRequest request) {
  return Write(std::move(request));
}

absl::StatusOr<v1::WriteReply> JournaledWriter::AwardMedal(
    v1::AwardMedalRequest request) {
  return Write(std::move(request));
}

absl::StatusOr<v1::WriteReply> JournaledWriter::Write(JournalRequest request) {
  std::visit(
      [&](auto& r) {
        if (r.idempotency_key().empty()) r.set_idempotency_key(next_key_());
      },
      request);
  if (absl::Status s = journal_->RecordWrite(request); !s.ok()) return s;
  return Deliver(request);
}

absl::StatusOr<v1::WriteReply> JournaledWriter::Deliver(
    const JournalRequest& request) {
  const std::string& key = RequestKey(request);
  absl::StatusOr<v1::WriteReply> reply =
      std::holds_alternative<v1::RecordScoreRequest>(request)
          ? writer_->RecordScore(std::get<v1::RecordScoreRequest>(request))
          : writer_->AwardMedal(std::get<v1::AwardMedalRequest>(request));
  if (reply.ok()) {
    // Applied, but a failure to say so leaves it pending: the next bard
    // re-sends it and is answered "duplicate", so it still counts once.
    if (absl::Status s = journal_->RecordAck(key, *reply); !s.ok()) return s;
    return reply;
  }
  if (IsDefinitiveRefusal(reply.status())) {
    if (absl::Status s = journal_->RecordRefusal(key, reply.status());
        !s.ok()) {
      LOG(ERROR) << "cannot journal the refusal of " << key << ": " << s;
    }
  }
  return reply;
}

absl::Status JournaledWriter::ResendPending(int64_t* resent) {
  int64_t ignored = 0;
  if (resent == nullptr) resent = &ignored;
  const std::vector<JournalRequest> pending = journal_->Pending();
  if (!pending.empty()) {
    LOG(INFO) << journal_->path() << ": re-sending " << pending.size()
              << " journaled write(s) whose outcome is unknown";
  }
  for (const JournalRequest& request : pending) {
    absl::StatusOr<v1::WriteReply> reply = Deliver(request);
    if (reply.ok()) {
      ++*resent;
      LOG(INFO) << "journaled write " << RequestKey(request) << ": seq "
                << reply->change().seq()
                << (reply->duplicate() ? ", had been applied" : ", applied now");
      continue;
    }
    if (IsDefinitiveRefusal(reply.status())) {
      ++*resent;
      LOG(WARNING) << "journaled write " << RequestKey(request)
                   << " refused: " << reply.status();
      continue;
    }
    return absl::Status(
        reply.status().code(),
        absl::StrCat("re-sending journaled write ", RequestKey(request),
                     " from ", journal_->path(), ": ",
                     reply.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace podium
