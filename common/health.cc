#include "common/health.h"

#include "common/tls.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace podium {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

absl::Status CheckHealth(const std::string& address, absl::Duration timeout) {
  auto channel =
      grpc::CreateChannel(address, ChannelCredentials());
  auto stub = Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(FromGrpcStatus(status).code(),
                        absl::StrCat("health check of ", address,
                                     " failed: ", status.error_message()));
  }
  if (response.status() != HealthCheckResponse::SERVING) {
    return absl::UnavailableError(absl::StrCat(
        address, " is ",
        HealthCheckResponse::ServingStatus_Name(response.status())));
  }
  return absl::OkStatus();
}

absl::Status WaitUntilHealthy(const std::string& address,
                              absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  do {
    last = CheckHealth(address, absl::Milliseconds(500));
    if (last.ok()) return last;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return absl::DeadlineExceededError(
      absl::StrCat("not healthy within ", absl::FormatDuration(timeout), ": ",
                   last.message()));
}

}  // namespace podium
