// Fan boards in every store (issue 15 item 2): posts are writes like any
// other, with a seq (the post's id), the change log, idempotency and
// durability; a board keeps its newest 100; an operator's removal is a
// newer version without the post.
#include <string>

#include "absl/strings/str_cat.h"
#include "backend/fan_board.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store_fixture.h"

namespace podium {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FanBoardStoreTest : public test::StoreTest {};

INSTANTIATE_TEST_SUITE_P(Stores, FanBoardStoreTest, ::testing::Values("sqlite", "etcd"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

v1::PostToFanBoardRequest Post(const std::string& key, const std::string& author,
                               const std::string& text, const std::string& event = "javelin") {
  v1::PostToFanBoardRequest request;
  request.set_idempotency_key(key);
  request.set_event(event);
  request.set_author(author);
  request.set_text(text);
  return request;
}

v1::RemovePostRequest Removal(const std::string& key, int64_t id) {
  v1::RemovePostRequest request;
  request.set_idempotency_key(key);
  request.set_event("javelin");
  request.set_post_id(id);
  request.set_reason("off topic");
  return request;
}

std::vector<std::string> Texts(const v1::FanBoard& board) {
  std::vector<std::string> texts;
  for (const v1::FanPost& post : board.posts()) texts.push_back(post.text());
  return texts;
}

TEST_P(FanBoardStoreTest, APostIsAChangeWhoseSeqIsItsIdAndTheBoardKeepsItAcrossARestart) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<WriteResult> first = store->PostToFanBoard(Post("p1", "Ann", "Go Gauls!"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->change.seq(), S(1));
  ASSERT_TRUE(first->change.has_fans());
  EXPECT_EQ(first->change.fans().version(), S(1));
  ASSERT_EQ(first->change.fans().posts_size(), 1);
  EXPECT_EQ(first->change.fans().posts(0).id(), S(1));
  EXPECT_EQ(first->change.fans().posts(0).author(), "Ann");
  EXPECT_GT(first->change.fans().posts(0).posted_unix_micros(), 0);
  absl::StatusOr<WriteResult> second =
      store->PostToFanBoard(Post("p2", "Bob", "<img src=x onerror=alert(1)>"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->change.fans().posts(1).id(), S(2));
  // A retry is the same post, not a second one.
  absl::StatusOr<WriteResult> retry = store->PostToFanBoard(Post("p1", "Ann", "Go Gauls!"));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->change.seq(), S(1));

  absl::StatusOr<std::vector<v1::Change>> log = store->ChangesSince(S(0), 10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[1].fans().posts_size(), 2);

  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<v1::FanBoard> board = store->GetFanBoard("javelin");
  ASSERT_TRUE(board.ok()) << board.status();
  EXPECT_EQ(board->version(), S(2));
  EXPECT_THAT(Texts(*board), ElementsAre("Go Gauls!", "<img src=x onerror=alert(1)>"));
  EXPECT_EQ(board->posts(0).id(), S(1));
  EXPECT_EQ(board->posts(1).id(), S(2));
  // Another event's board is untouched.
  EXPECT_EQ(store->GetFanBoard("boar-hunt")->posts_size(), 0);
}

TEST_P(FanBoardStoreTest, ARemovalIsANewerVersionWithoutThePostAndAMissingPostIsNotFound) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PostToFanBoard(Post("p1", "Ann", "one")).ok());
  ASSERT_TRUE(store->PostToFanBoard(Post("p2", "Bob", "two")).ok());
  absl::StatusOr<WriteResult> removed = store->RemovePost(Removal("r1", S(1)));
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->change.seq(), S(3));
  EXPECT_EQ(removed->change.reason(), "off topic");
  EXPECT_THAT(Texts(removed->change.fans()), ElementsAre("two"));

  absl::StatusOr<WriteResult> again = store->RemovePost(Removal("r2", S(1)));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound) << again.status();
  EXPECT_THAT(again.status().message(), HasSubstr("shows no post"));
  // No seq was used by the refusal.
  absl::StatusOr<WriteResult> next = store->PostToFanBoard(Post("p3", "Cy", "three"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->change.seq(), S(4));
  EXPECT_THAT(Texts(*store->GetFanBoard("javelin")), ElementsAre("two", "three"));
}

TEST_P(FanBoardStoreTest, ABoardShowsItsNewestHundredPosts) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= kMaxFanPosts + 5; ++i) {
    ASSERT_TRUE(store->PostToFanBoard(Post(absl::StrCat("p", i), "Ann", absl::StrCat(i))).ok());
  }
  absl::StatusOr<v1::FanBoard> board = store->GetFanBoard("javelin");
  ASSERT_TRUE(board.ok());
  ASSERT_EQ(board->posts_size(), kMaxFanPosts);
  EXPECT_EQ(board->posts(0).text(), "6");
  EXPECT_EQ(board->posts(kMaxFanPosts - 1).text(), absl::StrCat(kMaxFanPosts + 5));
}

TEST_P(FanBoardStoreTest, BadPostsAreRefusedAndChangeNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  struct Case {
    v1::PostToFanBoardRequest request;
    absl::StatusCode code;
    const char* says;
  };
  const Case cases[] = {
      {Post("a", "", "text"), absl::StatusCode::kInvalidArgument, "author must be 1 to 40"},
      {Post("b", std::string(41, 'a'), "text"), absl::StatusCode::kInvalidArgument, "author"},
      {Post("c", "Ann", ""), absl::StatusCode::kInvalidArgument, "text must be 1 to 500"},
      {Post("d", "Ann", std::string(501, 'x')), absl::StatusCode::kInvalidArgument, "text"},
      {Post("e", "Ann", "bad \xff bytes"), absl::StatusCode::kInvalidArgument, "UTF-8"},
      {Post("f", "Ann", "bell \a"), absl::StatusCode::kInvalidArgument, "control character"},
      {Post("g", "Ann\n", "text"), absl::StatusCode::kInvalidArgument, "control character"},
      {Post("h", "Ann", "hi", "curling"), absl::StatusCode::kNotFound, "curling"},
      {Post("", "Ann", "hi"), absl::StatusCode::kInvalidArgument, "idempotency_key"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<WriteResult> result = store->PostToFanBoard(c.request);
    EXPECT_EQ(result.status().code(), c.code) << c.request.ShortDebugString();
    EXPECT_THAT(result.status().message(), HasSubstr(c.says)) << c.request.ShortDebugString();
  }
  // 500 characters of four bytes each, and a newline, are fine.
  std::string long_text;
  for (int i = 0; i < 500; ++i) long_text += "\xF0\x9F\x8F\x85";  // a medal emoji
  absl::StatusOr<WriteResult> ok = store->PostToFanBoard(Post("i", "Zoë", long_text));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->change.seq(), S(1));
  EXPECT_TRUE(store->PostToFanBoard(Post("j", "Ann", "two\nlines")).ok());
}

}  // namespace
}  // namespace podium
