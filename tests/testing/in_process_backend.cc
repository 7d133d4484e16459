#include "tests/testing/in_process_backend.h"

#include "absl/strings/str_cat.h"
#include "backend/games.h"
#include "common/server.h"

namespace podium::test {

absl::StatusOr<std::unique_ptr<InProcessBackend>> InProcessBackend::Open(
    const std::string& dir, const std::string& token) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(dir + "/podium.db", Games::Default());
  if (!store.ok()) return store.status();
  return std::unique_ptr<InProcessBackend>(new InProcessBackend(*std::move(store), token));
}

InProcessBackend::InProcessBackend(std::unique_ptr<SqliteStore> store,
                                   const std::string& token)
    : store_(std::move(store)), service_(store_.get(), token) {}

InProcessBackend::~InProcessBackend() { Stop(); }

absl::StatusOr<std::string> InProcessBackend::Serve(int port) {
  Stop();
  int bound = 0;
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      StartServer(absl::StrCat("127.0.0.1:", port), {&service_}, &bound);
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  port_ = bound;
  return absl::StrCat("127.0.0.1:", bound);
}

void InProcessBackend::Stop(absl::Duration grace) {
  if (server_ == nullptr) return;
  ShutdownServer(server_.get(), grace);
  server_->Wait();
  server_.reset();
}

}  // namespace podium::test
