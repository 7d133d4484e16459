#include "bard/journal_format.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/fnv.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace podium {
namespace {

// " #" and 16 hex digits end every line.
constexpr size_t kChecksumChars = 18;

// Collects the text-format parser's first complaint instead of letting it
// log, so a bad line becomes a status naming the line.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, int, const std::string& message) override {
    if (error.empty()) error = message;
  }
  std::string error;
};

template <typename Message>
absl::StatusOr<Message> ParseTextProto(absl::string_view text) {
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  Message message;
  if (!parser.ParseFromString(std::string(text), &message)) {
    return absl::InvalidArgumentError(absl::StrCat("bad request: ",
                                                   errors.error));
  }
  return message;
}

std::string TextProto(const google::protobuf::Message& message) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  std::string text;
  printer.PrintToString(message, &text);
  return std::string(absl::StripAsciiWhitespace(text));
}

bool ParseCode(absl::string_view name, absl::StatusCode* code) {
  for (int i = 0; i <= 16; ++i) {
    const auto candidate = static_cast<absl::StatusCode>(i);
    if (absl::StatusCodeToString(candidate) == name) {
      *code = candidate;
      return true;
    }
  }
  return false;
}

std::string FormatBody(const JournalRecord& record) {
  switch (record.kind) {
    case JournalRecord::kWrite:
      if (const auto* score =
              std::get_if<v1::RecordScoreRequest>(&record.request)) {
        return absl::StrCat("write score ", TextProto(*score));
      }
      return absl::StrCat(
          "write award ",
          TextProto(std::get<v1::AwardMedalRequest>(record.request)));
    case JournalRecord::kAck:
      return absl::StrCat("ack ", record.seq, " ",
                          record.duplicate ? "duplicate" : "new", " ",
                          absl::CEscape(record.key));
    case JournalRecord::kRefused:
      return absl::StrCat("refused ", absl::StatusCodeToString(record.code),
                          " ", absl::CEscape(record.key));
  }
  return "";
}

absl::Status ParseKey(absl::string_view text, std::string* key) {
  if (!absl::CUnescape(text, key) || key->empty()) {
    return absl::InvalidArgumentError("bad idempotency key");
  }
  return absl::OkStatus();
}

absl::StatusOr<JournalRecord> ParseWrite(absl::string_view rest) {
  JournalRecord record;
  record.kind = JournalRecord::kWrite;
  const std::vector<absl::string_view> words =
      absl::StrSplit(rest, absl::MaxSplits(' ', 1));
  if (words.size() != 2) {
    return absl::InvalidArgumentError("expected write score|award REQUEST");
  }
  if (words[0] == "score") {
    absl::StatusOr<v1::RecordScoreRequest> score =
        ParseTextProto<v1::RecordScoreRequest>(words[1]);
    if (!score.ok()) return score.status();
    record.request = *std::move(score);
  } else if (words[0] == "award") {
    absl::StatusOr<v1::AwardMedalRequest> award =
        ParseTextProto<v1::AwardMedalRequest>(words[1]);
    if (!award.ok()) return award.status();
    record.request = *std::move(award);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown kind of write '", words[0], "'"));
  }
  record.key = RequestKey(record.request);
  if (record.key.empty()) {
    return absl::InvalidArgumentError("write without an idempotency key");
  }
  return record;
}

absl::StatusOr<JournalRecord> ParseAck(absl::string_view rest) {
  JournalRecord record;
  record.kind = JournalRecord::kAck;
  const std::vector<absl::string_view> words =
      absl::StrSplit(rest, absl::MaxSplits(' ', 2));
  if (words.size() != 3 || !absl::SimpleAtoi(words[0], &record.seq) ||
      record.seq < 0 || (words[1] != "new" && words[1] != "duplicate")) {
    return absl::InvalidArgumentError("expected ack SEQ new|duplicate KEY");
  }
  record.duplicate = words[1] == "duplicate";
  if (absl::Status s = ParseKey(words[2], &record.key); !s.ok()) return s;
  return record;
}

absl::StatusOr<JournalRecord> ParseRefused(absl::string_view rest) {
  JournalRecord record;
  record.kind = JournalRecord::kRefused;
  const std::vector<absl::string_view> words =
      absl::StrSplit(rest, absl::MaxSplits(' ', 1));
  if (words.size() != 2 || !ParseCode(words[0], &record.code)) {
    return absl::InvalidArgumentError("expected refused CODE KEY");
  }
  if (absl::Status s = ParseKey(words[1], &record.key); !s.ok()) return s;
  return record;
}

absl::StatusOr<JournalRecord> ParseBody(absl::string_view body) {
  const size_t space = body.find(' ');
  if (space == absl::string_view::npos) {
    return absl::InvalidArgumentError("expected a verb and its fields");
  }
  const absl::string_view verb = body.substr(0, space);
  const absl::string_view rest = body.substr(space + 1);
  if (verb == "write") return ParseWrite(rest);
  if (verb == "ack") return ParseAck(rest);
  if (verb == "refused") return ParseRefused(rest);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown record '", verb, "'"));
}

}  // namespace

const std::string& RequestKey(const JournalRequest& request) {
  return std::visit(
      [](const auto& r) -> const std::string& { return r.idempotency_key(); },
      request);
}

std::string FormatJournalLine(const JournalRecord& record) {
  const std::string body = FormatBody(record);
  return absl::StrFormat("%s #%016x\n", body, Fnv1a64(body));
}

absl::StatusOr<JournalRecord> ParseJournalLine(absl::string_view line) {
  if (line.size() < kChecksumChars ||
      line.substr(line.size() - kChecksumChars, 2) != " #") {
    return absl::InvalidArgumentError("no checksum");
  }
  const absl::string_view body = line.substr(0, line.size() - kChecksumChars);
  if (line.substr(line.size() - 16) !=
      absl::StrFormat("%016x", Fnv1a64(body))) {
    return absl::InvalidArgumentError("checksum mismatch");
  }
  return ParseBody(body);
}

absl::StatusOr<JournalText> ParseJournalText(absl::string_view content,
                                             absl::string_view source) {
  JournalText text;
  int line_number = 0;
  for (size_t start = 0; start < content.size();) {
    ++line_number;
    const size_t newline = content.find('\n', start);
    const bool complete = newline != absl::string_view::npos;
    const size_t end = complete ? newline : content.size();
    absl::StatusOr<JournalRecord> record =
        complete ? ParseJournalLine(content.substr(start, end - start))
                 : absl::InvalidArgumentError("no newline at the end");
    if (record.ok()) {
      if (text.torn_lines > 0) {
        return absl::DataLossError(absl::StrCat(
            source, ":", text.first_torn_line, ": corrupt journal line (",
            text.torn_why, ") followed by valid ones"));
      }
      text.records.push_back(*std::move(record));
      text.valid_bytes = end + 1;
    } else if (text.torn_lines++ == 0) {
      text.first_torn_line = line_number;
      text.torn_why = std::string(record.status().message());
    }
    start = complete ? end + 1 : end;
  }
  return text;
}

}  // namespace podium
