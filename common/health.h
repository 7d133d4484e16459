// Readiness: asks a server's standard grpc.health.v1 service.
#ifndef PODIUM_COMMON_HEALTH_H_
#define PODIUM_COMMON_HEALTH_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace podium {

// One health check of `address` with the given timeout: OK when the server
// reports SERVING, otherwise a status saying what it reported or why it could
// not be asked.
absl::Status CheckHealth(const std::string& address, absl::Duration timeout);

// Retries CheckHealth until it succeeds or `timeout` has passed.
absl::Status WaitUntilHealthy(const std::string& address,
                              absl::Duration timeout);

}  // namespace podium

#endif  // PODIUM_COMMON_HEALTH_H_
