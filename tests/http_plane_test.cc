// The frontends' HTTP plane end to end (issue 15 item 1): a real backend
// and real push-mode frontends with --http_listen, read over real sockets.
// The JSON is read back through protobuf's JSON mapping, so it is checked
// against the same messages gRPC clients receive.
#include <signal.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/client_testing.h"
#include "tests/testing/cluster.h"
#include "tests/testing/http_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;

template <typename T>
T FromJson(const std::string& json) {
  T message;
  auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << json;
  return message;
}

class HttpPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < frontends_.size(); ++i) {
      http_.push_back(absl::StrCat("127.0.0.1:", PickFreePort()));
      frontends_.AddFlags(i, {"--http_listen=" + http_.back(), "--http_request_timeout=1s"});
    }
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    ASSERT_EQ(frontends_.StartAll(), absl::OkStatus());
    ASSERT_TRUE(
        frontends_.WaitForMaster(frontends_.address(frontends_.HighestPid()), absl::Seconds(15))
            .ok());
  }

  // The next update event of `stream`, parsed.
  static v1::SubscribeUpdate NextUpdate(SseStream* stream, std::string* id = nullptr) {
    absl::StatusOr<SseStream::Event> event = stream->Next(absl::Seconds(10));
    EXPECT_TRUE(event.ok()) << event.status();
    if (!event.ok()) return v1::SubscribeUpdate();
    EXPECT_EQ(event->event, "update");
    if (id != nullptr) *id = event->id;
    return FromJson<v1::SubscribeUpdate>(event->data);
  }

  ScopedTempDir dir_;
  BackendProcess backend_{dir_.path()};
  FrontendCluster frontends_{dir_.path(), backend_.address(), 2, "push"};
  std::vector<std::string> http_;
  BackendWriter writer_{backend_.NewStub()};
};

TEST_F(HttpPlaneTest, TheBoardAnEventAndTheRankedMedalTableAreJsonOfTheProtos) {
  ASSERT_GT(writer_.RecordScore("javelin", "Gauls", 7).seq(), 0);
  ASSERT_GT(writer_.AwardMedal("Romans", v1::SILVER).seq(), 0);
  const int64_t gold_seq = writer_.AwardMedal("Britons", v1::GOLD).seq();
  ASSERT_GT(gold_seq, 0);

  absl::StatusOr<HttpResponse> board = HttpGet(http_[0], "/api/board");
  ASSERT_TRUE(board.ok()) << board.status();
  EXPECT_EQ(board->status, 200);
  EXPECT_EQ(board->Header("Content-Type"), "application/json");
  const v1::Board parsed = FromJson<v1::Board>(board->body);
  EXPECT_GE(parsed.seq(), gold_seq);
  EXPECT_GT(parsed.events_size(), 0);
  EXPECT_GT(parsed.games().teams_size(), 0);

  absl::StatusOr<HttpResponse> event = HttpGet(http_[1], "/api/events/javelin");
  ASSERT_TRUE(event.ok()) << event.status();
  ASSERT_EQ(event->status, 200) << event->body;
  const v1::EventScore javelin = FromJson<v1::EventScore>(event->body);
  EXPECT_EQ(javelin.event(), "javelin");
  EXPECT_EQ(javelin.points(0).team(), "Gauls");
  EXPECT_EQ(javelin.points(0).points(), 7);

  absl::StatusOr<HttpResponse> medals = HttpGet(http_[0], "/api/medals");
  ASSERT_TRUE(medals.ok()) << medals.status();
  const v1::Standings standings = FromJson<v1::Standings>(medals->body);
  ASSERT_GE(standings.standings_size(), 2);
  EXPECT_EQ(standings.standings(0).tally().team(), "Britons");  // a gold beats a silver
  EXPECT_EQ(standings.standings(0).rank(), 1);
  EXPECT_EQ(standings.standings(1).tally().team(), "Romans");
  EXPECT_EQ(standings.standings(1).rank(), 2);
}

