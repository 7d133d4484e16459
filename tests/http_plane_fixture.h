// Real frontends with their HTTP plane, for the HTTP end-to-end tests
// (http_plane_test, fan_board_http_test): a backend and two push-mode
// frontends with --http_listen on free ports, started before each test and
// SIGKILLed and reaped after it (harness/cluster.h).
#ifndef PODIUM_TESTS_HTTP_PLANE_FIXTURE_H_
#define PODIUM_TESTS_HTTP_PLANE_FIXTURE_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/http_client.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"
#include "tests/client_testing.h"

namespace podium::test {

// JSON in protobuf's mapping, read back into the message gRPC clients get.
template <typename T>
inline T FromJson(const std::string& json) {
  T message;
  auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << json;
  return message;
}

class HttpPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < frontends_.size(); ++i) {
      http_.push_back(absl::StrCat("127.0.0.1:", harness::PickFreePort()));
      frontends_.AddFlags(i, {"--http_listen=" + http_.back(), "--http_request_timeout=1s"});
    }
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    ASSERT_EQ(frontends_.StartAll(), absl::OkStatus());
    ASSERT_TRUE(
        frontends_.WaitForMaster(frontends_.address(frontends_.HighestPid()), absl::Seconds(15))
            .ok());
  }

  // The next update event of `stream`, parsed.
  static v1::SubscribeUpdate NextUpdate(harness::SseStream* stream, std::string* id = nullptr) {
    absl::StatusOr<harness::SseStream::Event> event = stream->Next(absl::Seconds(10));
    EXPECT_TRUE(event.ok()) << event.status();
    if (!event.ok()) return v1::SubscribeUpdate();
    EXPECT_EQ(event->event, "update");
    if (id != nullptr) *id = event->id;
    return FromJson<v1::SubscribeUpdate>(event->data);
  }

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  harness::FrontendCluster frontends_{dir_.path(), backend_.address(), 2, "push"};
  std::vector<std::string> http_;
  BackendWriter writer_{backend_.NewStub()};
};

// A fan's post through one frontend, as a browser sends it (through
// HAProxy, which says whom it forwards for).
inline absl::StatusOr<harness::HttpResponse> PostAs(const std::string& http,
                                                    const std::string& author,
                                                    const std::string& text,
                                                    const std::string& from = "",
                                                    const std::string& event = "javelin") {
  std::vector<std::string> headers = {"Content-Type: application/json"};
  if (!from.empty()) headers.push_back("X-Forwarded-For: " + from);
  return harness::HttpSend(http, "POST", "/api/events/" + event + "/posts", headers,
                           absl::StrCat("{\"author\":\"", author, "\",\"text\":\"", text, "\"}"));
}

}  // namespace podium::test

#endif  // PODIUM_TESTS_HTTP_PLANE_FIXTURE_H_
