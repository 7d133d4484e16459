#include "common/call_conventions.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace podium {
namespace {

class CallConventionsInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallConventionsInterceptor(std::string method, bool served)
      : method_(std::move(method)), served_(served) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      grpc::Status conventional = ConventionalStatus(method_, served_, status);
      if (conventional.error_code() != status.error_code() ||
          conventional.error_message() != status.error_message()) {
        methods->ModifySendStatus(conventional);
      }
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  const bool served_;
};

class CallConventionsFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallConventionsFactory(std::function<bool(absl::string_view)> served)
      : served_(std::move(served)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // "/podium.v1.Backend/GetBoard" belongs to "podium.v1.Backend"; a path
    // of another shape (a raw HTTP/2 client may send anything) is left as
    // gRPC answers it.
    const absl::string_view method = info->method() == nullptr ? "" : info->method();
    const size_t slash = method.rfind('/');
    if (method.size() < 3 || method[0] != '/' || slash == 0 || slash == absl::string_view::npos) {
      return nullptr;
    }
    // Subscribe streams carry the fan-out: an interceptor there would run
    // on every message written. Their statuses are built with care instead
    // (SubscribeStreams).
    if (absl::EndsWith(method, "/Subscribe")) return nullptr;
    return new CallConventionsInterceptor(std::string(method),
                                          served_(method.substr(1, slash - 1)));
  }

 private:
  const std::function<bool(absl::string_view)> served_;
};

}  // namespace

grpc::Status ConventionalStatus(absl::string_view method, bool served,
                                const grpc::Status& status) {
  if (status.ok()) return status;
  // Only gRPC's own answer to a body it could not parse comes without a
  // message on a method of Podium's that this server serves.
  if (status.error_message().empty() && served && absl::StartsWith(method, "/podium.") &&
      (status.error_code() == grpc::StatusCode::INTERNAL ||
       status.error_code() == grpc::StatusCode::UNIMPLEMENTED)) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("the request to ", method,
                     " does not parse as its protobuf message (malformed bytes, or a "
                     "string that is not UTF-8): check the client's copy of the protos"));
  }
  absl::string_view message = absl::StripTrailingAsciiWhitespace(status.error_message());
  if (message.size() == status.error_message().size()) return status;
  return grpc::Status(status.error_code(),
                      message.empty() ? "(no message)" : std::string(message),
                      status.error_details());
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewCallConventionsInterceptorFactory(std::function<bool(absl::string_view)> served) {
  return std::make_unique<CallConventionsFactory>(std::move(served));
}

}  // namespace podium