TEST_F(HttpPlaneTest, UnknownNamesWrongMethodsAndUnknownPathsGetAStatusAndAMessage) {
  absl::StatusOr<HttpResponse> unknown = HttpGet(http_[0], "/api/events/curling");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->status, 404);
  EXPECT_THAT(unknown->body, HasSubstr("\"code\":\"NOT_FOUND\""));
  EXPECT_THAT(unknown->body, HasSubstr("curling"));

  absl::StatusOr<HttpResponse> api = HttpGet(http_[0], "/api/nothing");
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->status, 404);
  EXPECT_THAT(api->body, HasSubstr("/api/board"));

  absl::StatusOr<std::unique_ptr<HttpConnection>> connection = HttpConnection::Open(http_[0]);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)
                  ->Send("DELETE /api/board HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .ok());
  absl::StatusOr<HttpResponse> deleted =
      ParseHttpResponse((*connection)->ReadUntilClosed(absl::Seconds(5)));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->status, 405);
  EXPECT_EQ(deleted->Header("Allow"), "GET, HEAD");

  absl::StatusOr<HttpResponse> no_keys = HttpGet(http_[0], "/api/stream");
  ASSERT_TRUE(no_keys.ok());
  EXPECT_EQ(no_keys->status, 400);
  EXPECT_THAT(no_keys->body, HasSubstr("medals=1"));
}

