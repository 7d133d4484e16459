// Client channels that find a restarted server quickly. gRPC's default
// reconnect backoff grows to two minutes, far too long for a scoreboard
// whose processes are killed and revived on purpose.
#ifndef PODIUM_COMMON_CHANNEL_H_
#define PODIUM_COMMON_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace podium {

// `address` is host:port, or several separated by commas (the backends of
// one cluster, say): the channel is then connected to each and sends every
// call to one that is up (gRPC's round_robin), pinging them every second
// so that a server whose host vanished is left within about two: every
// call and stream made on it fails over without the caller knowing.
// Under TLS each server of a list must hold a certificate for the first
// one's host (one certificate for the cluster, as ./scripts/run --tls
// makes).
// `args` carries any further channel arguments (e.g. keep-alive); the
// reconnect and subchannel-pool arguments are set on top of them.
std::shared_ptr<grpc::Channel> CreateFastReconnectChannel(
    const std::string& address, absl::Duration max_reconnect_backoff = absl::Seconds(1),
    grpc::ChannelArguments args = grpc::ChannelArguments());

// The gRPC target for `addresses` as above: one address as it is; a list
// as an ipv4: target of every address it resolves to.
std::string ChannelTarget(const std::string& addresses);

}  // namespace podium

#endif  // PODIUM_COMMON_CHANNEL_H_
