// Reads a blocking Subscribe stream one update at a time, however the
// frontend grouped them into messages (it sends the updates that waited for
// a subscriber together, in one SubscribeUpdates).
#ifndef PODIUM_HARNESS_UPDATE_READER_H_
#define PODIUM_HARNESS_UPDATE_READER_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium::harness {

// Not thread-safe: one reading thread, like the gRPC reader it wraps.
class UpdateReader {
 public:
  // Starts Subscribe(request) on `stub`, asking for the format it reads
  // (SUBSCRIBE_FORMAT_BATCHES); `context` must outlive the reader.
  UpdateReader(v1::Scoreboard::StubInterface* stub, grpc::ClientContext* context,
               const v1::SubscribeRequest& request);

  // The next update, in stream order; false once the stream has ended.
  bool Read(v1::SubscribeUpdate* update);
  // Blocks until the frontend accepted the call (its initial metadata).
  void WaitForInitialMetadata() { reader_->WaitForInitialMetadata(); }
  // The call's status, once Read returned false (or after a cancel).
  grpc::Status Finish() { return reader_->Finish(); }

 private:
  std::unique_ptr<grpc::ClientReaderInterface<v1::SubscribeUpdates>> reader_;
  v1::SubscribeUpdates message_;
  int next_ = 0;  // index into message_ of the next update to hand out
};

}  // namespace podium::harness

#endif  // PODIUM_HARNESS_UPDATE_READER_H_
