// The data model's spellings and checks (common/names.h).
#include "common/names.h"

#include "gtest/gtest.h"

namespace podium {
namespace {

TEST(NamesTest, Utf8IsCheckedAsProtobufRequires) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("C\xC3\xB4te d'Ivoire"));
  EXPECT_TRUE(IsValidUtf8("\xE6\x97\xA5\xE6\x9C\xAC"));  // 日本
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x8F\x85"));          // U+1F3C5, a medal
  EXPECT_FALSE(IsValidUtf8("Gau\xffls"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));                  // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));              // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));          // overlong, three bytes
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));          // a UTF-16 surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));      // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));                  // a lone continuation
}

TEST(NamesTest, StatusesAreTheOdfsAndTheOldNamesStillRead) {
  for (v1::EventStatus status : {v1::START_LIST, v1::LIVE, v1::INTERMEDIATE, v1::UNCONFIRMED,
                                 v1::UNOFFICIAL, v1::OFFICIAL, v1::PROTESTED}) {
    absl::StatusOr<v1::EventStatus> parsed = ParseStatus(StatusName(status));
    ASSERT_TRUE(parsed.ok()) << StatusName(status);
    EXPECT_EQ(*parsed, status);
  }
  EXPECT_EQ(StatusName(v1::FINAL), "official");
  EXPECT_EQ(StatusName(v1::SCHEDULED), "start_list");
  EXPECT_EQ(*ParseStatus("final"), v1::OFFICIAL);
  EXPECT_EQ(*ParseStatus("scheduled"), v1::START_LIST);
  EXPECT_EQ(*ParseStatus("START-LIST"), v1::START_LIST);
  EXPECT_EQ(ParseStatus("done").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NamesTest, MarksAndMedalCountsReadBack) {
  for (v1::MarkKind mark : {v1::MARK_POINTS, v1::MARK_TIME, v1::MARK_DISTANCE, v1::MARK_RANK}) {
    absl::StatusOr<v1::MarkKind> parsed = ParseMark(MarkName(mark));
    ASSERT_TRUE(parsed.ok()) << MarkName(mark);
    EXPECT_EQ(*parsed, mark);
  }
  EXPECT_EQ(ParseMark("style").status().code(), absl::StatusCode::kInvalidArgument);
  v1::EventInfo judo;
  judo.set_golds(1);
  judo.set_bronzes(2);
  EXPECT_EQ(MedalsAwarded(judo, v1::GOLD), 1);
  EXPECT_EQ(MedalsAwarded(judo, v1::SILVER), 0);
  EXPECT_EQ(MedalsAwarded(judo, v1::BRONZE), 2);
}

}  // namespace
}  // namespace podium
