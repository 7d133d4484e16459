// The bard's journal (bard/journal_format.h, bard/journal.h) on arbitrary
// bytes: what a crash, a power cut or a hand edit can leave in the file a
// restarted bard reads. Two layers:
//   - ParseJournalText: the valid prefix is no longer than the text, and
//     every record it yields, formatted again, parses back to the same line;
//   - Journal::Open on a file holding the bytes: opening, dropping a torn
//     tail and rebuilding the pending writes and summary, as `podium-bard
//     --journal` does on start. A journal it accepts opens a second time
//     with nothing torn.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bard/journal.h"
#include "bard/journal_format.h"
#include "fuzz/fuzz_check.h"

namespace {

std::string* journal_path = nullptr;

// One file for the whole run, in memory when /dev/shm exists: each input
// is written to it, so the run costs no disk.
void MakeJournalPath() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(dir != nullptr ? dir : "/tmp", "/podium-journal-fuzz-XXXXXX");
  const int fd = mkstemp(pattern.data());
  if (fd < 0) {
    std::perror("mkstemp");
    std::abort();
  }
  close(fd);
  journal_path = new std::string(pattern);
  std::atexit([] { unlink(journal_path->c_str()); });
}

void WriteFile(absl::string_view content) {
  const int fd = open(journal_path->c_str(), O_WRONLY | O_TRUNC);
  FUZZ_CHECK(fd >= 0, *journal_path);
  FUZZ_CHECK(write(fd, content.data(), content.size()) ==
                 static_cast<ssize_t>(content.size()),
             "short write");
  close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  podium::fuzz::QuietLogging();
  MakeJournalPath();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<podium::JournalText> text =
      podium::ParseJournalText(content, "fuzz.journal");
  if (text.ok()) {
    FUZZ_CHECK(text->valid_bytes <= content.size(), "valid prefix too long");
    FUZZ_CHECK((text->torn_lines == 0) == (text->valid_bytes == content.size()),
               absl::StrCat(text->torn_lines, " torn, ", text->valid_bytes, " of ",
                            content.size(), " valid"));
    for (const podium::JournalRecord& record : text->records) {
      const std::string line = podium::FormatJournalLine(record);
      FUZZ_CHECK(!line.empty() && line.back() == '\n' &&
                     line.find('\n') == line.size() - 1,
                 line);
      absl::StatusOr<podium::JournalRecord> again =
          podium::ParseJournalLine(absl::string_view(line).substr(0, line.size() - 1));
      FUZZ_CHECK_OK(again.status());
      FUZZ_CHECK(podium::FormatJournalLine(*again) == line, line);
    }
  } else {
    FUZZ_CHECK(text.status().code() == absl::StatusCode::kDataLoss,
               text.status().ToString());
  }

  WriteFile(content);
  absl::StatusOr<std::unique_ptr<podium::Journal>> journal =
      podium::Journal::Open(*journal_path);
  if (!journal.ok()) {
    FUZZ_CHECK(journal.status().code() == absl::StatusCode::kDataLoss,
               journal.status().ToString());
    return 0;
  }
  FUZZ_CHECK(text.ok(), "Open accepted what ParseJournalText refused");
  FUZZ_CHECK((*journal)->torn_lines() == text->torn_lines, "torn lines differ");
  const podium::JournalSummary summary = (*journal)->Summary();
  FUZZ_CHECK(static_cast<int64_t>((*journal)->Pending().size()) == summary.pending,
             podium::JournalSummaryToJson(summary));
  podium::DescribeJournalSummary(*journal_path, summary);
  journal->reset();
  // Open cut the torn tail away: what is left opens cleanly.
  journal = podium::Journal::Open(*journal_path);
  FUZZ_CHECK_OK(journal.status());
  FUZZ_CHECK((*journal)->torn_lines() == 0, "a torn tail survived Open");
  FUZZ_CHECK(podium::JournalSummaryToJson((*journal)->Summary()) ==
                 podium::JournalSummaryToJson(summary),
             "the summary changed on reopening");
  return 0;
}
