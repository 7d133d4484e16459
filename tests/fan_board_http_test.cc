// Fan boards over HTTP and gRPC end to end (issue 15 item 2): posts from
// browsers reach every frontend's streams and caches, an operator's
// removal too; rate limits and bad posts; a polling frontend.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/http_plane_fixture.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;

using FanBoardHttpTest = HttpPlaneTest;

TEST_F(FanBoardHttpTest, APostReachesEveryFrontendsStreamAndAnOperatorsRemovalToo) {
  absl::StatusOr<std::unique_ptr<harness::SseStream>> stream =
      harness::SseStream::Open(http_[1], "/api/stream?fans=javelin");
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE(NextUpdate(stream->get()).snapshot());

  absl::StatusOr<harness::HttpResponse> posted =
      PostAs(http_[0], "Ann", "<img src=x onerror=alert(1)>");
  ASSERT_TRUE(posted.ok()) << posted.status();
  ASSERT_EQ(posted->status, 201) << posted->body;
  const v1::FanPostReply reply = FromJson<v1::FanPostReply>(posted->body);
  EXPECT_EQ(reply.post().id(), reply.seq());
  EXPECT_EQ(reply.post().text(), "<img src=x onerror=alert(1)>");

  v1::SubscribeUpdate update = NextUpdate(stream->get());
  ASSERT_TRUE(update.change().has_fans());
  ASSERT_EQ(update.change().fans().posts_size(), 1);
  EXPECT_EQ(update.change().fans().posts(0).id(), reply.seq());

  absl::StatusOr<harness::HttpResponse> board =
      harness::HttpGet(http_[1], "/api/events/javelin/posts");
  ASSERT_TRUE(board.ok());
  EXPECT_EQ(FromJson<v1::FanBoard>(board->body).posts_size(), 1);

  const std::string post_path = absl::StrCat("/api/events/javelin/posts/", reply.seq());
  absl::StatusOr<harness::HttpResponse> anonymous =
      harness::HttpSend(http_[0], "DELETE", post_path);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  absl::StatusOr<harness::HttpResponse> wrong =
      harness::HttpSend(http_[0], "DELETE", post_path, {"Authorization: Bearer not-the-token"});
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 403) << wrong->body;
  absl::StatusOr<harness::HttpResponse> removed =
      harness::HttpSend(http_[0], "DELETE", post_path,
                        {"Authorization: Bearer " + harness::BackendProcess::write_token()});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->status, 200) << removed->body;

  update = NextUpdate(stream->get());
  ASSERT_TRUE(update.change().has_fans());
  EXPECT_EQ(update.change().fans().posts_size(), 0);
  EXPECT_GT(update.change().seq(), reply.seq());
  absl::StatusOr<harness::HttpResponse> gone =
      harness::HttpSend(http_[0], "DELETE", post_path,
                        {"Authorization: Bearer " + harness::BackendProcess::write_token()});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404) << gone->body;
}

TEST_F(FanBoardHttpTest, PostsAreLimitedPerAddressAndPerAuthorWithRetryAfter) {
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<harness::HttpResponse> ok =
        PostAs(http_[0], absl::StrCat("Fan", i), "hi", "10.0.0.1");
    ASSERT_TRUE(ok.ok());
    ASSERT_EQ(ok->status, 201) << ok->body;
  }
  absl::StatusOr<harness::HttpResponse> address = PostAs(http_[0], "Another", "hi", "10.0.0.1");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->status, 429) << address->body;
  EXPECT_THAT(address->body, HasSubstr("from this address"));
  int retry_after = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address->Header("Retry-After"), &retry_after)) << address->head;
  EXPECT_GE(retry_after, 1);

  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<harness::HttpResponse> ok =
        PostAs(http_[0], "Chatty", "hi", absl::StrCat("10.0.1.", i));
    ASSERT_TRUE(ok.ok());
    ASSERT_EQ(ok->status, 201) << ok->body;
  }
  absl::StatusOr<harness::HttpResponse> author = PostAs(http_[0], " chatty ", "hi", "10.0.1.99");
  ASSERT_TRUE(author.ok());
  EXPECT_EQ(author->status, 429) << author->body;
  EXPECT_THAT(author->body, HasSubstr("from this author"));
}

TEST_F(FanBoardHttpTest, BadPostsAreRefusedWithAMessageAndCostNoToken) {
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
    absl::StatusOr<harness::HttpResponse> reply =
        harness::HttpSend(http_[0], "POST", "/api/events/javelin/posts", headers, c.body);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->status, c.status) << c.body << " -> " << reply->body;
    EXPECT_THAT(reply->body, HasSubstr(c.says)) << c.body;
  }
  absl::StatusOr<harness::HttpResponse> unknown =
      PostAs(http_[0], "Ann", "hi", "10.9.9.9", "curling");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  // None of those spent one of the address's five tokens.
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<harness::HttpResponse> ok =
        PostAs(http_[0], absl::StrCat("F", i), "hi", "10.9.9.9");
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->status, 201) << ok->body;
  }
}

TEST_F(FanBoardHttpTest, GrpcClientsPostAndReadFanBoardsToo) {
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
  absl::StatusOr<harness::HttpResponse> board =
      harness::HttpGet(http_[0], "/api/events/javelin/posts");
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
TEST(FanBoardHttpPullTest, APostReachesAPollingFrontendsStreamAndCache) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  harness::FrontendCluster frontends(dir.path(), backend.address(), 2, "pull");
  std::vector<std::string> http;
  for (int i = 0; i < frontends.size(); ++i) {
    http.push_back(absl::StrCat("127.0.0.1:", harness::PickFreePort()));
    frontends.AddFlags(i, {"--http_listen=" + http.back(), "--poll_interval=50ms"});
  }
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  // A stream needs the games' names, which a frontend reads in the
  // background as it starts: until then it answers 503 (EventSource would
  // retry). Here, the board first.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<harness::HttpResponse> board;
  do {
    board = harness::HttpGet(http[1], "/api/board");
  } while ((!board.ok() || board->status != 200) && absl::Now() < deadline);
  ASSERT_TRUE(board.ok() && board->status == 200) << (board.ok() ? board->body : "");
  absl::StatusOr<std::unique_ptr<harness::SseStream>> stream =
      harness::SseStream::Open(http[1], "/api/stream?fans=javelin");
  ASSERT_TRUE(stream.ok()) << stream.status();
  absl::StatusOr<harness::SseStream::Event> snapshot = (*stream)->Next(absl::Seconds(10));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();

  absl::StatusOr<harness::HttpResponse> posted = PostAs(http[0], "Obelix", "Ils sont fous");
  ASSERT_TRUE(posted.ok());
  ASSERT_EQ(posted->status, 201) << posted->body;
  const v1::FanPostReply reply = FromJson<v1::FanPostReply>(posted->body);
  absl::StatusOr<harness::SseStream::Event> event = (*stream)->Next(absl::Seconds(10));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id, absl::StrCat(reply.seq()));
  const v1::SubscribeUpdate update = FromJson<v1::SubscribeUpdate>(event->data);
  ASSERT_EQ(update.change().fans().posts_size(), 1);
  EXPECT_EQ(update.change().fans().posts(0).author(), "Obelix");
}

}  // namespace
}  // namespace podium::test
