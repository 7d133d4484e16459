// WebApi's decisions and the Server-Sent Events format, without a server
// (the end to end is http_plane_test).
#include "frontend/web_api.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/percent_encoding.h"
#include "frontend/sse_events.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "harness/temp_dir.h"

namespace podium {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

WebRequest Get(const std::string& target, const std::string& last_event_id = "") {
  WebRequest request;
  request.method = "GET";
  request.target = target;
  request.last_event_id = last_event_id;
  request.client = "http:127.0.0.1:1";
  return request;
}

TEST(WebQueryTest, ParametersArePercentDecodedAndPathsStopAtTheQuery) {
  auto query = ParseQuery("/api/stream?events=menhir-put,boar%2Dhunt&teams=A+B&medals=1&&x");
  EXPECT_EQ(query["events"], "menhir-put,boar-hunt");
  EXPECT_EQ(query["teams"], "A B");
  EXPECT_EQ(query["medals"], "1");
  EXPECT_EQ(query["x"], "");
  EXPECT_EQ(TargetPath("/api/events/chariot%20race?x=1"), "/api/events/chariot race");
  EXPECT_EQ(TargetPath("/bad%2"), std::nullopt);
  EXPECT_EQ(TargetPath("/bad%zz"), std::nullopt);
}

TEST(WebQueryTest, PercentEncodingKeepsUnreservedBytesAndDecodesBackToTheSame) {
  EXPECT_EQ(PercentEncode("menhir-put_1.x~"), "menhir-put_1.x~");
  EXPECT_EQ(PercentEncode("a b/c&d=\xC3\xA9"), "a%20b%2Fc%26d%3D%C3%A9");
  for (const std::string& text :
       std::vector<std::string>{"", "Zoë's 100m", "%25 + &=?#/", std::string("\0\xff", 2)}) {
    EXPECT_EQ(PercentDecode(PercentEncode(text), /*plus_is_space=*/true), text) << text;
  }
}

TEST(WebStreamRequestTest, NamesStarsAndMedalsBecomeASubscribeRequest) {
  absl::StatusOr<StreamRequest> some = ParseStreamRequest(Get("/api/stream?events=a,b&teams=X"));
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_THAT(some->subscribe.events(), ElementsAre("a", "b"));
  EXPECT_THAT(some->subscribe.teams(), ElementsAre("X"));
  EXPECT_FALSE(some->subscribe.all_events());
  EXPECT_EQ(some->after_seq, 0);

  absl::StatusOr<StreamRequest> all = ParseStreamRequest(Get("/api/stream?events=*&medals=1"));
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->subscribe.all_events());
  EXPECT_TRUE(all->subscribe.all_teams());
  EXPECT_TRUE(all->subscribe.events().empty());
}

TEST(WebStreamRequestTest, LastEventIdWinsOverTheUrlsSeqAndBadSeqsAreRefused) {
  absl::StatusOr<StreamRequest> url = ParseStreamRequest(Get("/api/stream?medals=1&after_seq=7"));
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->after_seq, 7);
  // EventSource reconnects to the same URL and adds the last id it saw.
  absl::StatusOr<StreamRequest> resumed =
      ParseStreamRequest(Get("/api/stream?medals=1&after_seq=7", "42"));
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->after_seq, 42);

  for (const char* seq : {"-1", "x", "1.5"}) {
    absl::StatusOr<StreamRequest> bad = ParseStreamRequest(Get("/api/stream?medals=1", seq));
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << seq;
    EXPECT_THAT(bad.status().message(), HasSubstr("Last-Event-ID")) << seq;
  }
  absl::StatusOr<StreamRequest> none = ParseStreamRequest(Get("/api/stream?after_seq=3"));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("events="));
}

TEST(WebStreamRequestTest, OnlyAGetOfTheStreamPathIsAStream) {
  EXPECT_TRUE(IsStreamRequest(Get("/api/stream?medals=1")));
  EXPECT_FALSE(IsStreamRequest(Get("/api/streams")));
  WebRequest head = Get("/api/stream?medals=1");
  head.method = "HEAD";
  EXPECT_FALSE(IsStreamRequest(head));
}

