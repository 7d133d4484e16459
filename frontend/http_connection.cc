#include "frontend/http_connection.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

HttpConnection::HttpConnection(HttpConnectionHost* host, tcp::socket socket, tcp::endpoint peer)
    : host_(host),
      socket_(std::move(socket)),
      peer_(std::move(peer)),
      read_timer_(socket_.get_executor()),
      write_timer_(socket_.get_executor()),
      heartbeat_timer_(socket_.get_executor()),
      client_(absl::StrCat("http:", peer_.address().to_string(), ":", peer_.port())) {}

HttpConnection::~HttpConnection() {
  EndStream();
  host_->Unregister(this);
}

void HttpConnection::Begin(bool overloaded) {
  host_->Register(this, weak_from_this());
  if (host_->stopping()) return Close();
  if (overloaded) {
    WebReply reply = ErrorReply(
        absl::UnavailableError("this frontend holds as many connections as it may; try another"));
    host_->api().metrics().CountRequest("overloaded", reply.status);
    Send(std::move(reply), /*keep_alive=*/false, /*head=*/false);
    return;
  }
  ReadRequest();
}

void HttpConnection::Close() {
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

void HttpConnection::ReadRequest() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(host_->options().max_header_bytes));
  parser_->body_limit(host_->options().max_body_bytes);
  // The whole request must arrive within the timeout of the read's start
  // (slowloris); a keep-alive connection idle that long closes too.
  read_timer_.expires_after(Chrono(host_->options().request_timeout));
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

void HttpConnection::OnRead(beast::error_code ec) {
  if (closed_) return;
  if (ec) {
    const bool partial = parser_->got_some() || buffer_.size() > 0;
    if (timed_out_ && partial) {
      return Refuse(408, "the request did not arrive in time; send it whole");
    }
    if (ec == http::error::header_limit) {
      return Refuse(431, absl::StrCat("the request's header is larger than ",
                                      host_->options().max_header_bytes, " bytes"));
    }
    if (ec == http::error::body_limit) {
      return Refuse(413, absl::StrCat("the request's body is larger than ",
                                      host_->options().max_body_bytes, " bytes"));
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
  if (std::optional<WebReply> reply = host_->api().AnswerAtOnce(request)) {
    return Send(*std::move(reply), keep_alive, head);
  }
  // A miss: answered on a worker, then written from this strand.
  const bool queued = host_->RunOnWorker(
      [self = shared_from_this(), request = std::move(request), keep_alive, head] {
        WebReply reply = self->host_->api().Answer(request);
        net::post(self->executor(), [self, reply = std::move(reply), keep_alive, head]() mutable {
          self->Send(std::move(reply), keep_alive, head);
        });
      });
  if (!queued) {
    WebReply reply = ErrorReply(absl::UnavailableError(
        "too many reads are waiting on the backend (is it slow?); try again shortly"));
    reply.headers.emplace_back("Retry-After", "1");
    host_->api().metrics().CountRequest("busy", reply.status);
    Send(std::move(reply), keep_alive, head);
  }
}

std::string HttpConnection::ClientOf(absl::string_view forwarded_for) const {
  if (forwarded_for.empty() || !peer_.address().is_loopback()) return client_;
  absl::string_view last = forwarded_for.substr(forwarded_for.rfind(',') + 1);
  last = absl::StripAsciiWhitespace(last);
  if (last.empty() || last.size() > 64) return client_;
  return absl::StrCat("http:", last, ":0");
}

void HttpConnection::Refuse(int status, const std::string& why) {
  WebReply reply = ErrorReply(absl::InvalidArgumentError(why));
  reply.status = status;
  host_->api().metrics().CountRequest("refused", status);
  Send(std::move(reply), /*keep_alive=*/false, /*head=*/false);
}

void HttpConnection::Send(WebReply reply, bool keep_alive, bool head) {
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

void HttpConnection::StartWriteTimer() {
  write_timer_.expires_after(Chrono(host_->options().write_timeout));
  write_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec == net::error::operation_aborted) return;
    VLOG(1) << "HTTP: " << self->client_ << " stopped reading; closing";
    self->Close();
  });
}

void HttpConnection::OpenStream(const WebRequest& request) {
  absl::StatusOr<StreamRequest> parsed = ParseStreamRequest(request);
  if (!parsed.ok()) {
    WebReply reply = ErrorReply(parsed.status());
    host_->api().metrics().CountRequest("/api/stream", reply.status);
    return Send(std::move(reply), /*keep_alive=*/false, /*head=*/false);
  }
  WebMetrics* metrics = &host_->api().metrics();
  // The subscription writes through a weak reference: it may outlive
  // the connection by one write started while the connection ends.
  auto start_write = [host = host_,
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
    host->StartWrite(weak, std::move(bytes), static_cast<int64_t>(updates.size()), conflated);
  };
  absl::StatusOr<std::shared_ptr<Subscription>> subscription = host_->frontend().NewSubscription(
      parsed->subscribe, client_, start_write, host_->options().fanout_shard);
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
                   SseStart(host_->options().retry)));
  VLOG(1) << "HTTP stream for " << client_ << " from seq " << parsed->after_seq;
  host_->frontend().StartSubscription(subscription_, parsed->after_seq);
  WatchForClose();
  Heartbeat();
}

void HttpConnection::Queue(std::string bytes) {
  StreamBytes own;
  own.own = std::move(bytes);
  SendStream(std::move(own));
}

void HttpConnection::SendStream(StreamBytes bytes) {
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

bool HttpConnection::TryWrite(StreamBytes* bytes) {
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

void HttpConnection::Written(const StreamBytes& bytes) {
  if (bytes.from_subscription && subscription_ != nullptr) subscription_->WriteDone();
}

void HttpConnection::WriteNext() {
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

void HttpConnection::WatchForClose() {
  socket_.async_read_some(net::buffer(discard_),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->Close();
                            self->WatchForClose();
                          });
}

void HttpConnection::Heartbeat() {
  heartbeat_timer_.expires_after(Chrono(host_->options().heartbeat));
  heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_) return;
    if (!self->writing_ && self->out_.empty()) self->Queue(kSseHeartbeat);
    self->Heartbeat();
  });
}

void HttpConnection::EndStream() {
  if (subscription_ == nullptr) return;
  host_->frontend().EndSubscription(subscription_.get());
  subscription_->Close();
  subscription_.reset();
  host_->api().metrics().StreamClosed();
}

}  // namespace podium
