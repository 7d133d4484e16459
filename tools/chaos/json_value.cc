#include "tools/chaos/json_value.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace podium::chaos {

// Recursive descent over the text; depth is bounded so that a hostile
// line cannot overflow the stack.
class JsonParser {
 public:
  explicit JsonParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    absl::StatusOr<JsonValue> value = ParseValue(0);
    if (!value.ok()) return value;
    SkipSpace();
    if (pos_ != text_.size()) return Error("trailing characters");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 64;

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("bad JSON at byte ", pos_, ": ", what));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_])) ++pos_;
  }
  bool Consume(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::StatusOr<JsonValue> ParseValue(int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    SkipSpace();
    if (pos_ >= text_.size()) return Error("unexpected end");
    JsonValue value;
    const char c = text_[pos_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') {
      absl::StatusOr<std::string> text = ParseString();
      if (!text.ok()) return text.status();
      value.type_ = JsonValue::Type::kString;
      value.text_ = *std::move(text);
      return value;
    }
    if (Consume("true") || Consume("false")) {
      value.type_ = JsonValue::Type::kBool;
      value.boolean_ = c == 't';
      return value;
    }
    if (Consume("null")) return value;
    return ParseNumber();
  }

  absl::StatusOr<JsonValue> ParseNumber() {
    const size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < text_.size() && absl::ascii_isdigit(text_[pos_])) ++pos_;
      return pos_ > from;
    };
    if (!digits()) return Error("expected a value");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return Error("expected digits after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        ++pos_;
      }
      if (!digits()) return Error("expected an exponent");
    }
    JsonValue value;
    value.type_ = JsonValue::Type::kNumber;
    value.text_ = std::string(text_.substr(start, pos_ - start));
    return value;
  }

  static void AppendUtf8(uint32_t code, std::string* out) {
    if (code < 0x80) {
      out->push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (code >> 6)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (code >> 12)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (code >> 18)));
      out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  absl::StatusOr<uint32_t> ParseHex4() {
    if (pos_ + 4 > text_.size()) return Error("short \\u escape");
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      if (!absl::ascii_isxdigit(h)) return Error("bad \\u escape");
      code = code * 16 + static_cast<uint32_t>(
                             absl::ascii_isdigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10);
    }
    return code;
  }

  absl::StatusOr<std::string> ParseString() {
    ++pos_;  // the opening quote
    std::string out;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control character in a string");
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          absl::StatusOr<uint32_t> code = ParseHex4();
          if (!code.ok()) return code.status();
          uint32_t point = *code;
          if (point >= 0xD800 && point < 0xDC00 && Consume("\\u")) {
            absl::StatusOr<uint32_t> low = ParseHex4();
            if (!low.ok()) return low.status();
            if (*low < 0xDC00 || *low > 0xDFFF) return Error("bad surrogate");
            point = 0x10000 + ((point - 0xD800) << 10) + (*low - 0xDC00);
          }
          AppendUtf8(point, &out);
          break;
        }
        default:
          return Error("bad escape");
      }
    }
    return Error("unterminated string");
  }

  absl::StatusOr<JsonValue> ParseArray(int depth) {
    ++pos_;
    JsonValue value;
    value.type_ = JsonValue::Type::kArray;
    SkipSpace();
    if (Consume("]")) return value;
    for (;;) {
      absl::StatusOr<JsonValue> item = ParseValue(depth + 1);
      if (!item.ok()) return item;
      value.items_.push_back(*std::move(item));
      SkipSpace();
      if (Consume("]")) return value;
      if (!Consume(",")) return Error("expected ',' or ']'");
    }
  }

  absl::StatusOr<JsonValue> ParseObject(int depth) {
    ++pos_;
    JsonValue value;
    value.type_ = JsonValue::Type::kObject;
    SkipSpace();
    if (Consume("}")) return value;
    for (;;) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return Error("expected a member name");
      }
      absl::StatusOr<std::string> name = ParseString();
      if (!name.ok()) return name.status();
      SkipSpace();
      if (!Consume(":")) return Error("expected ':'");
      absl::StatusOr<JsonValue> item = ParseValue(depth + 1);
      if (!item.ok()) return item;
      value.keys_.push_back(*std::move(name));
      value.items_.push_back(*std::move(item));
      SkipSpace();
      if (Consume("}")) return value;
      if (!Consume(",")) return Error("expected ',' or '}'");
    }
  }

  const absl::string_view text_;
  size_t pos_ = 0;
};

absl::StatusOr<JsonValue> JsonValue::Parse(absl::string_view text) {
  return JsonParser(text).ParseDocument();
}

const JsonValue* JsonValue::Find(absl::string_view name) const {
  if (type_ != Type::kObject) return nullptr;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == name) return &items_[i];
  }
  return nullptr;
}

absl::StatusOr<std::string> JsonValue::AsString() const {
  if (type_ != Type::kString) {
    return absl::InvalidArgumentError("not a string");
  }
  return text_;
}

absl::StatusOr<bool> JsonValue::AsBool() const {
  if (type_ != Type::kBool) return absl::InvalidArgumentError("not a boolean");
  return boolean_;
}

absl::StatusOr<int64_t> JsonValue::AsInt64() const {
  int64_t value = 0;
  if (type_ != Type::kNumber || !absl::SimpleAtoi(text_, &value)) {
    return absl::InvalidArgumentError("not an integer");
  }
  return value;
}

absl::StatusOr<int64_t> MemberInt64(const JsonValue& object, absl::string_view name) {
  const JsonValue* member = object.Find(name);
  if (member == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("no \"", name, "\""));
  }
  absl::StatusOr<int64_t> value = member->AsInt64();
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is ", value.status().message()));
  }
  return value;
}

absl::StatusOr<std::string> MemberString(const JsonValue& object, absl::string_view name) {
  const JsonValue* member = object.Find(name);
  if (member == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("no \"", name, "\""));
  }
  absl::StatusOr<std::string> value = member->AsString();
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is ", value.status().message()));
  }
  return value;
}

}  // namespace podium::chaos
