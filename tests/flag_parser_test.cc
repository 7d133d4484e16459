// The command line as every Podium binary reads it (common/flag_parser).
#include "common/flag_parser.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/temp_dir.h"

ABSL_FLAG(bool, fp_switch, false, "a test bool");
ABSL_FLAG(int, fp_count, 0, "a test int");
ABSL_FLAG(std::string, fp_name, "", "a test string");

namespace podium {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<ParsedFlags> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

class FlagParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_fp_switch, false);
    absl::SetFlag(&FLAGS_fp_count, 0);
    absl::SetFlag(&FLAGS_fp_name, "");
  }
};

TEST_F(FlagParserTest, FlagsGoBeforeAndAfterPositionalsInEveryAbseilForm) {
  absl::StatusOr<ParsedFlags> parsed =
      Parse({"-fp_count", "3", "watch", "--fp_switch", "javelin", "--fp_name=x", "--", "--not"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->positional, ElementsAre("watch", "javelin", "--not"));
  EXPECT_EQ(absl::GetFlag(FLAGS_fp_count), 3);
  EXPECT_TRUE(absl::GetFlag(FLAGS_fp_switch));
  EXPECT_EQ(absl::GetFlag(FLAGS_fp_name), "x");
  ASSERT_TRUE(Parse({"--nofp_switch"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_fp_switch));
  EXPECT_FALSE(Parse({"--help"})->positional.size());
  EXPECT_TRUE(Parse({"--help"})->usage_requested);
}

TEST_F(FlagParserTest, MistakesAreInvalidArgumentNamingTheFlag) {
  EXPECT_THAT(std::string(Parse({"--fp_count=abc"}).status().message()),
              HasSubstr("bad value 'abc' for --fp_count"));
  EXPECT_THAT(std::string(Parse({"--no_such"}).status().message()),
              HasSubstr("unknown flag '--no_such'"));
  EXPECT_THAT(std::string(Parse({"--fp_count"}).status().message()), HasSubstr("needs a value"));
  EXPECT_THAT(std::string(Parse({"--fromenv=fp_count"}).status().message()),
              HasSubstr("not supported"));
}

TEST_F(FlagParserTest, FlagfilesAndUndefokWorkAsInAbseil) {
  harness::ScopedTempDir dir;
  const std::string file = dir.path() + "/flags";
  std::ofstream(file) << "# settings\n--fp_count=7\n\n  --fp_name=from-file  \n";
  absl::StatusOr<ParsedFlags> parsed =
      Parse({"--flagfile=" + file, "--undefok=later_flag", "--later_flag=1", "run"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_fp_count), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_fp_name), "from-file");
  EXPECT_THAT(parsed->positional, ElementsAre("run"));
  std::ofstream(file) << "--flagfile=" << file << "\n";
  EXPECT_THAT(std::string(Parse({"--flagfile=" + file}).status().message()), HasSubstr("a loop?"));
}

}  // namespace
}  // namespace podium
