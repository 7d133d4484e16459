// A plain HTTP/1.1 client over POSIX sockets, for tests of the frontends'
// HTTP plane: whole requests, raw bytes (malformed or slow requests), and
// Server-Sent Events streams read event by event.
#ifndef PODIUM_HARNESS_HTTP_CLIENT_H_
#define PODIUM_HARNESS_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace podium::harness {

struct HttpResponse {
  int status = 0;
  std::string head;  // the status line and the headers
  std::string body;
  // A header's value ("" when absent); `name` is matched ignoring case.
  std::string Header(const std::string& name) const;
};

// A connected socket to `address` (host:port), closed on destruction.
class HttpClient {
 public:
  static absl::StatusOr<std::unique_ptr<HttpClient>> Open(const std::string& address);
  ~HttpClient();

  absl::Status Send(const std::string& bytes);
  // Reads what arrives until the peer closes or `timeout` passes; an error
  // only when nothing arrived and the socket failed.
  std::string ReadUntilClosed(absl::Duration timeout);
  // Reads until `buffer` holds `delimiter`; DEADLINE_EXCEEDED after
  // `timeout`, UNAVAILABLE when the peer closes first.
  absl::Status ReadUntil(const std::string& delimiter, absl::Duration timeout);
  std::string& buffer() { return buffer_; }
  // Whether the peer has closed (a read returns end of file) within `timeout`.
  bool ClosedWithin(absl::Duration timeout);

 private:
  explicit HttpClient(int fd) : fd_(fd) {}
  // One read into buffer_: bytes read, 0 at end of file, -1 on timeout or error.
  int ReadSome(absl::Time deadline);
  int fd_;
  std::string buffer_;
};

// GET `target` on a fresh connection (Connection: close), with `headers`
// ("Name: value" each).
absl::StatusOr<HttpResponse> HttpGet(const std::string& address, const std::string& target,
                                     const std::vector<std::string>& headers = {},
                                     absl::Duration timeout = absl::Seconds(10));
// Any method, with a body (Content-Length set when `body` is not empty).
absl::StatusOr<HttpResponse> HttpSend(const std::string& address, const std::string& method,
                                      const std::string& target,
                                      const std::vector<std::string>& headers = {},
                                      const std::string& body = "",
                                      absl::Duration timeout = absl::Seconds(10));
// Parses a whole response; INVALID_ARGUMENT if `bytes` is not one.
absl::StatusOr<HttpResponse> ParseHttpResponse(const std::string& bytes);

// One Server-Sent Events stream.
class SseStream {
 public:
  struct Event {
    bool has_id = false;
    std::string id;
    std::string event;
    std::string data;
  };
  // Opens GET `target`, with Last-Event-ID when `last_event_id` is not
  // empty, and reads the response's head: an error unless it is 200
  // text/event-stream (with the body in the message).
  static absl::StatusOr<std::unique_ptr<SseStream>> Open(const std::string& address,
                                                         const std::string& target,
                                                         const std::string& last_event_id = "");
  // The next event (comments and retry: lines skipped).
  absl::StatusOr<Event> Next(absl::Duration timeout);
  // Comment lines seen so far (heartbeats).
  int comments() const { return comments_; }

 private:
  explicit SseStream(std::unique_ptr<HttpClient> connection) : connection_(std::move(connection)) {}
  std::unique_ptr<HttpClient> connection_;
  int comments_ = 0;
};

}  // namespace podium::harness

#endif  // PODIUM_HARNESS_HTTP_CLIENT_H_
