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

// `args` carries any further channel arguments (e.g. keep-alive); the
// reconnect and subchannel-pool arguments are set on top of them.
std::shared_ptr<grpc::Channel> CreateFastReconnectChannel(
    const std::string& address,
    absl::Duration max_reconnect_backoff = absl::Seconds(1),
    grpc::ChannelArguments args = grpc::ChannelArguments());

}  // namespace podium

#endif  // PODIUM_COMMON_CHANNEL_H_
