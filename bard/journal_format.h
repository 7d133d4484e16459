// The lines of the bard's journal (bard/journal.h): formatting one record,
// parsing one line, and reading a whole journal's text with its torn tail.
// Kept apart from the file handling so that the format, the part that must
// stay readable by later bards, is tested on strings.
//
// UTF-8 text, one record a line, each ending in " #" and the 16 hex digits
// of the FNV-1a 64 hash (common/fnv.h) of what precedes it on the line:
//
//   write score <RecordScoreRequest, protobuf text format, one line> #H
//   write award <AwardMedalRequest, protobuf text format, one line> #H
//   ack <seq> new|duplicate <key, C-escaped> #H
//   refused <gRPC code name, e.g. NOT_FOUND> <key, C-escaped> #H
//
// The text format keeps the requests readable (`grep Gauls journal`) and
// lossless; the checksum tells a line torn by a crash (or garbage left by a
// power cut) from a record.
#ifndef PODIUM_BARD_JOURNAL_FORMAT_H_
#define PODIUM_BARD_JOURNAL_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podium/v1/backend.pb.h"

namespace podium {

using JournalRequest =
    std::variant<v1::RecordScoreRequest, v1::AwardMedalRequest>;

// The idempotency key of either kind of write.
const std::string& RequestKey(const JournalRequest& request);

struct JournalRecord {
  enum Kind { kWrite, kAck, kRefused };
  Kind kind = kWrite;
  JournalRequest request;  // kWrite, with its key
  std::string key;         // every kind
  int64_t seq = 0;         // kAck
  bool duplicate = false;  // kAck
  absl::StatusCode code = absl::StatusCode::kUnknown;  // kRefused
};

// One line, checksum and '\n' included.
std::string FormatJournalLine(const JournalRecord& record);
// One line without its '\n'. INVALID_ARGUMENT saying what is wrong.
absl::StatusOr<JournalRecord> ParseJournalLine(absl::string_view line);

struct JournalText {
  std::vector<JournalRecord> records;
  // The length of the valid prefix: the file is cut back to it.
  size_t valid_bytes = 0;
  // Invalid lines at the end (a torn append), the first one's 1-based
  // number and what is wrong with it.
  int torn_lines = 0;
  int first_torn_line = 0;
  std::string torn_why;
};

// Every valid line of `content` as a record. Invalid lines are tolerated at
// the end only, where an interrupted append leaves them; one followed by a
// valid line is DATA_LOSS naming `source`:LINE.
absl::StatusOr<JournalText> ParseJournalText(absl::string_view content,
                                             absl::string_view source);

}  // namespace podium

#endif  // PODIUM_BARD_JOURNAL_FORMAT_H_