TEST_F(HttpPlaneTest, HealthzIsOkAndMetricsAreInThePrometheusTextFormat) {
  absl::StatusOr<HttpResponse> health = HttpGet(http_[0], "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  ASSERT_TRUE(HttpGet(http_[0], "/api/board").ok());
  absl::StatusOr<HttpResponse> metrics = HttpGet(http_[0], "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->Header("Content-Type"), HasSubstr("version=0.0.4"));
  EXPECT_THAT(metrics->body,
              HasSubstr("podium_http_requests_total{route=\"/api/board\",code=\"200\"} 1\n"));
  for (const char* name :
       {"podium_sse_streams", "podium_grpc_subscribers", "podium_cache_hits_total",
        "podium_cache_misses_total", "podium_master_epoch", "podium_backend_lag_seqs",
        "podium_sse_updates_conflated_total", "podium_grpc_updates_delivered_total",
        "podium_grpc_updates_conflated_total"}) {
    EXPECT_THAT(metrics->body, HasSubstr(absl::StrCat("\n# TYPE ", name, " "))) << name;
  }
}

TEST_F(HttpPlaneTest, AStreamSendsASnapshotThenEveryWriteInOrderWithItsSeqAsId) {
  absl::StatusOr<std::unique_ptr<SseStream>> stream =
      SseStream::Open(http_[0], "/api/stream?events=javelin&medals=1");
  ASSERT_TRUE(stream.ok()) << stream.status();
  // The snapshot: the event and every team, none with an id.
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<SseStream::Event> event = (*stream)->Next(absl::Seconds(10));
    ASSERT_TRUE(event.ok()) << event.status();
    EXPECT_FALSE(event->has_id) << event->data;
    EXPECT_TRUE(FromJson<v1::SubscribeUpdate>(event->data).snapshot());
  }
  std::vector<int64_t> written;
  for (int points = 1; points <= 20; ++points) {
    written.push_back(points % 5 == 0 ? writer_.AwardMedal("Gauls", v1::BRONZE).seq()
                                      : writer_.RecordScore("javelin", "Romans", points).seq());
    ASSERT_GT(written.back(), 0);
  }
  writer_.RecordScore("boar-hunt", "Romans", 1);  // not subscribed: never sent
  for (int64_t seq : written) {
    std::string id;
    const v1::SubscribeUpdate update = NextUpdate(stream->get(), &id);
    EXPECT_EQ(update.change().seq(), seq);
    EXPECT_EQ(id, absl::StrCat(seq));
    EXPECT_FALSE(update.snapshot());
  }
}

TEST_F(HttpPlaneTest, AStreamResumedByLastEventIdOnAnotherFrontendMissesNothing) {
  const int doomed = 0, survivor = 1;
  absl::StatusOr<std::unique_ptr<SseStream>> stream =
      SseStream::Open(http_[doomed], "/api/stream?events=javelin");
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE(NextUpdate(stream->get()).snapshot());
  std::vector<int64_t> written;
  for (int points = 1; points <= 10; ++points) {
    written.push_back(writer_.RecordScore("javelin", "Gauls", points).seq());
  }
  std::string last_id;
  for (int i = 0; i < 5; ++i) {
    const v1::SubscribeUpdate update = NextUpdate(stream->get(), &last_id);
    ASSERT_EQ(update.change().seq(), written[i]);
  }
  frontends_.Kill(doomed, SIGKILL);
  for (int points = 11; points <= 20; ++points) {
    written.push_back(writer_.RecordScore("javelin", "Gauls", points).seq());
  }
  // What an EventSource does on its own: the same URL, its last id.
  absl::StatusOr<std::unique_ptr<SseStream>> resumed =
      SseStream::Open(http_[survivor], "/api/stream?events=javelin", last_id);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  for (size_t i = 5; i < written.size(); ++i) {
    const v1::SubscribeUpdate update = NextUpdate(resumed->get());
    EXPECT_EQ(update.change().seq(), written[i]) << "update " << i;
    EXPECT_FALSE(update.snapshot());
  }
}

TEST_F(HttpPlaneTest, MalformedOversizedAndSlowRequestsAreRefusedWithoutHarmingAStream) {
  absl::StatusOr<std::unique_ptr<SseStream>> stream =
      SseStream::Open(http_[0], "/api/stream?events=javelin");
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE(NextUpdate(stream->get()).snapshot());

  auto exchange = [&](const std::string& bytes) -> absl::StatusOr<HttpResponse> {
    absl::StatusOr<std::unique_ptr<HttpConnection>> connection = HttpConnection::Open(http_[0]);
    if (!connection.ok()) return connection.status();
    if (absl::Status sent = (*connection)->Send(bytes); !sent.ok()) return sent;
    return ParseHttpResponse((*connection)->ReadUntilClosed(absl::Seconds(10)));
  };
  absl::StatusOr<HttpResponse> garbage = exchange("HELLO THERE\r\n\r\n");
  ASSERT_TRUE(garbage.ok()) << garbage.status();
  EXPECT_EQ(garbage->status, 400);
  absl::StatusOr<HttpResponse> huge =
      exchange("GET / HTTP/1.1\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n");
  ASSERT_TRUE(huge.ok()) << huge.status();
  EXPECT_EQ(huge->status, 431);
  absl::StatusOr<HttpResponse> body =
      exchange("GET / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'b'));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->status, 413);

  // Slowloris: half a request, then nothing. The frontend's request
  // timeout is 1 s here; the reply must come well within the read's 10 s.
  absl::StatusOr<std::unique_ptr<HttpConnection>> slow = HttpConnection::Open(http_[0]);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*slow)->Send("GET /api/board HTTP/1.1\r\nHost: x\r\n").ok());
  // Meanwhile others are served, the stream included.
  absl::StatusOr<HttpResponse> board = HttpGet(http_[0], "/api/board");
  ASSERT_TRUE(board.ok());
  EXPECT_EQ(board->status, 200);
  const int64_t seq = writer_.RecordScore("javelin", "Gauls", 99).seq();
  EXPECT_EQ(NextUpdate(stream->get()).change().seq(), seq);
  absl::StatusOr<HttpResponse> timed_out =
      ParseHttpResponse((*slow)->ReadUntilClosed(absl::Seconds(10)));
  ASSERT_TRUE(timed_out.ok()) << timed_out.status();
  EXPECT_EQ(timed_out->status, 408);

  // An idle keep-alive connection is closed, without a reply.
  absl::StatusOr<std::unique_ptr<HttpConnection>> idle = HttpConnection::Open(http_[0]);
  ASSERT_TRUE(idle.ok());
  EXPECT_TRUE((*idle)->ClosedWithin(absl::Seconds(10)));
  EXPECT_EQ((*idle)->buffer(), "");

  // The stream lived through it all.
  const int64_t after = writer_.RecordScore("javelin", "Gauls", 100).seq();
  EXPECT_EQ(NextUpdate(stream->get()).change().seq(), after);
}

