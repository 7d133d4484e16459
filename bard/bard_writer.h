// The bard's connection to the backend: sends writes with the write token
// and retries them through backend restarts without ever applying one twice.
//
// Every write carries an idempotency key, and every retry of a write carries
// the same key. A retry after an attempt whose outcome is unknown (the
// deadline passed, the connection broke after the request left) is therefore
// safe: if the first attempt was applied the backend answers with that
// application (duplicate=true) instead of applying it again.
#ifndef PODIUM_BARD_BARD_WRITER_H_
#define PODIUM_BARD_BARD_WRITER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "bard/score_writer.h"
#include "podium/v1/backend.grpc.pb.h"

namespace podium {

struct BardWriterOptions {
  // Each attempt's deadline: bounds the wait on a backend that is up but
  // stuck, after which the attempt is retried like one that failed.
  absl::Duration attempt_timeout = absl::Seconds(5);
  // How long a call keeps retrying, from its first attempt: no attempt
  // starts after it, and a backend down for longer makes the call fail with
  // the last error.
  absl::Duration retry_budget = absl::Seconds(60);
  // The pause between attempts starts here and doubles up to max_backoff,
  // jittered so that many bards do not hit a reviving backend in step.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  // When notified, a call stops retrying (CANCELLED) instead of waiting for
  // the next attempt; an attempt already sent still runs to its end. Lets a
  // SIGTERM end the bard promptly while the backend is down. Not owned.
  const absl::Notification* stop = nullptr;
};

// Thread-safe: calls may run concurrently (the stub is thread-safe and the
// key counter atomic); each call owns its backoff.
class BardWriter : public ScoreWriter {
 public:
  // `backend_address` is "host:port". The channel reconnects by itself after
  // the backend restarts; it is tuned (see bard_writer.cc) so that a revived
  // backend is found by the next attempt or two rather than seconds later.
  BardWriter(const std::string& backend_address, std::string write_token,
             BardWriterOptions options = {});

  // Fails with the backend's gRPC code and message when the write is refused
  // (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, ...) without retrying,
  // or with the last retryable error once the retry budget is spent.
  absl::StatusOr<v1::WriteReply> RecordScore(v1::RecordScoreRequest request) override;
  absl::StatusOr<v1::WriteReply> AwardMedal(v1::AwardMedalRequest request) override;

  // An operator's removal of a fan's post (not a ScoreWriter write: replay
  // files and the journal know nothing of fan boards). NOT_FOUND when the
  // board does not show the post.
  absl::StatusOr<v1::WriteReply> RemovePost(v1::RemovePostRequest request);

  // The whole board (every event and team): how the bard learns the games.
  // Retried like a write; reads need no token and no key.
  absl::StatusOr<v1::Board> GetBoard();

  // A key no other BardWriter (in this or any other process) hands out: a
  // random per-writer prefix and a counter, well under kMaxNameBytes.
  std::string NextKey();

  // Attempts that failed retryably and were tried again, over all calls.
  int64_t retries() const { return retries_.load(); }

 private:
  // Runs `attempt` until it succeeds, fails for good, or the budget or stop
  // ends the retrying. `what` names the call in logs and errors.
  absl::Status CallWithRetries(const std::string& what, bool with_token,
                               const std::function<grpc::Status(grpc::ClientContext*)>& attempt);

  const std::string address_;
  const std::string write_token_;
  const BardWriterOptions options_;
  const std::string key_prefix_;
  const std::unique_ptr<v1::Backend::Stub> stub_;
  std::atomic<uint64_t> next_key_{1};
  std::atomic<int64_t> retries_{0};
};

}  // namespace podium

#endif  // PODIUM_BARD_BARD_WRITER_H_
