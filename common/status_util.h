// Conversions between absl::Status (used inside Podium) and grpc::Status
// (used on the wire). The codes share numbering, so nothing is lost.
#ifndef PODIUM_COMMON_STATUS_UTIL_H_
#define PODIUM_COMMON_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace podium {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// True for failures that may succeed when tried again unchanged (the server
// was down, overloaded or timed out).
bool IsRetryable(const absl::Status& status);

}  // namespace podium

#endif  // PODIUM_COMMON_STATUS_UTIL_H_
