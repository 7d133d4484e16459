#include "frontend/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "frontend/blocking_calls.h"
#include "frontend/sse_events.h"
#include "glog/logging.h"

namespace podium {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

// What one write to a stream sends: a change's event that every stream
// sending it alone shares (EncodedChange::sse_event), or bytes of this
// stream's own (a batch, the header, a heartbeat).
struct StreamBytes {
  EncodedChangePtr shared;
  std::string own;
  // Whether it is a subscription's write, whose completion it must hear.
  bool from_subscription = false;
  // How much of it the socket has taken.
  size_t written = 0;

  absl::string_view all() const {
    return shared != nullptr ? absl::string_view(shared->sse_event()) : absl::string_view(own);
  }
  absl::string_view rest() const { return all().substr(written); }
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(Frontend* frontend, WebApi* api, HttpServerOptions options)
      : frontend_(frontend),
        api_(api),
        options_(std::move(options)),
        workers_(std::make_unique<BlockingCalls>(options_.worker_threads)) {}

  ~Impl() {
    if (!threads_.empty()) Stop();
  }

  absl::Status Start(int* port);
  void Stop();
  int connections() const { return connections_.load(std::memory_order_relaxed); }
  void RunFanOut(std::function<void()> task) { net::post(fanout_, std::move(task)); }

 private:
  friend class Session;
  class Session;

  void Accept();
  void Register(Session* session, std::weak_ptr<Session> weak);
  void Unregister(Session* session);
  // Hands a subscription's write to the event loop, which is woken once
  // per batch of them, not once per stream.
  void StartWrite(const std::weak_ptr<Session>& session, StreamBytes bytes, int64_t updates,
                  int64_t conflated);
  // On the event loop: starts every write handed over so far.
  void Deliver();