// The podium_sse_streams gauge of frontend `http`, or -1.
int64_t OpenStreams(const std::string& http) {
  absl::StatusOr<HttpResponse> metrics = HttpGet(http, "/metrics");
  if (!metrics.ok()) return -1;
  const size_t at = metrics->body.find("\npodium_sse_streams ");
  int64_t streams = -1;
  if (at == std::string::npos) return -1;
  const size_t begin = at + strlen("\npodium_sse_streams ");
  if (!absl::SimpleAtoi(metrics->body.substr(begin, metrics->body.find('\n', begin) - begin),
                        &streams)) {
    return -1;
  }
  return streams;
}

TEST_F(HttpPlaneTest, AStreamWhoseBrowserLeavesEndsItsSubscription) {
  ASSERT_EQ(OpenStreams(http_[0]), 0);
  {
    absl::StatusOr<std::unique_ptr<SseStream>> stream =
        SseStream::Open(http_[0], "/api/stream?events=javelin");
    ASSERT_TRUE(stream.ok()) << stream.status();
    ASSERT_TRUE(NextUpdate(stream->get()).snapshot());
    EXPECT_EQ(OpenStreams(http_[0]), 1);
  }  // the connection closes, without a word
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int64_t open = -1;
  while (absl::Now() < deadline && (open = OpenStreams(http_[0])) != 0) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(open, 0) << "the frontend still counts the stream of a browser that left";
  // And a write then reaches nobody, without an error.
  EXPECT_GT(writer_.RecordScore("javelin", "Gauls", 5).seq(), 0);
  absl::StatusOr<HttpResponse> health = HttpGet(http_[0], "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

// A fan's post through one frontend, as a browser sends it (through
// HAProxy, which says whom it forwards for).
absl::StatusOr<HttpResponse> PostAs(const std::string& http, const std::string& author,
                                    const std::string& text, const std::string& from = "",
                                    const std::string& event = "javelin") {
  std::vector<std::string> headers = {"Content-Type: application/json"};
  if (!from.empty()) headers.push_back("X-Forwarded-For: " + from);
  return HttpSend(http, "POST", "/api/events/" + event + "/posts", headers,
                  absl::StrCat("{\"author\":\"", author, "\",\"text\":\"", text, "\"}"));
}

TEST_F(HttpPlaneTest, APostReachesEveryFrontendsStreamAndAnOperatorsRemovalToo) {
  absl::StatusOr<std::unique_ptr<SseStream>> stream =
      SseStream::Open(http_[1], "/api/stream?fans=javelin");
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE(NextUpdate(stream->get()).snapshot());

  absl::StatusOr<HttpResponse> posted = PostAs(http_[0], "Ann", "<img src=x onerror=alert(1)>");
  ASSERT_TRUE(posted.ok()) << posted.status();
  ASSERT_EQ(posted->status, 201) << posted->body;
  const v1::FanPostReply reply = FromJson<v1::FanPostReply>(posted->body);
  EXPECT_EQ(reply.post().id(), reply.seq());
  EXPECT_EQ(reply.post().text(), "<img src=x onerror=alert(1)>");

  v1::SubscribeUpdate update = NextUpdate(stream->get());
  ASSERT_TRUE(update.change().has_fans());
  ASSERT_EQ(update.change().fans().posts_size(), 1);
  EXPECT_EQ(update.change().fans().posts(0).id(), reply.seq());

  absl::StatusOr<HttpResponse> board = HttpGet(http_[1], "/api/events/javelin/posts");
  ASSERT_TRUE(board.ok());
  EXPECT_EQ(FromJson<v1::FanBoard>(board->body).posts_size(), 1);

  const std::string post_path = absl::StrCat("/api/events/javelin/posts/", reply.seq());
  absl::StatusOr<HttpResponse> anonymous = HttpSend(http_[0], "DELETE", post_path);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  absl::StatusOr<HttpResponse> wrong =
      HttpSend(http_[0], "DELETE", post_path, {"Authorization: Bearer not-the-token"});
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 403) << wrong->body;
  absl::StatusOr<HttpResponse> removed = HttpSend(
      http_[0], "DELETE", post_path, {"Authorization: Bearer " + BackendProcess::write_token()});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->status, 200) << removed->body;

  update = NextUpdate(stream->get());
  ASSERT_TRUE(update.change().has_fans());
  EXPECT_EQ(update.change().fans().posts_size(), 0);
  EXPECT_GT(update.change().seq(), reply.seq());
  absl::StatusOr<HttpResponse> gone = HttpSend(
      http_[0], "DELETE", post_path, {"Authorization: Bearer " + BackendProcess::write_token()});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404) << gone->body;
}

