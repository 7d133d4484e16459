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
#include "tests/http_plane_fixture.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;

TEST_F(HttpPlaneTest, TheBoardAnEventAndTheRankedMedalTableAreJsonOfTheProtos) {
  ASSERT_GT(writer_.RecordScore("javelin", "Gauls", 7).seq(), 0);
  ASSERT_GT(writer_.AwardMedal("Romans", v1::SILVER).seq(), 0);
  const int64_t gold_seq = writer_.AwardMedal("Britons", v1::GOLD).seq();
  ASSERT_GT(gold_seq, 0);

  absl::StatusOr<harness::HttpResponse> board = harness::HttpGet(http_[0], "/api/board");
  ASSERT_TRUE(board.ok()) << board.status();
  EXPECT_EQ(board->status, 200);
  EXPECT_EQ(board->Header("Content-Type"), "application/json");
  const v1::Board parsed = FromJson<v1::Board>(board->body);
  EXPECT_GE(parsed.seq(), gold_seq);
  EXPECT_GT(parsed.events_size(), 0);
  EXPECT_GT(parsed.games().teams_size(), 0);

  absl::StatusOr<harness::HttpResponse> event = harness::HttpGet(http_[1], "/api/events/javelin");
  ASSERT_TRUE(event.ok()) << event.status();
  ASSERT_EQ(event->status, 200) << event->body;
  const v1::EventScore javelin = FromJson<v1::EventScore>(event->body);
  EXPECT_EQ(javelin.event(), "javelin");
  EXPECT_EQ(javelin.points(0).team(), "Gauls");
  EXPECT_EQ(javelin.points(0).points(), 7);

  absl::StatusOr<harness::HttpResponse> medals = harness::HttpGet(http_[0], "/api/medals");
  ASSERT_TRUE(medals.ok()) << medals.status();
  const v1::Standings standings = FromJson<v1::Standings>(medals->body);
  ASSERT_GE(standings.standings_size(), 2);
  EXPECT_EQ(standings.standings(0).tally().team(), "Britons");  // a gold beats a silver
  EXPECT_EQ(standings.standings(0).rank(), 1);
  EXPECT_EQ(standings.standings(1).tally().team(), "Romans");
  EXPECT_EQ(standings.standings(1).rank(), 2);
}

TEST_F(HttpPlaneTest, UnknownNamesWrongMethodsAndUnknownPathsGetAStatusAndAMessage) {
  absl::StatusOr<harness::HttpResponse> unknown = harness::HttpGet(http_[0], "/api/events/curling");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->status, 404);
  EXPECT_THAT(unknown->body, HasSubstr("\"code\":\"NOT_FOUND\""));
  EXPECT_THAT(unknown->body, HasSubstr("curling"));

  absl::StatusOr<harness::HttpResponse> api = harness::HttpGet(http_[0], "/api/nothing");
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->status, 404);
  EXPECT_THAT(api->body, HasSubstr("/api/board"));

  absl::StatusOr<std::unique_ptr<harness::HttpClient>> connection =
      harness::HttpClient::Open(http_[0]);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)
                  ->Send("DELETE /api/board HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .ok());
  absl::StatusOr<harness::HttpResponse> deleted =
      harness::ParseHttpResponse((*connection)->ReadUntilClosed(absl::Seconds(5)));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->status, 405);
  EXPECT_EQ(deleted->Header("Allow"), "GET, HEAD");

  absl::StatusOr<harness::HttpResponse> no_keys = harness::HttpGet(http_[0], "/api/stream");
  ASSERT_TRUE(no_keys.ok());
  EXPECT_EQ(no_keys->status, 400);
  EXPECT_THAT(no_keys->body, HasSubstr("medals=1"));
}

