#include "harness/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace podium::harness {

std::string HttpResponse::Header(const std::string& name) const {
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(line.substr(0, colon), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Open(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError("not host:port: " + address);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError("not an IPv4 address: " + address);
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to ", address, ": ", strerror(error)));
  }
  return std::unique_ptr<HttpClient>(new HttpClient(fd));
}

HttpClient::~HttpClient() { close(fd_); }

absl::Status HttpClient::Send(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

int HttpClient::ReadSome(absl::Time deadline) {
  for (;;) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left < 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready < 0 && errno != EINTR) return -1;
    if (ready <= 0) continue;
    char chunk[8192];
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return 0;  // reset: as good as closed
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return static_cast<int>(n);
  }
}

std::string HttpClient::ReadUntilClosed(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (ReadSome(deadline) > 0) {
  }
  return buffer_;
}

absl::Status HttpClient::ReadUntil(const std::string& delimiter, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!absl::StrContains(buffer_, delimiter)) {
    const int n = ReadSome(deadline);
    if (n == 0) return absl::UnavailableError("the server closed the connection");
    if (n < 0) {
      return absl::DeadlineExceededError(absl::StrCat("nothing ending in the delimiter within ",
                                                      absl::FormatDuration(timeout),
                                                      "; got: ", buffer_));
    }
  }
  return absl::OkStatus();
}

bool HttpClient::ClosedWithin(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const int n = ReadSome(deadline);
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

absl::StatusOr<HttpResponse> ParseHttpResponse(const std::string& bytes) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos || !absl::StartsWith(bytes, "HTTP/1.1 ")) {
    return absl::InvalidArgumentError("not an HTTP response: '" + bytes + "'");
  }
  HttpResponse response;
  response.head = bytes.substr(0, end);
  response.body = bytes.substr(end + 4);
  if (!absl::SimpleAtoi(bytes.substr(9, 3), &response.status)) {
    return absl::InvalidArgumentError("no status code in '" + response.head + "'");
  }
  return response;
}

absl::StatusOr<HttpResponse> HttpSend(const std::string& address, const std::string& method,
                                      const std::string& target,
                                      const std::vector<std::string>& headers,
                                      const std::string& body, absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<HttpClient>> connection = HttpClient::Open(address);
  if (!connection.ok()) return connection.status();
  std::string request = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: ", address,
                                     "\r\nConnection: close\r\n");
  for (const std::string& header : headers) absl::StrAppend(&request, header, "\r\n");
  if (!body.empty()) absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
  absl::StrAppend(&request, "\r\n", body);
  if (absl::Status sent = (*connection)->Send(request); !sent.ok()) return sent;
  return ParseHttpResponse((*connection)->ReadUntilClosed(timeout));
}

absl::StatusOr<HttpResponse> HttpGet(const std::string& address, const std::string& target,
                                     const std::vector<std::string>& headers,
                                     absl::Duration timeout) {
  return HttpSend(address, "GET", target, headers, "", timeout);
}

absl::StatusOr<std::unique_ptr<SseStream>> SseStream::Open(const std::string& address,
                                                           const std::string& target,
                                                           const std::string& last_event_id) {
  absl::StatusOr<std::unique_ptr<HttpClient>> connection = HttpClient::Open(address);
  if (!connection.ok()) return connection.status();
  std::string request = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: ", address,
                                     "\r\nAccept: text/event-stream\r\n");
  if (!last_event_id.empty()) absl::StrAppend(&request, "Last-Event-ID: ", last_event_id, "\r\n");
  request += "\r\n";
  if (absl::Status sent = (*connection)->Send(request); !sent.ok()) return sent;
  absl::Status head = (*connection)->ReadUntil("\r\n\r\n", absl::Seconds(10));
  if (!head.ok() && !absl::IsUnavailable(head)) return head;
  std::string& buffer = (*connection)->buffer();
  if (!absl::StartsWith(buffer, "HTTP/1.1 200") ||
      !absl::StrContains(buffer, "text/event-stream")) {
    (*connection)->ReadUntilClosed(absl::Seconds(2));
    return absl::FailedPreconditionError("not an event stream: " + buffer);
  }
  buffer.erase(0, buffer.find("\r\n\r\n") + 4);
  return std::unique_ptr<SseStream>(new SseStream(*std::move(connection)));
}

absl::StatusOr<SseStream::Event> SseStream::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    std::string& buffer = connection_->buffer();
    const size_t end = buffer.find("\n\n");
    if (end == std::string::npos) {
      absl::Status read = connection_->ReadUntil("\n\n", deadline - absl::Now());
      if (!read.ok()) return read;
      continue;
    }
    const std::string block = buffer.substr(0, end);
    buffer.erase(0, end + 2);
    Event event;
    bool any = false;
    for (absl::string_view line : absl::StrSplit(block, '\n')) {
      if (absl::ConsumePrefix(&line, ":")) {
        ++comments_;
        continue;
      }
      const size_t colon = line.find(':');
      absl::string_view field = line.substr(0, colon);
      absl::string_view value = colon == absl::string_view::npos ? "" : line.substr(colon + 1);
      absl::ConsumePrefix(&value, " ");
      if (field == "id") {
        event.has_id = true;
        event.id = std::string(value);
        any = true;
      } else if (field == "event") {
        event.event = std::string(value);
        any = true;
      } else if (field == "data") {
        if (!event.data.empty()) event.data += "\n";
        event.data += std::string(value);
        any = true;
      }
    }
    if (any) return event;
  }
}

}  // namespace podium::harness
