// `podium-client top` in a real terminal: tmux runs it at the sizes of an
// 80x24 terminal and of a ./scripts/run pane, types keys into it and reads
// its screen back.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class TopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    frontends_ =
        std::make_unique<harness::FrontendCluster>(dir_.path(), backend_.address(), 1, "push");
    ASSERT_EQ(frontends_->StartAll(), absl::OkStatus());
    ASSERT_TRUE(frontends_->WaitForMaster(frontends_->address(0), absl::Seconds(15)).ok());
  }
  // The tmux server is this test's own (its own socket), so it is ended
  // with every pane in it, whatever the test did.
  void TearDown() override { Tmux({"kill-server"}); }

  // Runs tmux on the test's socket; its output.
  std::string Tmux(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env", "tmux", "-L", socket_, "-f", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = dir_.path() + "/tmux.out";
    std::remove(log.c_str());
    absl::StatusOr<harness::Subprocess> tmux = harness::Subprocess::Start(argv, log);
    if (!tmux.ok()) return "";
    tmux->Wait(absl::Seconds(10)).IgnoreError();
    return harness::ReadFileOrEmpty(log);
  }

  // Starts top in a detached session of `width` x `height`; its exit
  // status goes to exit_file(name).
  void StartTop(const std::string& name, int width, int height) {
    const std::string command = absl::StrCat(
        harness::BinaryPath("client/podium-client"), " --frontends=", frontends_->address(0),
        " top 2>>", dir_.path(), "/", name, ".err; echo \"exit $?\" > ", exit_file(name));
    Tmux({"new-session", "-d", "-s", name, "-x", std::to_string(width), "-y",
          std::to_string(height), command});
  }
  std::string exit_file(const std::string& name) const {
    return absl::StrCat(dir_.path(), "/", name, ".exit");
  }

  std::vector<std::string> Screen(const std::string& name) {
    return absl::StrSplit(Tmux({"capture-pane", "-p", "-t", name}), '\n');
  }

  // Polls the screen (bounded) until `done` holds; the last screen.
  template <typename Pred>
  std::vector<std::string> WaitForScreen(const std::string& name, Pred done) {
    std::vector<std::string> screen;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    do {
      screen = Screen(name);
      if (done(screen)) break;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    return screen;
  }

  std::string WaitForExit(const std::string& name) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::string status;
    while ((status = harness::ReadFileOrEmpty(exit_file(name))).empty() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    return status;
  }

  void WriteScore(const std::string& event, int64_t points) {
    auto stub = backend_.NewStub();
    grpc::ClientContext context;
    AddBearerToken(&context, "test-token");
    v1::RecordScoreRequest request;
    request.set_idempotency_key(absl::StrCat("top-", event, "-", points));
    request.set_event(event);
    request.set_status(v1::LIVE);
    v1::TeamPoints* p = request.add_points();
    p->set_team("Romans");
    p->set_points(points);
    v1::WriteReply reply;
    ASSERT_TRUE(stub->RecordScore(&context, request, &reply).ok());
  }

  static std::string Joined(const std::vector<std::string>& screen) {
    return absl::StrJoin(screen, "\n");
  }
  static int CountLines(const std::vector<std::string>& screen, absl::string_view text) {
    int n = 0;
    for (const std::string& line : screen) n += absl::StrContains(line, text);
    return n;
  }

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  std::unique_ptr<harness::FrontendCluster> frontends_;
  const std::string socket_ = absl::StrCat("podium-top-test-", getpid());
};

TEST_F(TopTest, AWriteAppearsAndTheScreenIsRedrawnInPlaceUntilQ) {
  StartTop("pane", 74, 19);  // a pane of ./scripts/run's tiled window
  const std::string frontend = frontends_->address(0);
  std::vector<std::string> screen = WaitForScreen("pane", [&](const auto& s) {
    return absl::StrContains(Joined(s), "menhir-put") && absl::StrContains(Joined(s), "RANK") &&
           absl::StrContains(s[0], frontend);
  });
  ASSERT_THAT(Joined(screen), HasSubstr("Podium live")) << Joined(screen);
  EXPECT_THAT(screen[0], HasSubstr(frontends_->address(0)));

  WriteScore("javelin", 42);
  screen = WaitForScreen("pane",
                         [](const auto& s) { return absl::StrContains(Joined(s), "Romans 42"); });
  ASSERT_THAT(Joined(screen), HasSubstr("Romans 42")) << Joined(screen);
  EXPECT_THAT(Joined(screen), ::testing::ContainsRegex("javelin +live"));
  // The header's age moves on every second: once it has changed, the
  // screen has been drawn again, and a redraw in place leaves one header,
  // on the first line, and one row per event.
  const std::string header = screen[0];
  screen = WaitForScreen("pane", [&](const auto& s) { return !s.empty() && s[0] != header; });
  ASSERT_NE(screen[0], header) << "not redrawn";
  EXPECT_THAT(screen[0], StartsWith("Podium live"));
  EXPECT_EQ(CountLines(screen, "Podium live"), 1) << Joined(screen);
  EXPECT_EQ(CountLines(screen, "javelin"), 1) << Joined(screen);
  EXPECT_EQ(CountLines(screen, "q or Ctrl-C quits"), 1) << Joined(screen);
  for (const std::string& line : screen) EXPECT_LE(line.size(), 74u);

  Tmux({"send-keys", "-t", "pane", "q"});
  EXPECT_EQ(WaitForExit("pane"), "exit 0\n") << harness::ReadFileOrEmpty(dir_.path() + "/pane.err");
}