TEST_F(HttpPlaneTest, HealthzIsOkAndMetricsAreInThePrometheusTextFormat) {
  absl::StatusOr<harness::HttpResponse> health = harness::HttpGet(http_[0], "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  ASSERT_TRUE(harness::HttpGet(http_[0], "/api/board").ok());
  absl::StatusOr<harness::HttpResponse> metrics = harness::HttpGet(http_[0], "/metrics");
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
  absl::StatusOr<std::unique_ptr<harness::SseStream>> stream =
      harness::SseStream::Open(http_[0], "/api/stream?events=javelin&medals=1");
  ASSERT_TRUE(stream.ok()) << stream.status();
  // The snapshot: the event and every team, none with an id.
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<harness::SseStream::Event> event = (*stream)->Next(absl::Seconds(10));
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
  absl::StatusOr<std::unique_ptr<harness::SseStream>> stream =
      harness::SseStream::Open(http_[doomed], "/api/stream?events=javelin");
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
  absl::StatusOr<std::unique_ptr<harness::SseStream>> resumed =
      harness::SseStream::Open(http_[survivor], "/api/stream?events=javelin", last_id);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  for (size_t i = 5; i < written.size(); ++i) {
    const v1::SubscribeUpdate update = NextUpdate(resumed->get());
    EXPECT_EQ(update.change().seq(), written[i]) << "update " << i;
    EXPECT_FALSE(update.snapshot());
  }
}

TEST_F(HttpPlaneTest, MalformedOversizedAndSlowRequestsAreRefusedWithoutHarmingAStream) {
  absl::StatusOr<std::unique_ptr<harness::SseStream>> stream =
      harness::SseStream::Open(http_[0], "/api/stream?events=javelin");
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE(NextUpdate(stream->get()).snapshot());

  auto exchange = [&](const std::string& bytes) -> absl::StatusOr<harness::HttpResponse> {
    absl::StatusOr<std::unique_ptr<harness::HttpClient>> connection =
        harness::HttpClient::Open(http_[0]);
    if (!connection.ok()) return connection.status();
    if (absl::Status sent = (*connection)->Send(bytes); !sent.ok()) return sent;
    return harness::ParseHttpResponse((*connection)->ReadUntilClosed(absl::Seconds(10)));
  };
  absl::StatusOr<harness::HttpResponse> garbage = exchange("HELLO THERE\r\n\r\n");
  ASSERT_TRUE(garbage.ok()) << garbage.status();
  EXPECT_EQ(garbage->status, 400);
  absl::StatusOr<harness::HttpResponse> huge =
      exchange("GET / HTTP/1.1\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n");
  ASSERT_TRUE(huge.ok()) << huge.status();
  EXPECT_EQ(huge->status, 431);
  absl::StatusOr<harness::HttpResponse> body =
      exchange("GET / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'b'));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->status, 413);

  // Slowloris: half a request, then nothing. The frontend's request
  // timeout is 1 s here; the reply must come well within the read's 10 s.
  absl::StatusOr<std::unique_ptr<harness::HttpClient>> slow = harness::HttpClient::Open(http_[0]);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*slow)->Send("GET /api/board HTTP/1.1\r\nHost: x\r\n").ok());
  // Meanwhile others are served, the stream included.
  absl::StatusOr<harness::HttpResponse> board = harness::HttpGet(http_[0], "/api/board");
  ASSERT_TRUE(board.ok());
  EXPECT_EQ(board->status, 200);
  const int64_t seq = writer_.RecordScore("javelin", "Gauls", 99).seq();
  EXPECT_EQ(NextUpdate(stream->get()).change().seq(), seq);
  absl::StatusOr<harness::HttpResponse> timed_out =
      harness::ParseHttpResponse((*slow)->ReadUntilClosed(absl::Seconds(10)));
  ASSERT_TRUE(timed_out.ok()) << timed_out.status();
  EXPECT_EQ(timed_out->status, 408);

  // An idle keep-alive connection is closed, without a reply.
  absl::StatusOr<std::unique_ptr<harness::HttpClient>> idle = harness::HttpClient::Open(http_[0]);
  ASSERT_TRUE(idle.ok());
  EXPECT_TRUE((*idle)->ClosedWithin(absl::Seconds(10)));
  EXPECT_EQ((*idle)->buffer(), "");

  // The stream lived through it all.
  const int64_t after = writer_.RecordScore("javelin", "Gauls", 100).seq();
  EXPECT_EQ(NextUpdate(stream->get()).change().seq(), after);
}

// The podium_sse_streams gauge of frontend `http`, or -1.
int64_t OpenStreams(const std::string& http) {
  absl::StatusOr<harness::HttpResponse> metrics = harness::HttpGet(http, "/metrics");
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
    absl::StatusOr<std::unique_ptr<harness::SseStream>> stream =
        harness::SseStream::Open(http_[0], "/api/stream?events=javelin");
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
  absl::StatusOr<harness::HttpResponse> health = harness::HttpGet(http_[0], "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace podium::test
