#include "client/top.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/live_board.h"
#include "client/subscriber.h"
#include "glog/logging.h"

namespace podium {
namespace {

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;  // the terminal went away: nothing left to show
    done += static_cast<size_t>(n);
  }
}

// Keys without Enter, no echo, the alternate screen and no cursor while it
// lives; the terminal as it was afterwards. Ctrl-C still raises SIGINT.
class ScreenSession {
 public:
  explicit ScreenSession(const TopOptions& options) : options_(options) {
    if (::tcgetattr(options_.input_fd, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      restore_ = ::tcsetattr(options_.input_fd, TCSANOW, &raw) == 0;
    }
    WriteAll(options_.output_fd, "\x1b[?1049h\x1b[?25l\x1b[2J");
  }
  ~ScreenSession() {
    WriteAll(options_.output_fd, "\x1b[?25h\x1b[?1049l");
    if (restore_) ::tcsetattr(options_.input_fd, TCSANOW, &saved_);
  }

  // Columns and rows; 80x24 when the output is not a terminal.
  std::pair<int, int> Size() const {
    winsize size{};
    if (::ioctl(options_.output_fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 &&
        size.ws_row > 0) {
      return {size.ws_col, size.ws_row};
    }
    return {80, 24};
  }

  // Cursor home, each line over the old one, the rest of the screen
  // cleared: a redraw in place, never a scroll.
  void Draw(const std::vector<std::string>& lines) const {
    std::string frame = "\x1b[H";
    for (size_t i = 0; i < lines.size(); ++i) {
      absl::StrAppend(&frame, lines[i], "\x1b[K", i + 1 < lines.size() ? "\r\n" : "");
    }
    absl::StrAppend(&frame, "\x1b[J");
    WriteAll(options_.output_fd, frame);
  }

  // Waits up to `timeout` for a key; true when 'q' or 'Q' was pressed.
  bool QuitPressed(absl::Duration timeout) {
    if (input_closed_) {
      // No keys will come (stdin at its end): wait without polling it, or
      // poll would answer at once, for ever.
      absl::SleepFor(timeout);
      return false;
    }
    pollfd fd{options_.input_fd, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) {
      return false;
    }
    char keys[64];
    const ssize_t n = ::read(options_.input_fd, keys, sizeof(keys));
    if (n <= 0 && (n == 0 || errno != EINTR)) input_closed_ = true;
    for (ssize_t i = 0; i < n; ++i) {
      if (keys[i] == 'q' || keys[i] == 'Q') return true;
    }
    return false;
  }

 private:
  const TopOptions options_;
  termios saved_{};
  bool restore_ = false;
  bool input_closed_ = false;
};

}  // namespace

absl::Status RunTop(ScoreboardClient* client, const absl::Notification* stop,
                    const TopOptions& options) {
  if (!::isatty(options.output_fd)) {
    return absl::FailedPreconditionError(
        "top draws a full screen and needs a terminal; for a log or a pipe use "
        "'watch' or 'board --interval=2s'");
  }
  LiveBoard board;
  // The board first fixes the games' order; the snapshot that starts the
  // subscription brings every value anyway, so a failed read is no loss.
  if (absl::StatusOr<v1::Board> first = client->GetBoard(); first.ok()) {
    board.Reset(*first);
  }
  absl::StatusOr<std::unique_ptr<Subscriber>> subscription = client->Subscribe(
      SubscriptionKeys::Everything(),
      [&board](const v1::SubscribeUpdate& update) { board.Apply(update, absl::Now()); });
  if (!subscription.ok()) return subscription.status();

  // Log lines on the terminal would scroll the board away: while it is
  // drawn, only errors reach a stderr that is the screen too.
  struct QuietLogs {
    int saved = FLAGS_minloglevel;
    QuietLogs() {
      if (::isatty(STDERR_FILENO)) FLAGS_minloglevel = std::max(saved, google::GLOG_ERROR);
    }
    ~QuietLogs() { FLAGS_minloglevel = saved; }
  } quiet_logs;
  ScreenSession screen(options);
  std::pair<int, int> drawn_size{0, 0};
  std::string drawn_frontend;
  absl::Time drawn_at = absl::InfinitePast();
  while (!stop->HasBeenNotified()) {
    if ((*subscription)->WaitForEnd(absl::ZeroDuration())) {
      return (*subscription)->status();
    }
    const std::pair<int, int> size = screen.Size();
    const absl::Time now = absl::Now();
    std::string frontend = (*subscription)->frontend();
    if (frontend.empty()) frontend = "connecting...";
    if (board.changed() || size != drawn_size || frontend != drawn_frontend ||
        now - drawn_at >= options.refresh) {
      screen.Draw(board.Render(size.first, size.second, frontend, now));
      drawn_size = size;
      drawn_frontend = frontend;
      drawn_at = now;
    }
    if (screen.QuitPressed(absl::Milliseconds(100))) break;
  }
  return absl::OkStatus();
}

}  // namespace podium
