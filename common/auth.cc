#include "common/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace podium {
namespace {

constexpr absl::string_view kBearerScheme = "Bearer";

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^
            static_cast<unsigned char>(i < b.size() ? b[i] : 0);
  }
  return diff == 0;
}

}  // namespace

absl::StatusOr<std::string> ReadTokenFile(const std::string& path,
                                          absl::string_view flag) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no token file given: pass ", flag, "=PATH"));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read the token file '", path,
                                            "' (", flag, "): ", std::strerror(errno)));
  }
  std::string line;
  std::getline(in, line);
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the token file '", path, "' (", flag, ") is empty"));
  }
  return token;
}

absl::StatusOr<absl::string_view> BearerToken(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("no 'authorization: Bearer <token>' metadata");
  }
  absl::string_view value =
      absl::StripAsciiWhitespace(absl::string_view(it->second.data(), it->second.size()));
  // The scheme is case-insensitive (RFC 7235), then at least one space.
  if (value.size() <= kBearerScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kBearerScheme.size()), kBearerScheme) ||
      !absl::ascii_isspace(static_cast<unsigned char>(value[kBearerScheme.size()]))) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  return absl::StripLeadingAsciiWhitespace(value.substr(kBearerScheme.size()));
}

bool TokenMatches(absl::string_view given, absl::string_view expected) {
  return !expected.empty() && ConstantTimeEquals(given, expected);
}

absl::Status CreateTokenFileIfMissing(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("cannot create token file '", path,
                                            "': ", std::strerror(errno)));
  }
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 32; ++i) token.push_back(kHex[rd() % 16]);
  token.push_back('\n');
  ssize_t n = ::write(fd, token.data(), token.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(token.size())) {
    return absl::InternalError(
        absl::StrCat("cannot write token file '", path, "'"));
  }
  return absl::OkStatus();
}

absl::Status CheckBearerToken(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    const std::string& expected_token) {
  absl::StatusOr<absl::string_view> token = BearerToken(metadata);
  if (!token.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "writes need 'authorization: Bearer <token>' metadata (",
        token.status().message(), "); give the writer --write_token_file"));
  }
  if (!TokenMatches(*token, expected_token)) {
    return absl::PermissionDeniedError(
        "wrong write token: check that writer and backend use the same "
        "--write_token_file");
  }
  return absl::OkStatus();
}

void AddBearerToken(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata("authorization", absl::StrCat(kBearerScheme, " ", token));
}

}  // namespace podium