  Frontend* const frontend_;
  WebApi* const api_;
  const HttpServerOptions options_;
  // Before io_: handlers io_ still holds when it is destroyed end their
  // sessions, which unregister here.
  absl::Mutex mu_;
  absl::flat_hash_map<Session*, std::weak_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
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
  std::vector<std::pair<std::weak_ptr<Session>, StreamBytes>> outbox_ ABSL_GUARDED_BY(outbox_mu_);
  int64_t outbox_updates_ ABSL_GUARDED_BY(outbox_mu_) = 0;
  int64_t outbox_conflated_ ABSL_GUARDED_BY(outbox_mu_) = 0;
};

// One connection. Everything but the constructor runs on its strand (the
// socket's executor), so its state needs no lock.
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl* server, tcp::socket socket, tcp::endpoint peer)
      : server_(server),
        socket_(std::move(socket)),
        peer_(std::move(peer)),
        read_timer_(socket_.get_executor()),
        write_timer_(socket_.get_executor()),
        heartbeat_timer_(socket_.get_executor()),
        client_(absl::StrCat("http:", peer_.address().to_string(), ":", peer_.port())) {}

  ~Session() {
    EndStream();
    server_->Unregister(this);
  }

  void Begin(bool overloaded) {
    server_->Register(this, weak_from_this());
    if (server_->stopping_.load()) return Close();
    if (overloaded) {
      WebReply reply = ErrorReply(
          absl::UnavailableError("this frontend holds as many connections as it may; try another"));
      server_->api_->metrics().CountRequest("overloaded", reply.status);
      Send(std::move(reply), /*keep_alive=*/false, /*head=*/false);
      return;
    }
    ReadRequest();
  }

  // Ends the connection (and its stream, if any); safe to call twice.
  void Close() {
    if (closed_) return;
    closed_ = true;
    read_timer_.cancel();
    write_timer_.cancel();
    heartbeat_timer_.cancel();
    EndStream();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  net::any_io_executor executor() { return socket_.get_executor(); }

 private:
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options_.max_header_bytes));
    parser_->body_limit(server_->options_.max_body_bytes);
    // The whole request must arrive within the timeout of the read's start
    // (slowloris); a keep-alive connection idle that long closes too.
    read_timer_.expires_after(Chrono(server_->options_.request_timeout));
    read_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec == net::error::operation_aborted || self->closed_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket_.cancel(ignored);
    });
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->read_timer_.cancel();
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      const bool partial = parser_->got_some() || buffer_.size() > 0;
      if (timed_out_ && partial) {
        return Refuse(408, "the request did not arrive in time; send it whole");
      }
      if (ec == http::error::header_limit) {
        return Refuse(431, absl::StrCat("the request's header is larger than ",
                                        server_->options_.max_header_bytes, " bytes"));
      }
      if (ec == http::error::body_limit) {
        return Refuse(413, absl::StrCat("the request's body is larger than ",
                                        server_->options_.max_body_bytes, " bytes"));
      }
      if (timed_out_ || ec == http::error::end_of_stream || ec == net::error::eof ||
          ec == net::error::connection_reset || ec == net::error::operation_aborted) {
        return Close();  // idle, or gone: nobody to answer
      }
      VLOG(1) << "HTTP: malformed request from " << client_ << ": " << ec.message();
      return Refuse(400, "this is not an HTTP/1.1 request Podium can read: " + ec.message());
    }
    const http::request<http::string_body>& message = parser_->get();
    WebRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.last_event_id = std::string(message["Last-Event-ID"]);
    request.client = ClientOf(std::string(message["X-Forwarded-For"]));
    request.body = message.body();
    request.content_type = std::string(message[http::field::content_type]);
    request.authorization = std::string(message[http::field::authorization]);
    const bool keep_alive = message.keep_alive();
    const bool head = message.method() == http::verb::head;
    VLOG(2) << "HTTP " << request.method << " " << request.target << " from " << client_;
    if (IsStreamRequest(request)) return OpenStream(request);
    if (std::optional<WebReply> reply = server_->api_->AnswerAtOnce(request)) {
      return Send(*std::move(reply), keep_alive, head);
    }
    // A miss: answered on a worker, then written from this strand.
    const bool queued = server_->workers_->Run(
        [self = shared_from_this(), request = std::move(request), keep_alive, head] {
          WebReply reply = self->server_->api_->Answer(request);
          net::post(self->executor(), [self, reply = std::move(reply), keep_alive, head]() mutable {
            self->Send(std::move(reply), keep_alive, head);
          });
        });
    if (!queued) {
      WebReply reply = ErrorReply(absl::UnavailableError(
          "too many reads are waiting on the backend (is it slow?); try again shortly"));
      reply.headers.emplace_back("Retry-After", "1");
      server_->api_->metrics().CountRequest("busy", reply.status);
      Send(std::move(reply), keep_alive, head);
    }
  }

  // Who asks: the connection's peer, or, when the peer is on this machine
  // (HAProxy in front, as ./scripts/run sets it up), the address it says
  // it forwards for: the last one of X-Forwarded-For, which it appended.
  // Rate limits on posts go by this address.
  std::string ClientOf(absl::string_view forwarded_for) const {
    if (forwarded_for.empty() || !peer_.address().is_loopback()) return client_;
    absl::string_view last = forwarded_for.substr(forwarded_for.rfind(',') + 1);
    last = absl::StripAsciiWhitespace(last);
    if (last.empty() || last.size() > 64) return client_;
    return absl::StrCat("http:", last, ":0");
  }

  // Answers `status` with `why` and closes: the request cannot be trusted
  // as far as the next one.
  void Refuse(int status, const std::string& why) {
    WebReply reply = ErrorReply(absl::InvalidArgumentError(why));
    reply.status = status;
    server_->api_->metrics().CountRequest("refused", status);
    Send(std::move(reply), /*keep_alive=*/false, /*head=*/false);
  }

  void Send(WebReply reply, bool keep_alive, bool head) {
    if (closed_) return;
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), 11);
    response->set(http::field::server, "podium-frontend");
    response->set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response->set(name, value);
    response->keep_alive(keep_alive);
    const size_t length = reply.body.size();
    if (!head) response->body() = std::move(reply.body);
    response->content_length(length);
    StartWriteTimer();
    http::async_write(
        socket_, *response,
        [self = shared_from_this(), response, keep_alive](beast::error_code ec, size_t) {
          self->write_timer_.cancel();
          if (ec || !keep_alive) return self->Close();
          self->ReadRequest();
        });
  }

  // A write that waits this long has a reader that stopped reading.
  void StartWriteTimer() {
    write_timer_.expires_after(Chrono(server_->options_.write_timeout));
    write_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec == net::error::operation_aborted) return;
      VLOG(1) << "HTTP: " << self->client_ << " stopped reading; closing";
      self->Close();
    });
  }

  void OpenStream(const WebRequest& request) {
    absl::StatusOr<StreamRequest> parsed = ParseStreamRequest(request);
    if (!parsed.ok()) {
      WebReply reply = ErrorReply(parsed.status());
      server_->api_->metrics().CountRequest("/api/stream", reply.status);
      return Send(std::move(reply), /*keep_alive=*/false, /*head=*/false);
    }
    WebMetrics* metrics = &server_->api_->metrics();
    // The subscription writes through a weak reference: it may outlive
    // the session by one write started while the session ends.
    auto start_write = [server = server_,
                        weak = weak_from_this()](absl::Span<const OutgoingUpdate> updates) {
      StreamBytes bytes;
      bytes.from_subscription = true;
      int64_t conflated = 0;
      for (const OutgoingUpdate& update : updates) conflated += update.conflated;
      if (updates.size() == 1 && !updates[0].snapshot && !updates[0].conflated) {
        bytes.shared = updates[0].change;  // the common case: bytes made once
      } else {
        bytes.own = SseEvents(updates);
      }
      server->StartWrite(weak, std::move(bytes), static_cast<int64_t>(updates.size()), conflated);
    };
    absl::StatusOr<std::shared_ptr<Subscription>> subscription =
        server_->frontend_->NewSubscription(parsed->subscribe, client_, start_write,
                                            server_->options_.fanout_shard);
    if (!subscription.ok()) {
      WebReply reply = ErrorReply(subscription.status());
      metrics->CountRequest("/api/stream", reply.status);
      return Send(std::move(reply), /*keep_alive=*/false, /*head=*/false);
    }
    metrics->CountRequest("/api/stream", 200);
    metrics->StreamOpened();
    subscription_ = *std::move(subscription);
    // Stream writes are tried at once (WriteNext) and wait only when the
    // socket's buffer is full. Each event leaves as soon as it is written:
    // Nagle would hold it behind the reader's delayed ACK of the last one.
    beast::error_code ec;
    socket_.non_blocking(true, ec);
    if (!ec) socket_.set_option(tcp::no_delay(true), ec);
    if (ec) return Close();
    // No length and no chunking: the stream's body runs until the
    // connection closes, which is how an event stream ends.
    Queue(
        absl::StrCat("HTTP/1.1 200 OK\r\nServer: podium-frontend\r\n"
                     "Content-Type: text/event-stream; charset=utf-8\r\n"
                     "Cache-Control: no-cache\r\nConnection: close\r\n"
                     "X-Accel-Buffering: no\r\n\r\n",
                     SseStart(server_->options_.retry)));
    VLOG(1) << "HTTP stream for " << client_ << " from seq " << parsed->after_seq;
    server_->frontend_->StartSubscription(subscription_, parsed->after_seq);
    WatchForClose();
    Heartbeat();
  }

  // Bytes of the stream's own (the header, a heartbeat).
  void Queue(std::string bytes) {
    StreamBytes own;
    own.own = std::move(bytes);
    SendStream(std::move(own));
  }

 public:
  // A stream write; on the event loop.
  void SendStream(StreamBytes bytes) {
    if (closed_) return;
    if (!writing_ && out_.empty()) {
      // As Redis does: write at once, and queue only what the socket's
      // buffer would not take. Most writes leave whole here, with no
      // handler, timer or queue entry.
      if (!TryWrite(&bytes)) return;
      if (bytes.rest().empty()) return Written(bytes);
    }
    out_.push_back(std::move(bytes));
    WriteNext();
  }

 private:
  // Writes what the socket takes without waiting; false if it failed
  // (the session is then closed).
  bool TryWrite(StreamBytes* bytes) {
    const absl::string_view rest = bytes->rest();
    beast::error_code ec;
    const size_t n = socket_.write_some(net::buffer(rest.data(), rest.size()), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) return true;
    if (ec) {
      Close();
      return false;
    }
    bytes->written += n;
    return true;
  }

  void Written(const StreamBytes& bytes) {
    if (bytes.from_subscription && subscription_ != nullptr) subscription_->WriteDone();
  }

  void WriteNext() {
    while (!writing_ && !out_.empty() && !closed_) {
      StreamBytes& front = out_.front();
      if (!TryWrite(&front)) return;
      if (!front.rest().empty()) {
        // The reader is behind: wait for the socket, as long as
        // write_timeout.
        writing_ = true;
        StartWriteTimer();
        const absl::string_view rest = front.rest();
        net::async_write(socket_, net::buffer(rest.data(), rest.size()),
                         [self = shared_from_this()](beast::error_code ec, size_t n) {
                           self->write_timer_.cancel();
                           self->writing_ = false;
                           if (ec || self->closed_) return self->Close();
                           self->out_.front().written += n;
                           self->WriteNext();
                         });
        return;
      }
      const StreamBytes done = std::move(front);
      out_.pop_front();
      Written(done);
    }
  }

  // A stream's reader sends nothing more; a read ends only when it leaves.
  void WatchForClose() {
    socket_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->WatchForClose();
                            });
  }

  void Heartbeat() {
    heartbeat_timer_.expires_after(Chrono(server_->options_.heartbeat));
    heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (!self->writing_ && self->out_.empty()) self->Queue(kSseHeartbeat);
      self->Heartbeat();
    });
  }

  void EndStream() {
    if (subscription_ == nullptr) return;
    server_->frontend_->EndSubscription(subscription_.get());
    subscription_->Close();
    subscription_.reset();
    server_->api_->metrics().StreamClosed();
  }

  Impl* const server_;
  tcp::socket socket_;
  const tcp::endpoint peer_;
  net::steady_timer read_timer_;
  net::steady_timer write_timer_;
  net::steady_timer heartbeat_timer_;
  const std::string client_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool timed_out_ = false;
  bool closed_ = false;
  // A stream's state.
  std::shared_ptr<Subscription> subscription_;
  // What waits to be written, oldest first.
  std::deque<StreamBytes> out_;
  bool writing_ = false;
  std::array<char, 256> discard_;
};

