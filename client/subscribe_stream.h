// One Scoreboard.Subscribe call on gRPC's callback API: no thread per
// stream (a client may hold several, a benchmark thousands). Its reactions
// only hand what happened to a Sink; the owner consumes updates at its own
// pace, and the stream reads ahead while fewer than kWindow updates wait (a
// message may carry several), so a slow consumer pushes back on the
// frontend (which then conflates) instead of queueing without bound in the
// client. It reads only once the frontend's initial metadata says it sends
// the message format this client reads; another format fails the stream
// with FAILED_PRECONDITION.
//
// Lifetime: gRPC calls the sink's OnStreamDone last, after every update
// and only once the owner can no longer start a read (a hold keeps the
// call open until a read has failed), so the owner may delete the stream
// when it handles that call's event. The sink must outlive the stream.
#ifndef PODIUM_CLIENT_SUBSCRIBE_STREAM_H_
#define PODIUM_CLIENT_SUBSCRIBE_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/update_filter.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium {

class SubscribeStream final
    : public grpc::ClientReadReactor<v1::SubscribeUpdates> {
 public:
  // Updates a stream may have handed over and not yet had Consumed() before
  // it stops reading; one more message may add up to the frontend's batch
  // size (64) on top.
  static constexpr int kWindow = 256;

  // Called on gRPC's threads; must not block.
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void OnStreamUpdate(SubscribeStream* stream,
                                v1::SubscribeUpdate update) = 0;
    // The frontend's initial metadata arrived: it accepted the call.
    virtual void OnStreamEstablished(SubscribeStream* stream) = 0;
    virtual void OnStreamDone(SubscribeStream* stream,
                              const grpc::Status& status) = 0;
  };

  SubscribeStream(Sink* sink, std::string address, int64_t after_seq);

  // Starts the call with `request`, its after_seq set to this stream's.
  void Start(std::shared_ptr<v1::Scoreboard::Stub> stub,
             v1::SubscribeRequest request);
  // One handed-over update has been handled; reads on once at most half
  // the window is waiting.
  void Consumed();
  // Cancels the call (OnStreamDone follows). Not from a Sink method.
  void Cancel();

  const std::string address;
  const int64_t after_seq;
  // The owner's bookkeeping, touched by its thread only.
  StreamCursor cursor;
  bool cancelled = false;
  bool delivered_any = false;

 private:
  void OnReadInitialMetadataDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;
  // Starts a read unless one is pending or reading is over.
  void ReadIf(bool (*wanted)(int queued));

  Sink* const sink_;
  std::shared_ptr<v1::Scoreboard::Stub> stub_;
  grpc::ClientContext context_;
  v1::SubscribeRequest request_;
  v1::SubscribeUpdates buffer_;

  absl::Mutex mu_;
  int queued_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // a read failed: no more
  bool cancelling_ ABSL_GUARDED_BY(mu_) = false;
  // What the frontend's initial metadata said of its message format:
  // nothing yet (or the call failed first), the format this client reads
  // (SUBSCRIBE_FORMAT_BATCHES), or another. Reads start once it matches.
  enum class Format { kUnknown, kMatches, kDiffers };
  Format format_ ABSL_GUARDED_BY(mu_) = Format::kUnknown;
};

}  // namespace podium

#endif  // PODIUM_CLIENT_SUBSCRIBE_STREAM_H_
