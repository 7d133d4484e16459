#include "bard/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "glog/logging.h"

namespace podium {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " journal '", path, "': ", std::strerror(errno)));
}

std::string Serialized(const JournalRequest& request) {
  return std::visit([](const auto& r) { return r.SerializeAsString(); },
                    request);
}

}  // namespace

bool IsDefinitiveRefusal(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(
    const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open", path);
  auto fail = [fd](absl::Status status) {
    ::close(fd);
    return status;
  };
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return fail(absl::FailedPreconditionError(absl::StrCat(
          "journal '", path, "' is in use by another podium-bard")));
    }
    return fail(ErrnoError("cannot lock", path));
  }
  std::string content;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrnoError("cannot read", path));
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }

  absl::StatusOr<JournalText> text = ParseJournalText(content, path);
  if (!text.ok()) return fail(text.status());
  if (text->torn_lines > 0) {
    LOG(WARNING) << path << ":" << text->first_torn_line << ": ignoring "
                 << text->torn_lines
                 << " torn line(s) at the end of the journal ("
                 << text->torn_why << "), left by a crash during an append";
    if (::ftruncate(fd, static_cast<off_t>(text->valid_bytes)) != 0 ||
        ::fdatasync(fd) != 0) {
      return fail(ErrnoError("cannot truncate the torn tail of", path));
    }
  }

  std::unique_ptr<Journal> journal(new Journal(path, fd, text->torn_lines));
  absl::MutexLock lock(&journal->mu_);
  for (size_t i = 0; i < text->records.size(); ++i) {
    if (absl::Status s = journal->Apply(text->records[i], nullptr); !s.ok()) {
      // Valid lines come first, so record i is on line i + 1.
      return absl::DataLossError(
          absl::StrCat(path, ":", i + 1, ": ", s.message()));
    }
  }
  return journal;
}

Journal::Journal(std::string path, int fd, int torn_lines)
    : path_(std::move(path)), fd_(fd), torn_lines_(torn_lines) {}

Journal::~Journal() { ::close(fd_); }

absl::Status Journal::Apply(const JournalRecord& record, bool* changed) {
  bool ignored;
  if (changed == nullptr) changed = &ignored;
  *changed = false;
  auto it = entries_.find(record.key);
  if (record.kind == JournalRecord::kWrite) {
    if (it == entries_.end()) {
      entries_.emplace(record.key, Entry{record.request});
      order_.push_back(record.key);
      *changed = true;
    } else if (Serialized(it->second.request) != Serialized(record.request)) {
      return absl::FailedPreconditionError(
          absl::StrCat("idempotency key '", record.key,
                       "' was journaled before for a different write"));
    }
    return absl::OkStatus();
  }
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "no write was journaled with idempotency key '", record.key, "'"));
  }
  Entry& entry = it->second;
  if (record.kind == JournalRecord::kAck) {
    if (entry.state == State::kAcked) return absl::OkStatus();
    entry.state = State::kAcked;
    entry.duplicate = record.duplicate;
  } else {
    if (entry.state != State::kPending) return absl::OkStatus();
    entry.state = State::kRefused;
  }
  *changed = true;
  return absl::OkStatus();
}

absl::Status Journal::Append(const JournalRecord& record, bool sync) {
  const std::string line = FormatJournalLine(record);
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n =
        ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const absl::Status error = ErrnoError("cannot append to", path_);
      // Leave no torn line for the next append to follow; if even that
      // fails, the next Open() drops it as a torn tail.
      if (before >= 0 && ::ftruncate(fd_, before) != 0) {
        LOG(ERROR) << "cannot remove a partial line from " << path_;
      }
      return error;
    }
    written += static_cast<size_t>(n);
  }
  if (sync && ::fdatasync(fd_) != 0) return ErrnoError("cannot sync", path_);
  return absl::OkStatus();
}

