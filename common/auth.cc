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

namespace podium {
namespace {

constexpr absl::string_view kBearerPrefix = "Bearer ";

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^
            static_cast<unsigned char>(i < b.size() ? b[i] : 0);
  }
  return diff == 0;
}

}  // namespace

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "no write token file given: pass --write_token_file=PATH");
  }
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read write token file '",
                                            path, "': ", std::strerror(errno)));
  }
  std::string line;
  std::getline(in, line);
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("write token file '", path, "' is empty"));
  }
  return token;
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
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "writes need 'authorization: Bearer <token>' metadata; give the "
        "writer --write_token_file");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWith(value, kBearerPrefix)) {
    return absl::UnauthenticatedError(
        "authorization metadata must be 'Bearer <token>'");
  }
  value.remove_prefix(kBearerPrefix.size());
  if (!ConstantTimeEquals(value, expected_token)) {
    return absl::PermissionDeniedError(
        "wrong write token: check that writer and backend use the same "
        "--write_token_file");
  }
  return absl::OkStatus();
}

void AddBearerToken(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata("authorization", absl::StrCat(kBearerPrefix, token));
}

}  // namespace podium