TEST_F(HttpPlaneTest, PostsAreLimitedPerAddressAndPerAuthorWithRetryAfter) {
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<HttpResponse> ok = PostAs(http_[0], absl::StrCat("Fan", i), "hi", "10.0.0.1");
    ASSERT_TRUE(ok.ok());
    ASSERT_EQ(ok->status, 201) << ok->body;
  }
  absl::StatusOr<HttpResponse> address = PostAs(http_[0], "Another", "hi", "10.0.0.1");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->status, 429) << address->body;
  EXPECT_THAT(address->body, HasSubstr("from this address"));
  int retry_after = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address->Header("Retry-After"), &retry_after)) << address->head;
  EXPECT_GE(retry_after, 1);

  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<HttpResponse> ok = PostAs(http_[0], "Chatty", "hi", absl::StrCat("10.0.1.", i));
    ASSERT_TRUE(ok.ok());
    ASSERT_EQ(ok->status, 201) << ok->body;
  }
  absl::StatusOr<HttpResponse> author = PostAs(http_[0], " chatty ", "hi", "10.0.1.99");
  ASSERT_TRUE(author.ok());
  EXPECT_EQ(author->status, 429) << author->body;
  EXPECT_THAT(author->body, HasSubstr("from this author"));
}

TEST_F(HttpPlaneTest, BadPostsAreRefusedWithAMessageAndCostNoToken) {
  struct Case {
    std::vector<std::string> headers;
    std::string body;
    int status;
    const char* says;
  };
  const std::string json = "Content-Type: application/json";
  const Case cases[] = {
      {{"Content-Type: text/plain"}, "author=Ann&text=hi", 415, "application/json"},
      {{json}, "{not json", 400, "not"},
      {{json}, R"({"author":"Ann","text":"hi","admin":true})", 400, "admin"},
      {{json}, R"({"author":"Ann","text":""})", 400, "text must be 1 to 500"},
      {{json}, R"({"author":"","text":"hi"})", 400, "author must be 1 to 40"},
      {{json}, R"({"author":"Ann","text":")" + std::string(501, 'x') + "\"}", 400, "it is 501"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> headers = c.headers;
    headers.push_back("X-Forwarded-For: 10.9.9.9");
    absl::StatusOr<HttpResponse> reply =
        HttpSend(http_[0], "POST", "/api/events/javelin/posts", headers, c.body);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->status, c.status) << c.body << " -> " << reply->body;
    EXPECT_THAT(reply->body, HasSubstr(c.says)) << c.body;
  }
  absl::StatusOr<HttpResponse> unknown = PostAs(http_[0], "Ann", "hi", "10.9.9.9", "curling");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  // None of those spent one of the address's five tokens.
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<HttpResponse> ok = PostAs(http_[0], absl::StrCat("F", i), "hi", "10.9.9.9");
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->status, 201) << ok->body;
  }
}

