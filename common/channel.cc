#include "common/channel.h"

#include "common/tls.h"

#include <algorithm>

namespace podium {
namespace {

constexpr int kConnectTimeoutMs = 5000;

}  // namespace

std::shared_ptr<grpc::Channel> CreateFastReconnectChannel(
    const std::string& address, absl::Duration max_reconnect_backoff,
    grpc::ChannelArguments args) {
  const int max_ms = static_cast<int>(
      std::max<int64_t>(absl::ToInt64Milliseconds(max_reconnect_backoff), 100));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
  // Despite its name, gRPC's subchannel reads this as the least time a
  // connection attempt (TCP, TLS, the server's HTTP/2 SETTINGS) is given
  // before it is abandoned, not as a backoff. At 100 ms, as it once was
  // here, attempts failed whenever the machine was busy: a TLS handshake
  // under ASan, or a hundred clients failing over to one frontend at once
  // ("connection attempt timed out before receiving SETTINGS frame",
  // "tcp handshaker shutdown"), each costing the caller a retry.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kConnectTimeoutMs);
  // Once every connection attempt has failed, gRPC 1.51's pick_first stays
  // in TRANSIENT_FAILURE and connects again only when the name is
  // re-resolved, which the DNS resolver rate-limits (5 s measured here). A
  // short minimum lets each failed call's re-resolution trigger an attempt.
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 100);
  // Each channel gets its own connection instead of sharing one with every
  // other channel to the same address in this process, so that clients
  // simulated side by side (tests, benchmarks) behave like separate ones.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, ChannelCredentials(), args);
}

}  // namespace podium