absl::Status Journal::ApplyAndAppend(const JournalRecord& record, bool sync) {
  absl::MutexLock lock(&mu_);
  // Appending before applying would journal a refused record; applying
  // first and undoing on a failed append keeps file and memory in step.
  std::optional<Entry> before;
  if (auto it = entries_.find(record.key); it != entries_.end()) {
    before = it->second;
  }
  bool changed = false;
  if (absl::Status s = Apply(record, &changed); !s.ok()) return s;
  if (!changed) return absl::OkStatus();
  absl::Status appended = Append(record, sync);
  if (!appended.ok()) {
    if (before.has_value()) {
      entries_[record.key] = *before;
    } else {
      entries_.erase(record.key);
      order_.pop_back();
    }
  }
  return appended;
}

absl::Status Journal::RecordWrite(const JournalRequest& request) {
  JournalRecord record;
  record.kind = JournalRecord::kWrite;
  record.request = request;
  record.key = RequestKey(request);
  if (record.key.empty()) {
    return absl::InvalidArgumentError(
        "a journaled write needs its idempotency key");
  }
  return ApplyAndAppend(record, /*sync=*/true);
}

absl::Status Journal::RecordAck(const std::string& key,
                                const v1::WriteReply& reply) {
  JournalRecord record;
  record.kind = JournalRecord::kAck;
  record.key = key;
  record.seq = reply.change().seq();
  record.duplicate = reply.duplicate();
  return ApplyAndAppend(record, /*sync=*/false);
}

absl::Status Journal::RecordRefusal(const std::string& key,
                                    const absl::Status& refusal) {
  JournalRecord record;
  record.kind = JournalRecord::kRefused;
  record.key = key;
  record.code = refusal.code();
  return ApplyAndAppend(record, /*sync=*/false);
}

std::vector<JournalRequest> Journal::Pending() const {
  absl::MutexLock lock(&mu_);
  std::vector<JournalRequest> pending;
  for (const std::string& key : order_) {
    const Entry& entry = entries_.at(key);
    if (entry.state == State::kPending) pending.push_back(entry.request);
  }
  return pending;
}

JournalSummary Journal::Summary() const {
  absl::MutexLock lock(&mu_);
  JournalSummary summary;
  for (const std::string& key : order_) {
    const Entry& entry = entries_.at(key);
    switch (entry.state) {
      case State::kPending:
        ++summary.pending;
        continue;
      case State::kRefused:
        ++summary.refused;
        continue;
      case State::kAcked:
        ++summary.acked;
        if (entry.duplicate) ++summary.duplicates;
        break;
    }
    if (const auto* award = std::get_if<v1::AwardMedalRequest>(&entry.request)) {
      MedalCount& count = summary.medals[award->team()];
      // An acknowledged revocation took one away.
      (award->medal() == v1::GOLD     ? count.gold
       : award->medal() == v1::SILVER ? count.silver
                                      : count.bronze) += award->revoke() ? -1 : 1;
    }
  }
  return summary;
}

std::string DescribeJournalSummary(const std::string& path,
                                   const JournalSummary& summary) {
  std::string text = absl::StrCat(
      "journal ", path, ": ", summary.acked, " writes acknowledged (",
      summary.duplicates, " already applied), ", summary.pending,
      " pending, ", summary.refused, " refused");
  for (const auto& [team, count] : summary.medals) {
    absl::StrAppend(&text, "\n", team, " gold=", count.gold,
                    " silver=", count.silver, " bronze=", count.bronze);
  }
  return text;
}

std::string JournalSummaryToJson(const JournalSummary& summary) {
  std::vector<std::string> medals;
  for (const auto& [team, count] : summary.medals) {
    medals.push_back(absl::StrCat(JsonQuote(team), ":{\"gold\":", count.gold,
                                  ",\"silver\":", count.silver,
                                  ",\"bronze\":", count.bronze, "}"));
  }
  return absl::StrCat("{\"acked\":", summary.acked,
                      ",\"duplicates\":", summary.duplicates,
                      ",\"pending\":", summary.pending,
                      ",\"refused\":", summary.refused, ",\"medals\":{",
                      absl::StrJoin(medals, ","), "}}");
}

}  // namespace podium