TEST_F(TopTest, CtrlCEndsItCleanlyIn80x24) {
  StartTop("term", 80, 24);
  std::vector<std::string> screen =
      WaitForScreen("term", [](const auto& s) { return absl::StrContains(Joined(s), "RANK"); });
  ASSERT_THAT(Joined(screen), HasSubstr("RANK")) << Joined(screen);
  // Every event of the default games and every team fit in 80x24.
  for (const char* name : {"menhir-put", "boar-hunt", "chariot-race", "javelin", "wrestling",
                           "100m", "Gauls", "Romans", "Britons", "Egyptians"}) {
    EXPECT_EQ(CountLines(screen, name) >= 1, true) << name << "\n" << Joined(screen);
  }
  Tmux({"send-keys", "-t", "term", "C-c"});
  EXPECT_EQ(WaitForExit("term"), "exit 0\n") << harness::ReadFileOrEmpty(dir_.path() + "/term.err");
}

// Not top, but the same client against the same cluster: a refusal is
// said once, with the frontend's code, and the exit status is 1.
TEST_F(TopTest, WatchOfAnUnknownEventSaysSoOnceAndExits1) {
  const std::string log = dir_.path() + "/watch.err";
  absl::StatusOr<harness::Subprocess> watch =
      harness::Subprocess::Start({harness::BinaryPath("client/podium-client"),
                                  "--frontends=" + frontends_->address(0), "watch", "discus"},
                                 log);
  ASSERT_TRUE(watch.ok());
  absl::StatusOr<int> status = watch->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1);
  const std::string output = harness::ReadFileOrEmpty(log);
  EXPECT_THAT(output, HasSubstr("NOT_FOUND"));
  std::vector<std::string> mentions = absl::StrSplit(output, "unknown event 'discus'");
  EXPECT_EQ(mentions.size(), 2u) << output;
}

// Runs podium-client with `args`; its exit status and output.
std::pair<int, std::string> RunClient(const std::string& dir,
                                      const std::vector<std::string>& args) {
  std::vector<std::string> argv = {harness::BinaryPath("client/podium-client")};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string log = dir + "/client.out";
  std::remove(log.c_str());
  absl::StatusOr<harness::Subprocess> client = harness::Subprocess::Start(argv, log);
  if (!client.ok()) return {-1, ""};
  absl::StatusOr<int> status = client->Wait(absl::Seconds(60));
  if (!status.ok()) return {-1, harness::ReadFileOrEmpty(log)};
  return {WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, harness::ReadFileOrEmpty(log)};
}

TEST_F(TopTest, WithoutFlagsTheClientGoesThroughPodiumFrontends) {
  // $PODIUM_FRONTENDS stands in for the local cluster's fixed addresses.
  setenv("PODIUM_FRONTENDS", frontends_->address(0).c_str(), 1);
  auto [code, output] = RunClient(dir_.path(), {"frontends"});
  unsetenv("PODIUM_FRONTENDS");
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr(frontends_->address(0)));
  EXPECT_THAT(output, HasSubstr("master"));
}

TEST_F(TopTest, AWatchNoFrontendEverAnswersGivesUpWithExit1) {
  const std::string nobody = absl::StrCat("127.0.0.1:", harness::PickFreePort());
  auto [code, output] =
      RunClient(dir_.path(), {"--frontends=" + nobody, "--wait_for_frontends=1s", "watch"});
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output, HasSubstr("gave up after"));
  EXPECT_THAT(output, HasSubstr("no server ever answered"));
}

}  // namespace
}  // namespace podium::test
