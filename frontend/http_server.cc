#include "frontend/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "frontend/blocking_calls.h"
#include "frontend/http_connection.h"
#include "glog/logging.h"

namespace podium {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

}  // namespace

class HttpServer::Impl : public HttpConnectionHost {
 public:
  Impl(Frontend* frontend, WebApi* api, HttpServerOptions options)
      : frontend_(frontend),
        api_(api),
        options_(std::move(options)),
        workers_(std::make_unique<BlockingCalls>(options_.worker_threads)) {}

  ~Impl() override {
    if (!threads_.empty()) Stop();
  }

  absl::Status Start(int* port);
  void Stop();
  int connections() const { return connections_.load(std::memory_order_relaxed); }
  void RunFanOut(std::function<void()> task) { net::post(fanout_, std::move(task)); }

  // HttpConnectionHost.
  const HttpServerOptions& options() const override { return options_; }
  Frontend& frontend() override { return *frontend_; }
  WebApi& api() override { return *api_; }
  bool stopping() const override { return stopping_.load(); }
  bool RunOnWorker(std::function<void()> call) override { return workers_->Run(std::move(call)); }
  void Register(HttpConnection* connection, std::weak_ptr<HttpConnection> weak) override;
  void Unregister(HttpConnection* connection) override;
  // Hands the write to the event loop, which is woken once per batch of
  // them, not once per stream. Even on the loop's own thread the write
  // waits for Deliver, as Redis writes its replies before it sleeps: the
  // fan-out of the changes queued meanwhile runs first, and their updates
  // join this stream's next write (Subscription batches what waits while a
  // write is under way) instead of a system call each.
  void StartWrite(const std::weak_ptr<HttpConnection>& connection, StreamBytes bytes,
                  int64_t updates, int64_t conflated) override;

 private:
  void Accept();
  // On the event loop: starts every write handed over so far.
  void Deliver();

  Frontend* const frontend_;
  WebApi* const api_;
  const HttpServerOptions options_;
  // Before io_: handlers io_ still holds when it is destroyed end their
  // connections, which unregister here.
  absl::Mutex mu_;
  absl::flat_hash_map<HttpConnection*, std::weak_ptr<HttpConnection>> open_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> connections_{0};
  // Before the workers: their calls post back to it.
  net::io_context io_;
  // Fan-out tasks run in order, whatever the number of threads.
  net::strand<net::io_context::executor_type> fanout_{io_.get_executor()};
  tcp::acceptor acceptor_{io_};
  net::steady_timer accept_retry_{io_};
  std::unique_ptr<BlockingCalls> workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  // Writes handed over and not yet started.
  absl::Mutex outbox_mu_;
  std::vector<std::pair<std::weak_ptr<HttpConnection>, StreamBytes>> outbox_
      ABSL_GUARDED_BY(outbox_mu_);
  int64_t outbox_updates_ ABSL_GUARDED_BY(outbox_mu_) = 0;
  int64_t outbox_conflated_ ABSL_GUARDED_BY(outbox_mu_) = 0;
};

void HttpServer::Impl::Register(HttpConnection* connection, std::weak_ptr<HttpConnection> weak) {
  connections_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  open_[connection] = std::move(weak);
}

void HttpServer::Impl::Unregister(HttpConnection* connection) {
  absl::MutexLock lock(&mu_);
  if (open_.erase(connection)) connections_.fetch_sub(1, std::memory_order_relaxed);
}

void HttpServer::Impl::StartWrite(const std::weak_ptr<HttpConnection>& connection,
                                  StreamBytes bytes, int64_t updates, int64_t conflated) {
  bool first;
  {
    absl::MutexLock lock(&outbox_mu_);
    first = outbox_.empty();
    outbox_.emplace_back(connection, std::move(bytes));
    outbox_updates_ += updates;
    outbox_conflated_ += conflated;
  }
  if (first) net::post(io_, [this] { Deliver(); });
}

void HttpServer::Impl::Deliver() {
  std::vector<std::pair<std::weak_ptr<HttpConnection>, StreamBytes>> writes;
  int64_t updates, conflated;
  {
    absl::MutexLock lock(&outbox_mu_);
    writes.swap(outbox_);
    updates = std::exchange(outbox_updates_, 0);
    conflated = std::exchange(outbox_conflated_, 0);
  }
  api_->metrics().Delivered(updates, conflated);
  const bool one_thread = options_.threads <= 1;
  for (auto& [weak, bytes] : writes) {
    std::shared_ptr<HttpConnection> connection = weak.lock();
    if (connection == nullptr) continue;
    if (one_thread) {
      connection->SendStream(std::move(bytes));
    } else {
      net::post(connection->executor(), [connection, bytes = std::move(bytes)]() mutable {
        connection->SendStream(std::move(bytes));
      });
    }
  }
}

absl::Status HttpServer::Impl::Start(int* port) {
  const size_t colon = options_.listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen must be host:port, not '", options_.listen, "'"));
  }
  const std::string host = options_.listen.substr(0, colon);
  const std::string service = options_.listen.substr(colon + 1);
  beast::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(host, service, tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve --http_listen=", options_.listen, ": ", ec.message()));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot serve HTTP on ", options_.listen, ": ",
                                               ec.message(),
                                               " (is another process on that port?)"));
  }
  if (port != nullptr) *port = acceptor_.local_endpoint().port();
  Accept();
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { io_.run(); });
  return absl::OkStatus();
}

void HttpServer::Impl::Accept() {
  // One thread runs every handler in order: a strand would only add a
  // queue and a lock to each hand-off. With more, each connection gets one.
  auto executor = options_.threads > 1 ? net::any_io_executor(net::make_strand(io_))
                                       : net::any_io_executor(io_.get_executor());
  acceptor_.async_accept(executor, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors, most likely: try again shortly rather than spin.
      LOG(WARNING) << "HTTP accept on " << options_.listen << " failed: " << ec.message();
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](beast::error_code wait) {
        if (!wait) Accept();
      });
      return;
    }
    beast::error_code ignored;
    const tcp::endpoint remote = socket.remote_endpoint(ignored);
    const bool overloaded = static_cast<size_t>(connections()) >= options_.max_connections;
    auto connection = std::make_shared<HttpConnection>(this, std::move(socket), remote);
    net::post(connection->executor(), [connection, overloaded] { connection->Begin(overloaded); });
    Accept();
  });
}

void HttpServer::Impl::Stop() {
  api_->SetDraining();
  stopping_.store(true);
  net::post(io_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  std::vector<std::shared_ptr<HttpConnection>> open;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [connection, weak] : open_) {
      if (std::shared_ptr<HttpConnection> alive = weak.lock()) open.push_back(std::move(alive));
    }
  }
  for (std::shared_ptr<HttpConnection>& connection : open) {
    net::post(connection->executor(), [connection] { connection->Close(); });
  }
  open.clear();
  // The loop runs out of work once every connection has closed; reads in
  // flight on the workers then finish, their replies dropped.
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  workers_.reset();
}

HttpServer::HttpServer(Frontend* frontend, WebApi* api, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(frontend, api, std::move(options))) {}

HttpServer::~HttpServer() = default;

absl::Status HttpServer::Start(int* port) { return impl_->Start(port); }
void HttpServer::Stop() { impl_->Stop(); }
int HttpServer::connections() const { return impl_->connections(); }
void HttpServer::RunFanOut(std::function<void()> task) { impl_->RunFanOut(std::move(task)); }

}  // namespace podium
