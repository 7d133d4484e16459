// What every Podium server process shares: the standard health and
// reflection services, binding, and a clean shutdown on SIGTERM/SIGINT.
#ifndef PODIUM_COMMON_SERVER_H_
#define PODIUM_COMMON_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace podium {

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it
// starts afterwards, so that WaitForTerminationSignal() alone receives them.
// Call first thing in main().
void BlockTerminationSignals();

// Blocks until SIGINT or SIGTERM arrives; returns its number.
int WaitForTerminationSignal();

// Starts a server on `address` ("host:port"; port 0 picks a free one) with
// `services`, gRPC health (reported SERVING) and server reflection. Returns
// UNAVAILABLE with the address when it cannot bind. `*bound_port` receives
// the port actually bound. `configure`, if set, sees the builder last before
// the server starts (to add completion queues for async methods). Under
// TLS (common/tls.h) it presents the process's certificate and, with
// `require_client_certificate`, accepts only callers with one the CA signed.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(
    const std::string& address, const std::vector<grpc::Service*>& services,
    int* bound_port = nullptr,
    const std::function<void(grpc::ServerBuilder*)>& configure = nullptr,
    bool require_client_certificate = false);

// Reports NOT_SERVING, then lets in-flight calls finish for up to `grace`
// before cancelling what remains.
void ShutdownServer(grpc::Server* server, absl::Duration grace);

}  // namespace podium

#endif  // PODIUM_COMMON_SERVER_H_
