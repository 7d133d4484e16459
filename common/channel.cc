#include "common/channel.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/tls.h"
#include "glog/logging.h"

namespace podium {
namespace {

constexpr int kConnectTimeoutMs = 5000;
constexpr int kListKeepAliveMs = 1000;

// "host:port" with the host resolved to its IPv4 addresses (a literal
// stays as it is), in the form gRPC's ipv4: resolver takes. Empty when the
// host does not resolve.
std::vector<std::string> Ipv4Addresses(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return {};
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return {};
  std::vector<std::string> out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET_ADDRSTRLEN];
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) != nullptr) {
      std::string one = absl::StrCat(text, ":", port);
      if (std::find(out.begin(), out.end(), one) == out.end()) out.push_back(one);
    }
  }
  freeaddrinfo(found);
  return out;
}

}  // namespace

std::string ChannelTarget(const std::string& addresses) {
  std::vector<std::string> parts = absl::StrSplit(addresses, ',', absl::SkipWhitespace());
  if (parts.size() <= 1) return addresses;
  std::vector<std::string> resolved;
  for (const std::string& part : parts) {
    std::vector<std::string> ips = Ipv4Addresses(part);
    if (ips.empty()) {
      LOG(WARNING) << "'" << part << "' in '" << addresses
                   << "' does not resolve to an IPv4 address; leaving it out";
    }
    resolved.insert(resolved.end(), ips.begin(), ips.end());
  }
  if (resolved.empty()) return parts[0];
  return absl::StrCat("ipv4:", absl::StrJoin(resolved, ","));
}

std::shared_ptr<grpc::Channel> CreateFastReconnectChannel(const std::string& address,
                                                          absl::Duration max_reconnect_backoff,
                                                          grpc::ChannelArguments args) {
  const int max_ms =
      static_cast<int>(std::max<int64_t>(absl::ToInt64Milliseconds(max_reconnect_backoff), 100));
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
  if (const size_t comma = address.find(','); comma != std::string::npos) {
    // The target of a list is "ipv4:a,b,...", which is no name a server's
    // certificate carries: TLS checks every address against the first's.
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY,
                   std::string(absl::StripAsciiWhitespace(address.substr(0, comma))));
    // Connected to every server of the list at once, each call to one that
    // is up: a dead one costs no connection attempt on the way to the next.
    args.SetLoadBalancingPolicyName("round_robin");
    // A server whose host vanished sends no reset: pings find it within
    // kListKeepAliveMs twice, and its calls move to the others. Podium's
    // servers accept pings this often (common/server.cc).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kListKeepAliveMs);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kListKeepAliveMs);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  return grpc::CreateCustomChannel(ChannelTarget(address), ChannelCredentials(), args);
}

}  // namespace podium
