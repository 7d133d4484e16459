#include "harness/update_reader.h"

#include <utility>

namespace podium::harness {

namespace {

v1::SubscribeRequest InFormat(v1::SubscribeRequest request) {
  request.set_format(v1::SUBSCRIBE_FORMAT_BATCHES);
  return request;
}

}  // namespace

UpdateReader::UpdateReader(v1::Scoreboard::StubInterface* stub, grpc::ClientContext* context,
                           const v1::SubscribeRequest& request)
    : reader_(stub->Subscribe(context, InFormat(request))) {}

bool UpdateReader::Read(v1::SubscribeUpdate* update) {
  while (next_ >= message_.updates_size()) {
    next_ = 0;
    if (!reader_->Read(&message_)) return false;
  }
  *update = std::move(*message_.mutable_updates(next_++));
  return true;
}

}  // namespace podium::harness
