// Client channels that find a restarted server quickly. gRPC's default
// reconnect backoff grows to two minutes, far too long for a scoreboard
// whose processes are killed and revived on purpose.
#ifndef PODIUM_COMMON_CHANNEL_H_
#define PODIUM_COMMON_CHANNEL_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"

namespace podium {

std::shared_ptr<grpc::Channel> CreateFastReconnectChannel(
    const std::string& address,
    absl::Duration max_reconnect_backoff = absl::Seconds(1));

}  // namespace podium

#endif  // PODIUM_COMMON_CHANNEL_H_
