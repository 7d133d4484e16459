// A backend inside the test process: a SqliteStore in a directory behind a
// BackendService on a loopback port. It can stop serving and serve again
// on the same port, with the store intact, to test how clients ride out a
// backend that goes away and comes back.
#ifndef PODIUM_TESTS_TESTING_IN_PROCESS_BACKEND_H_
#define PODIUM_TESTS_TESTING_IN_PROCESS_BACKEND_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backend/backend_service.h"
#include "backend/sqlite_store.h"

namespace podium::test {

// Not thread-safe: drive it from the test's thread (or one at a time).
class InProcessBackend {
 public:
  // Opens (creates) `dir`/podium.db with the built-in games; writes need
  // `token`.
  static absl::StatusOr<std::unique_ptr<InProcessBackend>> Open(const std::string& dir,
                                                                const std::string& token);
  ~InProcessBackend();

  // Serves on 127.0.0.1:`port` (0 picks a free one); the address served.
  absl::StatusOr<std::string> Serve(int port = 0);
  // Stops serving: calls in flight get up to `grace`, then are cancelled.
  void Stop(absl::Duration grace = absl::ZeroDuration());

  SqliteStore* store() { return store_.get(); }
  // The port last served on (0 before the first Serve).
  int port() const { return port_; }

 private:
  InProcessBackend(std::unique_ptr<SqliteStore> store, const std::string& token);

  std::unique_ptr<SqliteStore> store_;
  BackendService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace podium::test

#endif  // PODIUM_TESTS_TESTING_IN_PROCESS_BACKEND_H_
