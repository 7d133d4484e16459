#include "common/server.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/call_conventions.h"
#include "common/tls.h"
#include "grpc/health/v1/health.pb.h"
#include "glog/logging.h"

namespace podium {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

namespace {

// The names of the services a server registers. gRPC's initializer knows
// them when the server is built, while calls may already arrive: the
// interceptor reads them under the lock.
class ServiceNames {
 public:
  void Set(const std::vector<std::string>& names) {
    absl::MutexLock lock(&mu_);
    names_ = names;
  }
  std::vector<std::string> Get() const {
    absl::MutexLock lock(&mu_);
    return names_;
  }
  bool Contains(absl::string_view name) const {
    absl::MutexLock lock(&mu_);
    return std::find(names_.begin(), names_.end(), name) != names_.end();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> names_ ABSL_GUARDED_BY(mu_);
};

// Learns the names (so that health answers for each by name as well as for
// "", grpc.health.v1's convention), as early as the initializer has them.
class ServiceNamesPlugin final : public grpc::ServerBuilderPlugin {
 public:
  explicit ServiceNamesPlugin(std::shared_ptr<ServiceNames> names) : names_(std::move(names)) {}
  std::string name() override { return "podium_service_names"; }
  void InitServer(grpc::ServerInitializer* initializer) override { Learn(initializer); }
  void Finish(grpc::ServerInitializer* initializer) override { Learn(initializer); }
  void ChangeArguments(const std::string&, void*) override {}

 private:
  void Learn(grpc::ServerInitializer* initializer) {
    if (const std::vector<std::string>* names = initializer->GetServiceList()) names_->Set(*names);
  }
  const std::shared_ptr<ServiceNames> names_;
};

class ServiceNamesOption final : public grpc::ServerBuilderOption {
 public:
  explicit ServiceNamesOption(std::shared_ptr<ServiceNames> names) : names_(std::move(names)) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceNamesPlugin>(names_));
  }

 private:
  const std::shared_ptr<ServiceNames> names_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(
    const std::string& address, const std::vector<grpc::Service*>& services,
    int* bound_port, const std::function<void(grpc::ServerBuilder*)>& configure,
    bool require_client_certificate) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // gRPC's health service is built on its own small protobuf runtime; this
  // links the descriptor of grpc.health.v1 into the binary, so that
  // reflection, which lists the service, can also describe it.
  grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::ServerBuilder builder;
  auto service_names = std::make_shared<ServiceNames>();
  builder.SetOption(std::make_unique<ServiceNamesOption>(service_names));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(NewCallConventionsInterceptorFactory(
      [service_names](absl::string_view service) { return service_names->Contains(service); }));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentials(require_client_certificate);
  if (!credentials.ok()) return credentials.status();
  int port = 0;
  builder.AddListeningPort(address, *credentials, &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  // Clients ping idle streams to notice a dead server quickly; allow it.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a
  // port already served and take half its connections: a second backend on
  // another database would answer every other read. Binding must fail.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (configure) configure(&builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on '", address,
        "': the port is already in use (is another Podium server running "
        "there? './scripts/run status' lists the local cluster) or the "
        "address is malformed (expected HOST:PORT)"));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  for (const std::string& name : service_names->Get()) {
    server->GetHealthCheckService()->SetServingStatus(name, true);
  }
  if (bound_port != nullptr) *bound_port = port;
  return server;
}

void ShutdownServer(grpc::Server* server, absl::Duration grace) {
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
}

}  // namespace podium