void HttpServer::Impl::Register(Session* session, std::weak_ptr<Session> weak) {
  connections_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  sessions_[session] = std::move(weak);
}

void HttpServer::Impl::Unregister(Session* session) {
  absl::MutexLock lock(&mu_);
  if (sessions_.erase(session)) connections_.fetch_sub(1, std::memory_order_relaxed);
}

void HttpServer::Impl::StartWrite(const std::weak_ptr<Session>& session, StreamBytes bytes,
                                  int64_t updates, int64_t conflated) {
  // Even on the loop's own thread the write waits for Deliver, as Redis
  // writes its replies before it sleeps: the fan-out of the changes queued
  // meanwhile runs first, and their updates join this stream's next write
  // (Subscription batches what waits while a write is under way) instead
  // of a system call each.
  bool first;
  {
    absl::MutexLock lock(&outbox_mu_);
    first = outbox_.empty();
    outbox_.emplace_back(session, std::move(bytes));
    outbox_updates_ += updates;
    outbox_conflated_ += conflated;
  }
  if (first) net::post(io_, [this] { Deliver(); });
}

void HttpServer::Impl::Deliver() {
  std::vector<std::pair<std::weak_ptr<Session>, StreamBytes>> writes;
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
    std::shared_ptr<Session> session = weak.lock();
    if (session == nullptr) continue;
    if (one_thread) {
      session->SendStream(std::move(bytes));
    } else {
      net::post(session->executor(), [session, bytes = std::move(bytes)]() mutable {
        session->SendStream(std::move(bytes));
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
    auto session = std::make_shared<Session>(this, std::move(socket), remote);
    net::post(session->executor(), [session, overloaded] { session->Begin(overloaded); });
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
  std::vector<std::shared_ptr<Session>> open;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [session, weak] : sessions_) {
      if (std::shared_ptr<Session> alive = weak.lock()) open.push_back(std::move(alive));
    }
  }
  for (std::shared_ptr<Session>& session : open) {
    net::post(session->executor(), [session] { session->Close(); });
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
