// What every answer of a Podium server follows, whichever service and API
// (sync, callback, async) produced it, so that an independent client can
// rely on it:
//
//  - A request body that does not parse (garbage bytes, a proto3 string
//    that is not UTF-8) is INVALID_ARGUMENT saying so. gRPC itself answers
//    such a body INTERNAL "" on a synchronous method and UNIMPLEMENTED "" on
//    a callback one; no Podium handler answers either without a message.
//  - No status message ends in whitespace (HTTP/2 clients strip it, and a
//    message that was all whitespace would arrive empty).
//
// Installed on every server by StartServer (common/server.h).
#ifndef PODIUM_COMMON_CALL_CONVENTIONS_H_
#define PODIUM_COMMON_CALL_CONVENTIONS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/server_interceptor.h>

#include "absl/strings/string_view.h"

namespace podium {

// The status a call to `method` ("/podium.v1.Backend/GetBoard") answers in
// place of `status`; `served` says whether the server serves the method's
// service (a method it does not serve stays UNIMPLEMENTED).
grpc::Status ConventionalStatus(absl::string_view method, bool served,
                                const grpc::Status& status);

// Rewrites each call's final status with ConventionalStatus. `served`
// says whether the server serves a service ("podium.v1.Backend"); it is
// asked once per call, from gRPC's threads.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewCallConventionsInterceptorFactory(std::function<bool(absl::string_view)> served);

}  // namespace podium

#endif  // PODIUM_COMMON_CALL_CONVENTIONS_H_