TEST(WebErrorTest, AnErrorIsJsonWithItsMessageAndCodeUnderTheMatchingHttpStatus) {
  WebReply reply = ErrorReply(absl::NotFoundError("no \"such\" event"));
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body, "{\"error\":\"no \\\"such\\\" event\",\"code\":\"NOT_FOUND\"}\n");
  EXPECT_EQ(HttpStatus(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatus(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatus(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatus(absl::StatusCode::kPermissionDenied), 403);
}

EncodedChangePtr ScoreChange(int64_t seq) {
  v1::Change change;
  change.set_seq(seq);
  change.mutable_event()->set_event("javelin");
  change.mutable_event()->set_version(seq);
  change.mutable_event()->set_status(v1::LIVE);
  change.set_reason("line 1\nline 2");  // a newline must not split the data: line
  return EncodeChange(change);
}

TEST(SseEventsTest, EachUpdateIsAnEventWithItsSeqAsIdAndTheUpdateAsOneLineOfJson) {
  OutgoingUpdate live{ScoreChange(12)};
  OutgoingUpdate conflated{ScoreChange(13)};
  conflated.conflated = true;
  const std::string text = SseEvents({live, conflated});
  const std::vector<std::string> events = absl::StrSplit(text, "\n\n", absl::SkipEmpty());
  ASSERT_EQ(events.size(), 2u) << text;
  const std::vector<std::string> lines = absl::StrSplit(events[0], '\n');
  ASSERT_EQ(lines.size(), 3u) << events[0];
  EXPECT_EQ(lines[0], "id: 12");
  EXPECT_EQ(lines[1], "event: update");
  ASSERT_TRUE(absl::StartsWith(lines[2], "data: "));
  v1::SubscribeUpdate update;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[2].substr(6), &update).ok());
  EXPECT_EQ(update.change().seq(), 12);
  EXPECT_EQ(update.change().reason(), "line 1\nline 2");
  EXPECT_FALSE(update.conflated());
  EXPECT_THAT(events[1], HasSubstr("\"conflated\":true}"));
}

TEST(SseEventsTest, SnapshotValuesCarryNoIdSoAResumeNeverSkipsAKeyNotYetSent) {
  OutgoingUpdate snapshot{ScoreChange(30)};
  snapshot.snapshot = true;
  const std::string text = SseEvents({snapshot});
  EXPECT_TRUE(absl::StartsWith(text, "event: update\ndata: {")) << text;
  EXPECT_THAT(text, HasSubstr("\"snapshot\":true}"));
  EXPECT_EQ(SseStart(absl::Seconds(1)), "retry: 1000\n\n");
}

class WebApiFilesTest : public ::testing::Test {
 protected:
  WebApiFilesTest() {
    options_.address = "127.0.0.1:1";
    options_.backend = "127.0.0.1:1";
  }
  static WebApiOptions Options(const std::string& web_root) {
    WebApiOptions options;
    options.web_root = web_root;
    return options;
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.path() + "/" + name) << text;
  }
  harness::ScopedTempDir dir_;
  FrontendOptions options_;
};

TEST_F(WebApiFilesTest, ThePageIsServedFromItsFolderAndHealthzTurns503WhenDraining) {
  Write("index.html", "<!doctype html>");
  Write("app.js", "let x = 1;");
  Frontend frontend(options_);
  WebApi api(&frontend, Options(dir_.path()));
  ASSERT_TRUE(api.Load().ok());
  std::optional<WebReply> page = api.AnswerAtOnce(Get("/"));
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<!doctype html>");
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  std::optional<WebReply> script = api.AnswerAtOnce(Get("/app.js?v=2"));
  ASSERT_TRUE(script.has_value());
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(api.AnswerAtOnce(Get("/../etc/passwd"))->status, 404);
  EXPECT_EQ(api.AnswerAtOnce(Get("/%2e%2e/etc/passwd"))->status, 404);

  EXPECT_EQ(api.AnswerAtOnce(Get("/healthz"))->status, 200);
  api.SetDraining();
  EXPECT_EQ(api.AnswerAtOnce(Get("/healthz"))->status, 503);
  WebRequest post = Get("/api/board");
  post.method = "POST";
  EXPECT_EQ(api.AnswerAtOnce(post)->status, 405);
}

TEST_F(WebApiFilesTest, AFolderWithoutIndexHtmlIsAnErrorNamingIt) {
  Write("app.js", "");
  Frontend frontend(options_);
  WebApi api(&frontend, Options(dir_.path()));
  absl::Status loaded = api.Load();
  EXPECT_EQ(loaded.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(loaded.message(), HasSubstr(dir_.path()));
  WebApi missing(&frontend, Options(dir_.path() + "/nowhere"));
  EXPECT_THAT(missing.Load().message(), HasSubstr("nowhere"));
}

}  // namespace
}  // namespace podium