TEST_F(HttpPlaneTest, GrpcClientsPostAndReadFanBoardsToo) {
  std::unique_ptr<v1::Scoreboard::Stub> stub = frontends_.NewStub(1);
  grpc::ClientContext context;
  v1::FanPostRequest request;
  request.set_event("javelin");
  request.set_author("Asterix");
  request.set_text("By Toutatis!");
  v1::FanPostReply reply;
  grpc::Status posted = stub->PostToFanBoard(&context, request, &reply);
  ASSERT_TRUE(posted.ok()) << posted.error_message();
  EXPECT_EQ(reply.post().author(), "Asterix");

  // Pushed to the other frontend, whose cache answers.
  absl::StatusOr<HttpResponse> board = HttpGet(http_[0], "/api/events/javelin/posts");
  ASSERT_TRUE(board.ok());
  const v1::FanBoard parsed = FromJson<v1::FanBoard>(board->body);
  ASSERT_EQ(parsed.posts_size(), 1);
  EXPECT_EQ(parsed.posts(0).id(), reply.seq());

  grpc::ClientContext read_context;
  v1::FanBoardRequest read;
  read.set_event("javelin");
  v1::FanBoard via_grpc;
  ASSERT_TRUE(stub->GetFanBoard(&read_context, read, &via_grpc).ok());
  EXPECT_EQ(via_grpc.version(), reply.seq());
}

// The same board through frontends that poll the backend instead of
// following a master: a post is a change in the log like any other.
TEST(HttpPlanePullTest, APostReachesAPollingFrontendsStreamAndCache) {
  ScopedTempDir dir;
  BackendProcess backend(dir.path());
  FrontendCluster frontends(dir.path(), backend.address(), 2, "pull");
  std::vector<std::string> http;
  for (int i = 0; i < frontends.size(); ++i) {
    http.push_back(absl::StrCat("127.0.0.1:", PickFreePort()));
    frontends.AddFlags(i, {"--http_listen=" + http.back(), "--poll_interval=50ms"});
  }
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  // A stream needs the games' names, which a frontend reads in the
  // background as it starts: until then it answers 503 (EventSource would
  // retry). Here, the board first.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<HttpResponse> board;
  do {
    board = HttpGet(http[1], "/api/board");
  } while ((!board.ok() || board->status != 200) && absl::Now() < deadline);
  ASSERT_TRUE(board.ok() && board->status == 200) << (board.ok() ? board->body : "");
  absl::StatusOr<std::unique_ptr<SseStream>> stream =
      SseStream::Open(http[1], "/api/stream?fans=javelin");
  ASSERT_TRUE(stream.ok()) << stream.status();
  absl::StatusOr<SseStream::Event> snapshot = (*stream)->Next(absl::Seconds(10));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();

  absl::StatusOr<HttpResponse> posted = PostAs(http[0], "Obelix", "Ils sont fous");
  ASSERT_TRUE(posted.ok());
  ASSERT_EQ(posted->status, 201) << posted->body;
  const v1::FanPostReply reply = FromJson<v1::FanPostReply>(posted->body);
  absl::StatusOr<SseStream::Event> event = (*stream)->Next(absl::Seconds(10));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id, absl::StrCat(reply.seq()));
  const v1::SubscribeUpdate update = FromJson<v1::SubscribeUpdate>(event->data);
  ASSERT_EQ(update.change().fans().posts_size(), 1);
  EXPECT_EQ(update.change().fans().posts(0).author(), "Obelix");
}

}  // namespace
}  // namespace podium::test
